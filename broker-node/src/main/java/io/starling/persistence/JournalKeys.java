package io.starling.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Keys of a session's records in the store: its record by client id ({@link Family#SESSIONS}),
 * its entries by client id and sequence ({@link Family#ENTRIES}). A client id never contains
 * U+0000 [MQTT-1.5.4-2], so a 0 byte ends it, and all of one session's entries are one key range
 * in sequence order (the sign bit flipped: the negative sequences of inbound QoS 2 ids come first).
 */
public final class JournalKeys {
    private JournalKeys() {
    }

    public static byte[] session(String clientId) {
        return clientId.getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] entry(String clientId, long seq) {
        byte[] id = session(clientId);
        return ByteBuffer.allocate(id.length + 9).put(id).put((byte) 0).putLong(seq ^ Long.MIN_VALUE).array();
    }

    /** The first key of a session's entries; {@link #entriesEnd} is the first key after them. */
    public static byte[] entriesStart(String clientId) {
        byte[] id = session(clientId);
        return ByteBuffer.allocate(id.length + 1).put(id).put((byte) 0).array();
    }

    public static byte[] entriesEnd(String clientId) {
        byte[] id = session(clientId);
        return ByteBuffer.allocate(id.length + 1).put(id).put((byte) 1).array();
    }

    public static String clientIdOf(byte[] entryKey) {
        return new String(entryKey, 0, entryKey.length - 9, StandardCharsets.UTF_8);
    }

    public static long seqOf(byte[] entryKey) {
        return ByteBuffer.wrap(entryKey, entryKey.length - 8, 8).getLong() ^ Long.MIN_VALUE;
    }
}
