package io.starling.routing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a publisher's PUBACK/PUBREC waits for on this node: every session the message was handed
 * to has kept it where the loss of one node cannot take it (issue 3). Each delivery that carries
 * it calls {@link Delivery#accepted()} exactly once.
 */
public final class Acceptance {
    private final AtomicInteger pending = new AtomicInteger(1); // 1 until sealed
    private final Promise<Void> done = Promise.promise();

    /** One more delivery carries this acceptance. */
    public void expect() {
        pending.incrementAndGet();
    }

    /** One delivery that carries this acceptance is accepted. */
    public void done() {
        if (pending.decrementAndGet() == 0) {
            done.tryComplete();
        }
    }

    /** No more deliveries follow: the future completes when the ones made are accepted. */
    public Future<Void> sealed() {
        done();
        return done.future();
    }
}
