package io.starling.loadtest;

import java.time.Instant;

/**
 * Wall-clock nanoseconds since the epoch, read from the monotonic clock: one base {@link Instant}
 * taken at class load plus the {@link System#nanoTime()} elapsed since. Monotonic, so latencies
 * within a process never go negative when NTP adjusts the clock; anchored to the epoch, so a
 * publisher in one process and a subscriber in another on the same machine agree to within the
 * precision of the two base instants (microseconds on Linux).
 */
public final class EpochClock {
    private static final long BASE_NANO_TIME;
    private static final long BASE_EPOCH_NANOS;

    static {
        Instant now = Instant.now();
        BASE_NANO_TIME = System.nanoTime();
        BASE_EPOCH_NANOS = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private EpochClock() {
    }

    public static long nowEpochNanos() {
        return toEpochNanos(System.nanoTime());
    }

    /** Converts a {@link System#nanoTime()} reading of this process into epoch nanoseconds. */
    public static long toEpochNanos(long nanoTime) {
        return BASE_EPOCH_NANOS + (nanoTime - BASE_NANO_TIME);
    }
}
