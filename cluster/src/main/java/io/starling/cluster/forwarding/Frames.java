package io.starling.cluster.forwarding;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The framing of node-to-node links: {@code int length, byte kind, ...}. A link carries one-way
 * messages and requests from the connecting node, and responses back to it, each tagged with a
 * channel byte that says which service handles the body.
 */
final class Frames {
    static final byte HELLO = 1;
    static final byte SEND = 2;
    static final byte REQUEST = 3;
    static final byte RESPONSE = 4;

    static final byte OK = 0;
    static final byte FAILED = 1;

    /** Frames larger than this are a bug or a foreign peer; the link is closed. */
    static final int MAX_FRAME = 300 * 1024 * 1024;

    private Frames() {
    }

    static Buffer hello(String nodeId) {
        byte[] id = nodeId.getBytes(StandardCharsets.UTF_8);
        return Buffer.buffer(5 + id.length).appendInt(1 + id.length).appendByte(HELLO).appendBytes(id);
    }

    static Buffer send(byte channel, Buffer body) {
        return Buffer.buffer(6 + body.length()).appendInt(2 + body.length()).appendByte(SEND).appendByte(channel)
                .appendBuffer(body);
    }

    static Buffer request(long id, byte channel, Buffer body) {
        return Buffer.buffer(14 + body.length()).appendInt(10 + body.length()).appendByte(REQUEST).appendLong(id)
                .appendByte(channel).appendBuffer(body);
    }

    static Buffer response(long id, byte status, Buffer body) {
        return Buffer.buffer(14 + body.length()).appendInt(10 + body.length()).appendByte(RESPONSE).appendLong(id)
                .appendByte(status).appendBuffer(body);
    }

    /** Splits a byte stream into frames (each without its length prefix); not thread-safe. */
    static final class Parser {
        private final Consumer<Buffer> frames;
        private Buffer pending = Buffer.buffer();

        Parser(Consumer<Buffer> frames) {
            this.frames = frames;
        }

        void feed(Buffer data) {
            Buffer buf = pending.length() == 0 ? data : pending.appendBuffer(data);
            int pos = 0;
            int end = buf.length();
            while (end - pos >= 4) {
                int len = buf.getInt(pos);
                if (len <= 0 || len > MAX_FRAME) {
                    throw new IllegalStateException("bad frame length " + len);
                }
                if (end - pos - 4 < len) {
                    break;
                }
                frames.accept(buf.getBuffer(pos + 4, pos + 4 + len));
                pos += 4 + len;
            }
            pending = pos == end ? Buffer.buffer() : buf.getBuffer(pos, end);
        }
    }
}
