package io.starling.retain;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock packed in one long: wall-clock milliseconds in the high 48 bits, a
 * counter in the low {@value #LOGICAL_BITS}. {@link #tick} never returns a value it returned
 * before nor one below a stamp it has {@link #observe observed}, even when the wall clock steps
 * back; it stays at the wall clock when nothing faster is seen. So a write made after this node
 * saw another write is stamped after it, whatever the two machines' clocks say, and concurrent
 * writes are ordered by (roughly) wall-clock time. More than 65,536 ticks in one millisecond carry
 * into the millisecond part, which only makes the clock run slightly ahead.
 */
final class HybridClock {
    static final int LOGICAL_BITS = 16;

    private final LongSupplier wallMillis;
    private final AtomicLong last = new AtomicLong();

    HybridClock(LongSupplier wallMillis) {
        this.wallMillis = wallMillis;
    }

    /** A new stamp, greater than every stamp ticked or observed before. */
    long tick() {
        long wall = wallMillis.getAsLong() << LOGICAL_BITS;
        while (true) {
            long previous = last.get();
            long next = Math.max(previous + 1, wall);
            if (last.compareAndSet(previous, next)) {
                return next;
            }
        }
    }

    /** Moves the clock past a stamp another node made, so that what this node writes next is newer. */
    void observe(long stamp) {
        long previous = last.get();
        while (stamp > previous && !last.compareAndSet(previous, stamp)) {
            previous = last.get();
        }
    }

    /** The wall-clock milliseconds part of a stamp. */
    static long millis(long stamp) {
        return stamp >>> LOGICAL_BITS;
    }
}
