package io.starling.cluster.forwarding;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/** Strings in the bodies of node-to-node frames: {@code int length} then UTF-8, read at a moving position. */
public final class WireStrings {
    private WireStrings() {
    }

    public static void append(Buffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.appendInt(bytes.length).appendBytes(bytes);
    }

    /** Reads the string at {@code pos[0]} and moves {@code pos[0]} past it. */
    public static String read(Buffer b, int[] pos) {
        int len = b.getInt(pos[0]);
        String s = new String(b.getBytes(pos[0] + 4, pos[0] + 4 + len), StandardCharsets.UTF_8);
        pos[0] += 4 + len;
        return s;
    }
}
