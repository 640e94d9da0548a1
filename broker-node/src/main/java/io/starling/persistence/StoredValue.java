package io.starling.persistence;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * A key's value as the store holds it: a CRC32C of the rest, the version, and either the value or,
 * for a removal, the wall-clock time it was removed (tombstones are swept once old enough).
 * RocksDB checksums its blocks; this checksum also catches a value damaged before it reached
 * RocksDB or by a bug of ours, and names the key.
 */
public record StoredValue(long version, byte[] value, long removedAtMillis) {
    private static final int HEADER = 4 + 8 + 1;
    private static final byte VALUE = 0;
    private static final byte TOMBSTONE = 1;

    public boolean isTombstone() {
        return value == null;
    }

    byte[] encode() {
        byte[] out = new byte[HEADER + (value == null ? 8 : value.length)];
        ByteBuffer b = ByteBuffer.wrap(out, 4, out.length - 4).putLong(version);
        if (value == null) {
            b.put(TOMBSTONE).putLong(removedAtMillis);
        } else {
            b.put(VALUE).put(value);
        }
        ByteBuffer.wrap(out).putInt(crc(out));
        return out;
    }

    /** The stored form decoded, or null where it fails its checksum or is too short to be one. */
    static StoredValue decode(byte[] stored) {
        if (stored.length < HEADER || ByteBuffer.wrap(stored).getInt() != crc(stored)) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(stored, 4, stored.length - 4);
        long version = b.getLong();
        byte kind = b.get();
        if (kind == TOMBSTONE && b.remaining() == 8) {
            return new StoredValue(version, null, b.getLong());
        }
        if (kind != VALUE) {
            return null;
        }
        byte[] value = new byte[b.remaining()];
        b.get(value);
        return new StoredValue(version, value, 0);
    }

    /** The version of a stored form without copying its value, or -1 if it fails its checksum. */
    static long versionOf(byte[] stored) {
        if (stored.length < HEADER || ByteBuffer.wrap(stored).getInt() != crc(stored)) {
            return -1;
        }
        return ByteBuffer.wrap(stored, 4, 8).getLong();
    }

    private static int crc(byte[] stored) {
        CRC32C c = new CRC32C();
        c.update(stored, 4, stored.length - 4);
        return (int) c.getValue();
    }
}
