package io.starling.it;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one subscriber of a numbered message stream (0, 1, 2, ...) received: first arrivals,
 * duplicates, and first arrivals below one already seen. Safe to read while another thread records.
 */
final class Tally {
    final Set<Integer> seen = ConcurrentHashMap.newKeySet();
    final AtomicInteger duplicates = new AtomicInteger();
    final AtomicInteger outOfOrder = new AtomicInteger();
    final AtomicInteger max = new AtomicInteger(-1);

    void got(int n) {
        if (!seen.add(n)) {
            duplicates.incrementAndGet();
            return;
        }
        if (n < max.get()) {
            outOfOrder.incrementAndGet();
        }
        max.accumulateAndGet(n, Math::max);
    }

    /** How many of the numbers below {@code acknowledged} never arrived. */
    int lostBelow(int acknowledged) {
        int have = 0;
        for (int i : seen) {
            if (i < acknowledged) {
                have++;
            }
        }
        return acknowledged - have;
    }

    String describe(String name, int acknowledged) {
        return String.format("%s: %d lost, %d out of order, %d duplicates", name, lostBelow(acknowledged),
                outOfOrder.get(), duplicates.get());
    }
}
