package io.starling.session;

import io.netty.util.concurrent.FastThreadLocal;

/**
 * A signal from the subscribers of one publish back to its publisher's channel: some local
 * subscriber's inbox of QoS 0 messages is filling faster than it drains. Routing a publish hands
 * its local deliveries over synchronously on the publisher's event loop, so a flag of that thread,
 * cleared before and read after the routing, says it without widening any interface.
 */
final class Congestion {
    private static final FastThreadLocal<boolean[]> FLAG = new FastThreadLocal<>() {
        @Override
        protected boolean[] initialValue() {
            return new boolean[1];
        }
    };

    private Congestion() {
    }

    static void clear() {
        FLAG.get()[0] = false;
    }

    static void signal() {
        FLAG.get()[0] = true;
    }

    static boolean signalled() {
        return FLAG.get()[0];
    }
}
