package io.starling.transport;

import io.starling.config.BrokerConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node-wide part of admitting a connection, shared by every listener: at most
 * limits.max-connections open at once, and new ones at most limits.connect-rate per second
 * ({@link ConnectRate}). Called from every event loop.
 */
public final class Admission {
    private final BrokerConfig.Limits limits;
    private final AtomicInteger open = new AtomicInteger();
    private final ConnectRate rate;

    public Admission(BrokerConfig.Limits limits) {
        this.limits = limits;
        this.rate = new ConnectRate(limits.connectRate());
    }

    /** @return null when admitted (and counted as open), else the limit's name */
    String admit(long nowNanos) {
        if (!rate.take(nowNanos)) {
            return "connect-rate";
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
