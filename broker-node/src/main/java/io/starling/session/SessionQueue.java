package io.starling.session;

import io.starling.routing.Delivery;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The messages of one session waiting for its client (offline, or behind a full inflight window),
 * in the order they must go out (spec 4.6), and roughly what they weigh: the node-wide bound
 * mqtt.max-queued-bytes is the sum of these weights.
 */
final class SessionQueue {
    // Smallest size: most sessions are idle and empty, and there are tens of thousands of them.
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>(0);
    private long bytes;

    void add(Delivery d) {
        queue.add(d);
        bytes += sizeOf(d);
    }

    Delivery peek() {
        return queue.peek();
    }

    Delivery poll() {
        Delivery d = queue.poll();
        if (d != null) {
            bytes -= sizeOf(d);
        }
        return d;
    }

    int size() {
        return queue.size();
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    long bytes() {
        return bytes;
    }

    boolean contains(long messageId) {
        for (Delivery d : queue) {
            if (d.message().id() == messageId) {
                return true;
            }
        }
        return false;
    }

    /** Removes the deliveries {@code which} accepts (it may act on each), keeping the order of the rest. */
    void removeIf(Predicate<Delivery> which) {
        queue.removeIf(d -> {
            if (which.test(d)) {
                bytes -= sizeOf(d);
                return true;
            }
            return false;
        });
    }

    List<Delivery> copy() {
        return new ArrayList<>(queue);
    }

    void clear() {
        queue.clear();
        bytes = 0;
    }

    /** What a queued delivery costs, roughly: its payload and topic and the objects around them. */
    static long sizeOf(Delivery d) {
        return d.message().payload().length + 2L * d.message().topic().length() + 96;
    }
}
