package io.starling.session;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * A signal from the subscribers of one publish back to its publisher's channel: this local
 * subscriber has more QoS 0 messages waiting than it writes out. Routing a publish hands its local
 * deliveries over synchronously on the publisher's event loop, so a slot of that thread, cleared
 * before and read after the routing, says it without widening any interface.
 */
final class Congestion {
    private static final FastThreadLocal<SessionRef[]> SLOT = new FastThreadLocal<>() {
        @Override
        protected SessionRef[] initialValue() {
            return new SessionRef[1];
        }
    };

    private Congestion() {
    }

    static void clear() {
        SLOT.get()[0] = null;
    }

    /** The first congested subscriber of this publish is the one the publisher waits for. */
    static void signal(SessionRef congested) {
        SessionRef[] slot = SLOT.get();
        if (slot[0] == null) {
            slot[0] = congested;
        }
    }

    /** The congested subscriber, or null. */
    static SessionRef signalled() {
        return SLOT.get()[0];
    }
}
