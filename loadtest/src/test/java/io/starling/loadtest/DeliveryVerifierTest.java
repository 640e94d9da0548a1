package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.loadtest.DeliveryVerifier.Outcome;
import org.junit.jupiter.api.Test;

class DeliveryVerifierTest {

    @Test
    void lostDuplicatesAndOutOfOrderPerStream() {
        DeliveryVerifier v = DeliveryVerifier.independent(2);
        DeliveryVerifier.Receiver r = v.addReceiver(0, 1);
        assertEquals(Outcome.NEW, r.onMessage(0, 0));
        assertEquals(Outcome.NEW, r.onMessage(0, 2));
        assertEquals(Outcome.OUT_OF_ORDER, r.onMessage(0, 1));
        assertEquals(Outcome.DUPLICATE, r.onMessage(0, 2));
        assertEquals(Outcome.DUPLICATE, r.onMessage(0, 1)); // a duplicate, not out of order again
        // Publisher 1's stream is separate: its 0 after publisher 0's 2 is in order.
        assertEquals(Outcome.NEW, r.onMessage(1, 0));
        assertEquals(Outcome.FOREIGN, r.onMessage(7, 0));

        long[] sent = {4, 2};
        assertFalse(v.complete(sent));
        DeliveryVerifier.Totals t = v.totals(sent);
        assertEquals(6, t.expected());
        assertEquals(6, t.received()); // deliveries, duplicates included, foreign excluded
        assertEquals(2, t.lost());     // publisher 0's 3, publisher 1's 1
        assertEquals(2, t.duplicates());
        assertEquals(1, t.outOfOrder());
        assertEquals(1, t.foreign());
    }

    @Test
    void everyReceiverOfAFanOutMustGetEveryMessage() {
        DeliveryVerifier v = DeliveryVerifier.independent(1);
        DeliveryVerifier.Receiver a = v.addReceiver(0);
        DeliveryVerifier.Receiver b = v.addReceiver(0);
        for (int s = 0; s < 10; s++) {
            a.onMessage(0, s);
            if (s != 5) {
                b.onMessage(0, s);
            }
        }
        long[] sent = {10};
        assertFalse(v.complete(sent));
        DeliveryVerifier.Totals t = v.totals(sent);
        assertEquals(20, t.expected());
        assertEquals(19, t.received());
        assertEquals(1, t.lost());
        b.onMessage(0, 5);
        assertTrue(v.complete(sent));
        assertEquals(1, v.totals(sent).outOfOrder());
    }

    @Test
    void sharedGroupCountsEachMessageOnceAcrossMembers() {
        DeliveryVerifier v = DeliveryVerifier.sharedGroup(2);
        DeliveryVerifier.Receiver a = v.addReceiver(0, 1);
        DeliveryVerifier.Receiver b = v.addReceiver(0, 1);
        // Split between the members, interleaved: no loss, no duplicate, and not out of order
        // (each member sees an increasing subsequence).
        for (int s = 0; s < 10; s++) {
            (s % 2 == 0 ? a : b).onMessage(0, s);
            (s % 3 == 0 ? a : b).onMessage(1, s);
        }
        long[] sent = {10, 10};
        assertTrue(v.complete(sent));
        DeliveryVerifier.Totals t = v.totals(sent);
        assertEquals(20, t.expected());
        assertEquals(20, t.received());
        assertEquals(0, t.lost());
        assertEquals(0, t.duplicates());
        assertEquals(0, t.outOfOrder());

        // The same message to two members is a duplicate; one no member got is lost.
        assertEquals(Outcome.DUPLICATE, b.onMessage(0, 0));
        long[] more = {11, 10};
        DeliveryVerifier.Totals t2 = v.totals(more);
        assertEquals(1, t2.duplicates());
        assertEquals(1, t2.lost());
        assertEquals(21, t2.expected());
        // b's 10 is in order although a saw 8 earlier: order is judged per member.
        assertEquals(Outcome.NEW, b.onMessage(0, 10));
        DeliveryVerifier.Totals t3 = v.totals(more);
        assertEquals(0, t3.lost());
        assertEquals(0, t3.outOfOrder());
    }

    @Test
    void sharedGroupOutOfOrderWithinOneMember() {
        DeliveryVerifier v = DeliveryVerifier.sharedGroup(1);
        DeliveryVerifier.Receiver a = v.addReceiver(0);
        DeliveryVerifier.Receiver b = v.addReceiver(0);
        a.onMessage(0, 0);
        b.onMessage(0, 3);
        a.onMessage(0, 2);
        assertEquals(Outcome.OUT_OF_ORDER, a.onMessage(0, 1));
        assertEquals(1, v.totals(new long[]{4}).outOfOrder());
    }
}
