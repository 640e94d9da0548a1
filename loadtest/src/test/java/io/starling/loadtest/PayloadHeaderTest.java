package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PayloadHeaderTest {

    @Test
    void roundTripWithPadding() {
        long now = EpochClock.nowEpochNanos();
        PayloadHeader h = new PayloadHeader(123_456, 9_876_543_210L, now);
        byte[] payload = h.toPayload(64);
        assertEquals(64, payload.length);
        assertEquals(h, PayloadHeader.read(payload));
        for (int i = PayloadHeader.SIZE; i < payload.length; i++) {
            assertEquals(0, payload[i]);
        }
    }

    @Test
    void layoutIsBigEndianIntLongLong() {
        byte[] p = new PayloadHeader(1, 2, 3).toPayload(PayloadHeader.SIZE);
        assertEquals(20, p.length);
        assertEquals(1, p[3]);
        assertEquals(2, p[11]);
        assertEquals(3, p[19]);
    }

    @Test
    void tooShort() {
        assertNull(PayloadHeader.read(new byte[19]));
        assertNull(PayloadHeader.read(null));
        assertThrows(IllegalArgumentException.class, () -> new PayloadHeader(0, 0, 0).toPayload(19));
    }

    @Test
    void clockIsEpochAnchoredAndMonotonic() {
        long a = EpochClock.nowEpochNanos();
        long b = EpochClock.nowEpochNanos();
        assertTrue(b >= a);
        long wall = System.currentTimeMillis() * 1_000_000L;
        assertTrue(Math.abs(a - wall) < 5_000_000_000L, "within seconds of the wall clock");
    }
}
