package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A client's publish allowance: a second's burst, then the rate; debt paid by waiting; QoS 0 refused only past a second's debt. */
class InboundRateTest {
    static final long SECOND = 1_000_000_000L;
    static final long T = 100 * SECOND;

    @Test
    void noRatesNoAllowanceToKeep() {
        assertNull(InboundRate.of(0, 0));
    }

    @Test
    void aSecondsWorthAtOnceThenTheClientOwes() {
        InboundRate r = InboundRate.of(10, 0);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, r.take(100, T, false), "publish " + i + " of the burst");
        }
        assertEquals(SECOND / 10, r.take(100, T, false), "the 11th leaves it a tenth of a second behind");
        assertEquals(SECOND / 20, r.owed(T + SECOND / 20));
        assertEquals(0, r.owed(T + SECOND / 10), "paid by waiting");
        assertEquals(InboundRate.Limit.MESSAGES, r.over());
    }

    @Test
    void qosZeroIsRefusedOnlyPastASecondOfDebtAndQos1NeverIs() {
        InboundRate r = InboundRate.of(10, 0);
        for (int i = 0; i < 20; i++) {
            assertTrue(r.take(1, T, false) >= 0, "publish " + i + ": burst and then one second of debt");
        }
        assertTrue(r.take(1, T, false) >= 0, "exactly a second behind is not past it");
        assertEquals(-1, r.take(1, T, false), "QoS 0 past a second behind");
        long owed = r.owed(T);
        assertTrue(r.take(1, T, true) > owed, "QoS 1/2 is taken and adds to the debt");
        assertEquals(0, r.take(1, T + 3 * SECOND, false), "within again once paid");
    }

    @Test
    void idleTimeFillsOneSecondsWorthNotMore() {
        InboundRate r = InboundRate.of(5, 0);
        long later = T + 3600 * SECOND;
        for (int i = 0; i < 5; i++) {
            assertEquals(0, r.take(1, later, false));
        }
        assertTrue(r.take(1, later, false) > 0);
    }

    @Test
    void bytesAreCountedAndAPublishLargerThanASecondsWorthStillPassesOnce() {
        InboundRate r = InboundRate.of(0, 1000);
        assertEquals(0, r.take(400, T, false));
        assertEquals(0, r.take(600, T, false));
        assertEquals(SECOND / 2, r.take(500, T, false), "500 bytes over: half a second behind");
        assertEquals(InboundRate.Limit.BYTES, r.over());

        InboundRate big = InboundRate.of(0, 1000);
        assertEquals(SECOND, big.take(2000, T, false), "a full bucket takes a publish twice its size, then owes");
        assertTrue(big.take(1, T, false) > SECOND, "a second behind exactly: still taken");
        assertEquals(-1, big.take(1, T, false), "past a second behind: QoS 0 refused");
    }

    @Test
    void theBucketFurtherBehindIsTheOneNamed() {
        InboundRate r = InboundRate.of(100, 1000);
        assertEquals(SECOND, r.take(2000, T, false));
        assertEquals(InboundRate.Limit.BYTES, r.over());
        InboundRate m = InboundRate.of(1, 1_000_000);
        m.take(1, T, false);
        assertEquals(SECOND, m.take(1, T, false));
        assertEquals(InboundRate.Limit.MESSAGES, m.over());
    }
}
