package io.starling.session;

import io.starling.protocol.Packet;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A PUBLISH or SUBSCRIBE that needs the HTTP hook's answer, and every packet of the connection
 * after it, held in order with input paused, then handled again once the answer is known. Holding
 * the later packets too is what keeps a client's publishes in order [MQTT-4.6.0-6]: one whose
 * topic's answer is kept would otherwise overtake the one that waits. Confined to the connection's
 * context, like the protocol it serves.
 */
final class AuthorizationWait {
    private final InputGate input;
    private final Consumer<Runnable> onContext;
    private final ArrayDeque<Packet> held = new ArrayDeque<>(0);
    private boolean waiting;
    /** The held packet that asked: counted and rate-charged already, so not again. */
    private Packet asked;

    AuthorizationWait(InputGate input, Consumer<Runnable> onContext) {
        this.input = input;
        this.onContext = onContext;
    }

    /** Holds {@code p} if a packet before it waits; false: handle it now. */
    boolean holds(Packet p) {
        if (!waiting) {
            return false;
        }
        held.add(p); // input is paused: at most one read's worth
        return true;
    }

    /**
     * {@code p} waits for {@code answered}; then it and the packets held behind it go to
     * {@code handle} in order while {@code open} holds, until one of them waits again.
     */
    void await(Packet p, Future<?> answered, Consumer<Packet> handle, java.util.function.BooleanSupplier open) {
        waiting = true;
        asked = p;
        held.addFirst(p);
        input.close(InputGate.AUTHORIZING);
        answered.onComplete(ar -> onContext.accept(() -> {
            waiting = false;
            while (!held.isEmpty() && !waiting && open.getAsBoolean()) {
                handle.accept(held.poll());
            }
            if (!waiting) {
                asked = null;
                input.open(InputGate.AUTHORIZING);
            }
        }));
    }

    /** Whether this is the handling again of the packet that waited (counted and charged the first time). */
    boolean again(Packet p) {
        if (asked != p) {
            return false;
        }
        asked = null;
        return true;
    }

    void clear() {
        held.clear();
    }
}
