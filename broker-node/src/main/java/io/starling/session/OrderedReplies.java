package io.starling.session;

import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;
import java.util.function.BiConsumer;

/**
 * Answers to a client's packets, sent in the order the packets came although some answers wait:
 * a PUBACK waits until the nodes the message went to have accepted it, a SUBACK until every node
 * routes the new filter here. [MQTT-4.6.0-2] PUBACKs and [MQTT-4.6.0-3] PUBRECs go out in the order
 * their PUBLISHes were received. While nothing waits, an answer goes out at once. A condition that
 * failed is passed on as its failure, never as a success (issue 9).
 *
 * <p>Confined to the connection's context; completions from other threads hop onto it.
 */
final class OrderedReplies {
    private static final class Slot {
        final Runnable send;
        boolean ready;

        Slot(Runnable send) {
            this.send = send;
        }
    }

    private final ContextInternal context;
    /** Empty unless an answer waits: its smallest size (the default is 16 slots), one per connection. */
    private final ArrayDeque<Slot> waiting = new ArrayDeque<>(0);
    private boolean closed;

    OrderedReplies(ContextInternal context) {
        this.context = context;
    }

    /** Runs {@code send} now if nothing waits, else after the answers queued before it; never once closed. */
    void now(Runnable send) {
        if (closed) {
            return; // as close() drops what waits, so what comes after it is dropped too
        }
        if (waiting.isEmpty()) {
            send.run();
        } else {
            Slot s = new Slot(send);
            s.ready = true;
            waiting.add(s);
        }
    }

    /**
     * Runs {@code send} with the condition's result, or null and its failure, once the condition
     * is complete and everything queued before it went out.
     */
    <T> void after(Future<T> condition, BiConsumer<T, Throwable> send) {
        if (closed) {
            return;
        }
        if (condition.isComplete()) {
            now(() -> send.accept(condition.result(), condition.cause()));
            return;
        }
        Slot s = new Slot(() -> send.accept(condition.result(), condition.cause()));
        waiting.add(s);
        condition.onComplete(ar -> {
            if (context.nettyEventLoop().inEventLoop()) {
                ready(s);
            } else {
                context.runOnContext(v -> ready(s));
            }
        });
    }

    /** Answers that wait: each is a publish, subscribe or PUBREC whose answer has not gone out. */
    int waiting() {
        return waiting.size();
    }

    /** The connection is gone: answers still waiting are dropped (the client resends, spec 4.4). */
    void close() {
        closed = true;
        waiting.clear();
    }

    private void ready(Slot s) {
        if (closed) {
            return;
        }
        s.ready = true;
        while (!waiting.isEmpty() && waiting.peek().ready) {
            waiting.poll().send.run();
            if (closed) {
                return; // that answer closed the connection (a refusal to a 3.1.1 client)
            }
        }
    }
}
