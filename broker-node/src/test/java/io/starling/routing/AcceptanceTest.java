package io.starling.routing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Properties;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

/**
 * What a publisher's PUBACK/PUBREC waits for (issue 3): only once no more deliveries can be added
 * and every delivery made has been accepted by its session may the acknowledgement go.
 */
class AcceptanceTest {
    static Delivery delivery(Acceptance a) {
        Message m = new Message("t", new byte[0], 1, false, Properties.EMPTY, 0, "publisher", 0);
        a.expect();
        return new Delivery(m, 1, false, Delivery.NO_IDS, null).withAcceptance(a);
    }

    @Test
    void completesOnlyAfterSealedAndEveryDeliveryAccepted() {
        Acceptance a = new Acceptance();
        Delivery first = delivery(a);
        Delivery second = delivery(a);
        first.accepted();
        Future<Void> done = a.sealed();
        assertFalse(done.isComplete(), "the second session has not kept its copy yet");
        second.accepted();
        assertTrue(done.succeeded());
    }

    @Test
    void deliveriesAcceptedBeforeSealingDoNotCompleteIt() {
        // The router may still hand the message to more sessions until it seals the acceptance.
        Acceptance a = new Acceptance();
        Delivery only = delivery(a);
        only.accepted();
        Delivery late = delivery(a);
        Future<Void> done = a.sealed();
        assertFalse(done.isComplete(), "a delivery made after the first was accepted still counts");
        late.accepted();
        assertTrue(done.succeeded());
    }

    @Test
    void sealingAfterEveryDeliveryWasAcceptedCompletesAtOnce() {
        Acceptance a = new Acceptance();
        delivery(a).accepted();
        delivery(a).accepted();
        // Until sealed() the count stays above zero, however many deliveries were accepted.
        assertTrue(a.sealed().succeeded());
    }

    @Test
    void aSealedAcceptanceWithNoDeliveriesCompletesAtOnce() {
        // A publish no session on this node wanted: nothing to wait for.
        assertTrue(new Acceptance().sealed().succeeded());
    }

    @Test
    void acceptingADeliveryWithoutAcceptanceDoesNothing() {
        Message m = new Message("t", new byte[0], 1, false, Properties.EMPTY, 0, "publisher", 0);
        new Delivery(m, 1, false, Delivery.NO_IDS, null).accepted(); // no publisher waits: must not throw
    }

    @Test
    void copiesOfADeliveryKeepItsAcceptance() {
        // A delivery is copied when it gets its sequence number; the copy must still count.
        Acceptance a = new Acceptance();
        Delivery d = delivery(a).withSeq(42);
        Future<Void> done = a.sealed();
        assertFalse(done.isComplete());
        d.accepted();
        assertTrue(done.succeeded());
    }
}
