package io.starling.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.starling.config.BrokerConfig;
import org.junit.jupiter.api.Test;

/** The node's connection limits: a token bucket of one second's worth, and a cap on open connections. */
class AdmissionTest {
    static final long SECOND = 1_000_000_000L;

    @Test
    void aBurstOfOneSecondsWorthThenTheRate() {
        Admission a = new Admission(new BrokerConfig.Limits(0, 10, 65_535, 0, 0));
        long t = 100 * SECOND;
        for (int i = 0; i < 10; i++) {
            assertNull(a.admit(t), "connection " + i + " of the burst");
        }
        assertEquals("connect-rate", a.admit(t));
        assertEquals("connect-rate", a.admit(t + SECOND / 20), "half a token later");
        assertNull(a.admit(t + SECOND / 10), "a token later");
        assertEquals("connect-rate", a.admit(t + SECOND / 10));
        // Idle for a minute: the bucket holds one second's worth, not a minute's.
        long later = t + 60 * SECOND;
        for (int i = 0; i < 10; i++) {
            assertNull(a.admit(later));
        }
        assertEquals("connect-rate", a.admit(later));
    }

    @Test
    void atMostMaxConnectionsOpen() {
        Admission a = new Admission(new BrokerConfig.Limits(2, 0, 65_535, 0, 0));
        assertNull(a.admit(0));
        assertNull(a.admit(0));
        assertEquals("max-connections", a.admit(0));
        a.closed();
        assertNull(a.admit(0));
        assertEquals(2, a.open());
    }
}
