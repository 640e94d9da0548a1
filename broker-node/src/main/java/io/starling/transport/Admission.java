package io.starling.transport;

import io.starling.config.BrokerConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node-wide part of admitting a connection, shared by every listener: at most
 * limits.max-connections open at once, and new ones at most limits.connect-rate per second
 * (a token bucket holding one second's worth, so a reconnect storm after a node's failure is
 * spread out rather than refused outright for its first burst). Called from every event loop.
 */
public final class Admission {
    private final BrokerConfig.Limits limits;
    private final AtomicInteger open = new AtomicInteger();
    private final long nanosPerToken;
    private final long burstNanos;
    /** The time at which the bucket would be empty: a token is taken by moving it forward. */
    private final java.util.concurrent.atomic.AtomicLong emptyAt = new java.util.concurrent.atomic.AtomicLong();

    public Admission(BrokerConfig.Limits limits) {
        this.limits = limits;
        this.nanosPerToken = limits.connectRate() > 0 ? 1_000_000_000L / limits.connectRate() : 0;
        this.burstNanos = 1_000_000_000L;
        this.emptyAt.set(Long.MIN_VALUE / 2); // full: the first admit measures from its own clock
    }

    /** @return null when admitted (and counted as open), else the limit's name */
    String admit(long nowNanos) {
        if (nanosPerToken > 0) {
            while (true) {
                long at = emptyAt.get();
                long from = Math.max(at, nowNanos - burstNanos);
                long next = from + nanosPerToken;
                if (next > nowNanos) {
                    return "connect-rate";
                }
                if (emptyAt.compareAndSet(at, next)) {
                    break;
                }
            }
        }
        int n = open.incrementAndGet();
        if (limits.maxConnections() > 0 && n > limits.maxConnections()) {
            open.decrementAndGet();
            return "max-connections";
        }
        return null;
    }

    void closed() {
        open.decrementAndGet();
    }

    int open() {
        return open.get();
    }
}
