package io.starling.loadtest;

import java.nio.ByteBuffer;

/**
 * The first {@value #SIZE} bytes of every payload, big-endian: publisher index (int), sequence
 * number (long, from 0 per publisher), send timestamp (long, epoch nanoseconds from
 * {@link EpochClock}; for a fixed-rate run the scheduled send time, not the actual one, so a
 * stalled sender does not hide latency). The rest of the payload is zero padding. Receivers need
 * nothing else to check ordering, loss and duplication and to measure latency, whatever broker
 * carried the message.
 */
public record PayloadHeader(int publisher, long sequence, long sentEpochNanos) {
    public static final int SIZE = 4 + 8 + 8;

    /** A payload of {@code size} bytes (at least {@link #SIZE}) starting with this header. */
    public byte[] toPayload(int size) {
        if (size < SIZE) {
            throw new IllegalArgumentException("payload of " + size + " bytes cannot hold the " + SIZE + "-byte header");
        }
        byte[] b = new byte[size];
        ByteBuffer.wrap(b).putInt(publisher).putLong(sequence).putLong(sentEpochNanos);
        return b;
    }

    /** @return the header at the start of a payload, or null when the payload is too short to hold one */
    public static PayloadHeader read(byte[] payload) {
        if (payload == null || payload.length < SIZE) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(payload);
        return new PayloadHeader(b.getInt(), b.getLong(), b.getLong());
    }
}
