package io.starling.routing;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a publisher's PUBACK/PUBREC waits for on this node: every session the message was handed
 * to has kept it where the loss of one node cannot take it (issue 3), or has said it could not
 * ({@link #refuse}), in which case the publisher hears the reason instead of a success (issue 9).
 * Each delivery that carries it calls {@link Delivery#accepted()} or {@link Delivery#refused}
 * exactly once.
 */
public final class Acceptance {
    private final AtomicInteger pending = new AtomicInteger(1); // 1 until sealed
    private final Promise<Void> done = Promise.promise();
    /** The first refusal; set before the count goes down, so the last one to count sees it. */
    private volatile PublishRefused refused;

    /** One more delivery carries this acceptance. */
    public void expect() {
        pending.incrementAndGet();
    }

    /** One delivery that carries this acceptance is accepted. */
    public void done() {
        if (pending.decrementAndGet() == 0) {
            PublishRefused r = refused;
            if (r == null) {
                done.tryComplete();
            } else {
                done.tryFail(r);
            }
        }
    }

    /** One delivery that carries this acceptance could not be taken: the whole publish is refused. */
    public void refuse(PublishRefused why) {
        if (refused == null) {
            refused = why;
        }
        done();
    }

    /**
     * No more deliveries follow: the future completes when the ones made are accepted, and fails
     * with the first {@link PublishRefused} if any was refused.
     */
    public Future<Void> sealed() {
        done();
        return done.future();
    }
}
