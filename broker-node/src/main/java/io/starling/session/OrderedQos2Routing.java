package io.starling.session;

import io.starling.protocol.ReasonCode;
import io.starling.routing.PublishRefused;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Routes one connection's QoS 2 publishes each once its record is journaled, and never before the
 * QoS 2 publishes received before it: journal writes complete in any order, and a publisher's
 * messages must reach subscribers in the order it sent them (spec 4.6). Confined to the
 * connection's context; a journal's answer is brought back there by {@code onContext}.
 */
final class OrderedQos2Routing {
    /** A QoS 2 publish waiting for its record to be journaled, and then its turn to be routed. */
    private record Waiting(Future<Void> recorded, Supplier<Future<Integer>> route, Promise<Integer> reached) {
    }

    private final Executor onContext;
    /** In the order they were received; made with the first that waits. */
    private ArrayDeque<Waiting> waiting;

    /** @param onContext runs a task on the connection's context (at once when already there) */
    OrderedQos2Routing(Executor onContext) {
        this.onContext = onContext;
    }

    /**
     * @param recorded the journal write the routing waits for, or null when there is none
     * @return how the routing went: the number of sessions reached, or a {@link PublishRefused}
     */
    Future<Integer> route(Future<Void> recorded, Supplier<Future<Integer>> route) {
        if (recorded == null && (waiting == null || waiting.isEmpty())) {
            return route.get();
        }
        if (waiting == null) {
            waiting = new ArrayDeque<>(4);
        }
        Waiting w = new Waiting(recorded == null ? Future.succeededFuture() : recorded, route, Promise.promise());
        waiting.add(w);
        w.recorded().onComplete(v -> onContext.execute(this::routeDue));
        return w.reached().future();
    }

    private void routeDue() {
        while (!waiting.isEmpty() && waiting.peek().recorded().isComplete()) {
            Waiting w = waiting.poll();
            if (w.recorded().failed()) {
                w.reached().fail(new PublishRefused(ReasonCode.UNSPECIFIED_ERROR,
                        "its record was not backed up: " + w.recorded().cause().getMessage()));
            } else {
                w.route().get().onComplete(w.reached());
            }
        }
    }
}
