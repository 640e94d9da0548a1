package io.starling.session;

import io.starling.routing.Acceptance;
import io.starling.routing.Delivery;
import io.starling.routing.PublishRefused;
import java.util.ArrayDeque;

/**
 * Publishers' acknowledgements one session holds back while its queue is past
 * mqtt.max-queued-messages and its client is (or is about to be) reading: backpressure instead of
 * loss. A held delivery's acceptance completes only when both its usual path has accepted it
 * (journaled, where the session is) and the queue has room again. Oldest first. Confined to the
 * session's context.
 */
final class HeldAcknowledgements {
    private final ArrayDeque<Acceptance> held = new ArrayDeque<>(0);

    /** The delivery with an acceptance that also waits for {@link #release}. */
    Delivery hold(Delivery d) {
        Acceptance gate = new Acceptance();
        gate.expect(); // the usual path
        gate.expect(); // the release
        Delivery original = d;
        gate.sealed().onComplete(ar -> {
            if (ar.succeeded()) {
                original.accepted();
            } else {
                original.refused((PublishRefused) ar.cause());
            }
        });
        held.add(gate);
        return d.withAcceptance(gate);
    }

    /** Lets held acknowledgements go: all when {@code all}, else while the queue is under its limit. */
    void release(int queued, int max, boolean all) {
        while (!held.isEmpty() && (all || queued < max + held.size())) {
            held.poll().done();
        }
    }

    int size() {
        return held.size();
    }
}
