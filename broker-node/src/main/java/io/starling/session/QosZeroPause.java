package io.starling.session;

import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

/**
 * Backpressure for one QoS 0 publisher, which has no acknowledgement to hold back: its connection
 * stops being read until the subscriber it floods has drained its backlog and wakes it (one
 * publisher at a time, see {@link SubscriberBacklog}), instead of reading, routing and then
 * dropping what it sends. A paused publisher's TCP window closes, so a client that writes flat out
 * is held to what its subscribers take. A subscriber that stops writing holds nobody back for more
 * than a second, and the pause is re-checked every {@link #CHECK_MILLIS}. Confined to the
 * publisher's connection's context.
 */
final class QosZeroPause {
    private static final long CHECK_MILLIS = 50;

    private final Vertx vertx;
    private final ContextInternal context;
    private final InputGate gate;
    /** Tells a pause's ends (its turn came, the timer) from those of an earlier pause. */
    private long generation;
    private long timer = -1;

    QosZeroPause(Vertx vertx, ContextInternal context, InputGate gate) {
        this.vertx = vertx;
        this.context = context;
        this.gate = gate;
    }

    /** The publish just routed filled {@code congested}'s backlog: stop reading until it drains. */
    void pauseFor(io.starling.routing.Backlog congested) {
        if (gate.closedFor(InputGate.QOS0_PAUSE)) {
            return;
        }
        gate.close(InputGate.QOS0_PAUSE);
        long g = ++generation;
        arm(congested, g);
        congested.whenDrained(() -> context.runOnContext(v -> end(g)));
    }

    private void arm(io.starling.routing.Backlog congested, long g) {
        timer = vertx.setTimer(CHECK_MILLIS, t -> {
            timer = -1;
            if (g == generation && gate.closedFor(InputGate.QOS0_PAUSE) && congested.congested()
                    && congested.holdsPublishers()) {
                arm(congested, g); // still its turn to wait
            } else {
                end(g);
            }
        });
    }

    private void end(long g) {
        if (g != generation || !gate.closedFor(InputGate.QOS0_PAUSE)) {
            return;
        }
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        gate.open(InputGate.QOS0_PAUSE);
    }
}
