package io.starling.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs tasks at given {@link System#nanoTime()} instants, within tens of microseconds, on one
 * daemon thread. Fixed-rate publishers use it instead of event-loop timers: Vert.x timers and
 * Netty's NIO selector both round a wait up to whole milliseconds, so every paced message left up
 * to a millisecond after its scheduled time, and since latency is measured from the scheduled time
 * (no coordinated omission), the generator's own lateness showed up as the broker's latency.
 *
 * <p>The thread parks until the earliest instant (Linux wakes a parked thread within about 50-100
 * microseconds) and is woken early only when a task is added before the instant it sleeps to. Tasks
 * must be short: they hand work to an event loop.
 */
public final class Pacer implements AutoCloseable {
    /** Tasks due this soon are run now rather than parking for less than the wake-up takes. */
    private static final long SLACK_NANOS = 20_000;
    private static final long IDLE_PARK_NANOS = 10_000_000;

    private record Wake(long atNanos, long order, Runnable task) {
    }

    private final PriorityQueue<Wake> queue = new PriorityQueue<>((a, b) -> a.atNanos != b.atNanos
            ? Long.compare(a.atNanos, b.atNanos) : Long.compare(a.order, b.order));
    private final Thread thread;
    private long order;
    /** The instant the thread parks until; Long.MIN_VALUE while it is awake and will look again. */
    private long sleepingUntil = Long.MIN_VALUE;
    private volatile boolean running = true;

    public Pacer() {
        thread = new Thread(this::loop, "loadtest-pacer");
        thread.setDaemon(true);
        thread.start();
    }

    /** Runs the task on the pacer's thread at (or just after) atNanos. Any thread. */
    public void at(long atNanos, Runnable task) {
        boolean wake;
        synchronized (queue) {
            queue.add(new Wake(atNanos, order++, task));
            wake = atNanos < sleepingUntil;
        }
        if (wake) {
            LockSupport.unpark(thread);
        }
    }

    private void loop() {
        List<Runnable> due = new ArrayList<>();
        while (running) {
            long now = System.nanoTime();
            long next;
            synchronized (queue) {
                while (!queue.isEmpty() && queue.peek().atNanos - now <= SLACK_NANOS) {
                    due.add(queue.poll().task);
                }
                next = queue.isEmpty() ? now + IDLE_PARK_NANOS : queue.peek().atNanos;
                sleepingUntil = due.isEmpty() ? next : Long.MIN_VALUE;
            }
            if (!due.isEmpty()) {
                for (Runnable r : due) {
                    try {
                        r.run();
                    } catch (RuntimeException e) {
                        // One failed hand-over must not stop every other publisher's clock.
                        System.err.println("loadtest-pacer: " + e);
                    }
                }
                due.clear();
                continue;
            }
            LockSupport.parkNanos(next - now);
            synchronized (queue) {
                sleepingUntil = Long.MIN_VALUE;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
    }
}
