package io.starling.protocol;

import io.vertx.core.buffer.Buffer;

/**
 * Reads the data representations of spec 1.5 from one packet's bytes in a {@link Buffer}, between a
 * position and a limit. Running past the limit is a Malformed Packet: the field does not fit in the
 * Remaining Length (spec 2.1.4). One instance per decoder; not thread-safe.
 */
final class WireReader {
    /** Rule cited when a field is cut off by, or bytes are left over before, the end of the packet. */
    static final String LENGTH_RULE = "2.1.4";

    private static final int MAX_STRING = 65_535;

    private Buffer buf;
    private int pos;
    private int limit;
    /** Reused for string bytes, so that a string costs only the String itself. */
    private byte[] scratch = new byte[256];

    void reset(Buffer buffer, int start, int end) {
        this.buf = buffer;
        this.pos = start;
        this.limit = end;
    }

    /** Drops the reference to the last packet's buffer. */
    void release() {
        this.buf = null;
    }

    int position() {
        return pos;
    }

    int limit() {
        return limit;
    }

    void limit(int newLimit) {
        this.limit = newLimit;
    }

    int remaining() {
        return limit - pos;
    }

    boolean hasRemaining() {
        return pos < limit;
    }

    private void require(int n, String field) throws ProtocolViolation {
        if (limit - pos < n) {
            throw ProtocolViolation.malformed(LENGTH_RULE, "the packet ends inside the " + field);
        }
    }

    /** A Byte (1.5.1), unsigned. */
    int readByte(String field) throws ProtocolViolation {
        require(1, field);
        return buf.getUnsignedByte(pos++);
    }

    /** A Two Byte Integer (1.5.2). */
    int readShort(String field) throws ProtocolViolation {
        require(2, field);
        int v = buf.getUnsignedShort(pos);
        pos += 2;
        return v;
    }

    /** A Four Byte Integer (1.5.3), unsigned. */
    long readInt(String field) throws ProtocolViolation {
        require(4, field);
        long v = buf.getUnsignedInt(pos);
        pos += 4;
        return v;
    }

    /** A Variable Byte Integer (1.5.5), at most four bytes [MQTT-1.5.5-1]. */
    int readVbi(String field) throws ProtocolViolation {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int b = readByte(field);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    // [MQTT-1.5.5-1] the minimum number of bytes: a last byte of 0 adds nothing.
                    throw ProtocolViolation.malformed("MQTT-1.5.5-1", "the " + field + " is not in its shortest encoding");
                }
                return value;
            }
        }
        throw ProtocolViolation.malformed("MQTT-1.5.5-1", "the " + field + " is a Variable Byte Integer of more than 4 bytes");
    }

    /** A UTF-8 Encoded String (1.5.4), strictly validated. */
    String readString(String field) throws ProtocolViolation {
        int len = readShort(field);
        require(len, field);
        if (scratch.length < len) {
            scratch = new byte[Math.min(MAX_STRING, Math.max(len, scratch.length * 2))];
        }
        buf.getBytes(pos, pos + len, scratch, 0);
        pos += len;
        return Utf8.decode(scratch, 0, len, field);
    }

    /** Binary Data (1.5.6). */
    byte[] readBinary(String field) throws ProtocolViolation {
        return readBytes(readShort(field), field);
    }

    /** {@code n} raw bytes, copied once. */
    byte[] readBytes(int n, String field) throws ProtocolViolation {
        require(n, field);
        byte[] out = n == 0 ? EMPTY_BYTES : buf.getBytes(pos, pos + n);
        pos += n;
        return out;
    }

    /** Every byte of the packet must have been used (spec 2.1.4). */
    void expectEnd(String what) throws ProtocolViolation {
        if (pos != limit) {
            throw ProtocolViolation.malformed(LENGTH_RULE, (limit - pos) + " unexpected byte(s) at the end of the " + what);
        }
    }

    private static final byte[] EMPTY_BYTES = new byte[0];
}
