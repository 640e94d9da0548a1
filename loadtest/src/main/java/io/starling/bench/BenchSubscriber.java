package io.starling.bench;

import io.starling.routing.Delivery;
import io.starling.routing.Subscriber;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Stands in for a session's mailbox (SessionRef, which needs a session and a Vert.x context):
 * takes the delivery and hands it to a {@link Blackhole}, so the Router's work for it cannot be
 * optimised away, and counts it, so the tests can check the fan-out.
 */
final class BenchSubscriber implements Subscriber {
    /** What every subscriber of one benchmark shares: the benchmark's Blackhole and a count. */
    static final class Sink {
        Blackhole blackhole;
        long delivered;
    }

    private final String clientId;
    private final Sink sink;

    BenchSubscriber(String clientId, Sink sink) {
        this.clientId = clientId;
        this.sink = sink;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public void deliver(Delivery delivery) {
        sink.delivered++;
        sink.blackhole.consume(delivery);
        delivery.accepted(); // as a session does once the message is in its queue: the publisher's ack may go
    }

    @Override
    public boolean isOnline() {
        return true;
    }
}
