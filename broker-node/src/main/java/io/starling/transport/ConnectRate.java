package io.starling.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * New connections per second, as a token bucket holding one second's worth (so a reconnect storm
 * after a node's failure is spread out rather than refused outright for its first burst), kept as
 * the time at which the bucket would be empty: taking a token moves that time forward by one
 * interval. Taken from every event loop, so the move is a compare-and-set.
 */
final class ConnectRate {
    private static final long BURST_NANOS = 1_000_000_000L;

    private final long nanosPerToken;
    private final AtomicLong emptyAt = new AtomicLong(Long.MIN_VALUE / 2); // full: the first take measures from its own clock

    /** @param perSecond 0: no limit */
    ConnectRate(int perSecond) {
        this.nanosPerToken = perSecond > 0 ? BURST_NANOS / perSecond : 0;
    }

    /** Whether a connection arriving at {@code nowNanos} (System.nanoTime()) is within the rate; takes its token if so. */
    boolean take(long nowNanos) {
        if (nanosPerToken == 0) {
            return true;
        }
        while (true) {
            long at = emptyAt.get();
            long next = Math.max(at, nowNanos - BURST_NANOS) + nanosPerToken;
            if (next > nowNanos) {
                return false;
            }
            if (emptyAt.compareAndSet(at, next)) {
                return true;
            }
        }
    }
}
