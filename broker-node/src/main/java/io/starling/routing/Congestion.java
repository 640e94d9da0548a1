package io.starling.routing;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * A signal from where one publish went back to its publisher's connection: a local subscriber,
 * or a link to another node, has more QoS 0 messages waiting than it drains. Routing a publish
 * hands its deliveries and forwards over synchronously on the publisher's event loop, so a slot
 * of that thread, cleared before and read after the routing, says it without widening any interface.
 */
public final class Congestion {
    private static final FastThreadLocal<Backlog[]> SLOT = new FastThreadLocal<>() {
        @Override
        protected Backlog[] initialValue() {
            return new Backlog[1];
        }
    };

    private Congestion() {
    }

    public static void clear() {
        SLOT.get()[0] = null;
    }

    /** The first congested subscriber of this publish is the one the publisher waits for. */
    public static void signal(Backlog congested) {
        Backlog[] slot = SLOT.get();
        if (slot[0] == null) {
            slot[0] = congested;
        }
    }

    /** The congested subscriber, or null. */
    public static Backlog signalled() {
        return SLOT.get()[0];
    }
}
