package io.starling.session;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

/**
 * QoS 0 flow control of one subscriber: QoS 0 has no acknowledgement to hold back, so a publisher
 * whose messages fill this subscriber's backlog (its mailbox and its session queue) past a signal
 * level is not read until the backlog drains and wakes it ({@link io.starling.routing.Congestion}), one paused
 * publisher at a time. A subscriber that wrote nothing for a second holds nobody back: its
 * overflow is dropped and counted instead. The QoS 0 deliveries waiting in the mailbox are
 * bounded at {@link Session#QOS0_OVERSHOOT} times the signal level.
 *
 * <p>Any thread may {@link #admitQos0}; the rest runs on the session's context.
 */
final class SubscriberBacklog implements io.starling.routing.Backlog {
    /** With no write for this long, a subscriber no longer holds its publishers back. */
    private static final long STUCK_NANOS = 1_000_000_000L;
    /** How stale the progress clock may be, against the second that makes a subscriber stuck. */
    private static final long PROGRESS_GRAIN_NANOS = 1_000_000;
    /** At most one paused publisher is woken per this interval (each brings one socket read, up to 64 KB). */
    private static final long WAKE_INTERVAL_NANOS = 1_000_000;

    private final Mailbox mailbox;
    private final int signalAt;
    /** QoS 0 deliveries waiting in the mailbox. */
    private volatile int inboxQos0;
    /** QoS 1/2 deliveries waiting in the mailbox. */
    private volatile int inboxQos12;
    /** The session's queue length, as the session last reported it (written on the context only). */
    private volatile int sessionQueued;
    /** When the session last wrote a message out. */
    private volatile long progressNanos = System.nanoTime();
    /** Paused QoS 0 publishers, woken one at a time; created by the first (most sessions never congest). */
    private volatile ConcurrentLinkedQueue<Runnable> drainWaiters;
    private long lastWakeNanos;
    private static final AtomicIntegerFieldUpdater<SubscriberBacklog> INBOX_QOS0 =
            AtomicIntegerFieldUpdater.newUpdater(SubscriberBacklog.class, "inboxQos0");
    private static final AtomicIntegerFieldUpdater<SubscriberBacklog> INBOX_QOS12 =
            AtomicIntegerFieldUpdater.newUpdater(SubscriberBacklog.class, "inboxQos12");
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<SubscriberBacklog, ConcurrentLinkedQueue> DRAIN_WAITERS =
            AtomicReferenceFieldUpdater.newUpdater(SubscriberBacklog.class, ConcurrentLinkedQueue.class, "drainWaiters");

    /** @param maxQueued mqtt.max-queued-messages; publishers are paused from max(1000, it) waiting */
    SubscriberBacklog(Mailbox mailbox, int maxQueued) {
        this.mailbox = mailbox;
        this.signalAt = Math.max(1000, maxQueued);
    }

    /**
     * A QoS 0 delivery is about to enter the mailbox (any thread). QoS 0 may be lost (spec 4.3.1):
     * past the hard bound it is not admitted; one read of a publisher's socket can carry thousands
     * of small packets, all routed before a pause takes effect, so the bound leaves room above the
     * signal level at which the publisher is asked to pause.
     *
     * @return false when it must be dropped (and counted) instead
     */
    boolean admitQos0() {
        int waiting = inboxQos0;
        if (waiting >= signalAt * Session.QOS0_OVERSHOOT) {
            if (holdsPublishers()) {
                io.starling.routing.Congestion.signal(this);
            }
            return false;
        }
        if (waiting + sessionQueued >= signalAt && holdsPublishers()) {
            io.starling.routing.Congestion.signal(this); // the publisher's connection stops reading until this backlog drains
        }
        INBOX_QOS0.incrementAndGet(this);
        return true;
    }

    /**
     * A QoS 1/2 delivery is about to enter the mailbox (any thread). Its publisher waits for it to
     * be taken, so publishers' windows bound these; the hard bound holds also for publishers without
     * one and while a claim or takeover holds the mailbox.
     *
     * @return false when it must be refused instead
     */
    boolean admitQos12() {
        if (inboxQos12 >= signalAt * Session.HELD_FACTOR) {
            return false;
        }
        INBOX_QOS12.incrementAndGet(this);
        return true;
    }

    /** A QoS 1/2 delivery left the mailbox. */
    void tookQos12() {
        INBOX_QOS12.decrementAndGet(this);
    }

    /** A QoS 0 delivery left the mailbox. */
    void tookQos0() {
        INBOX_QOS0.decrementAndGet(this);
    }

    /** Whether QoS 0 publishers should wait for this subscriber: it is congested and still writing. */
    @Override
    public boolean holdsPublishers() {
        return System.nanoTime() - progressNanos < STUCK_NANOS;
    }

    /** True while the QoS 0 backlog is at or above half the signal level. */
    @Override
    public boolean congested() {
        return inboxQos0 + sessionQueued >= signalAt / 2;
    }

    /** Runs {@code resume} when it is this paused publisher's turn (the backlog drained). Any thread. */
    @Override
    public void whenDrained(Runnable resume) {
        ConcurrentLinkedQueue<Runnable> waiters = drainWaiters;
        if (waiters == null) {
            DRAIN_WAITERS.compareAndSet(this, null, new ConcurrentLinkedQueue<Runnable>());
            waiters = drainWaiters;
        }
        waiters.add(resume);
        if (!congested()) {
            mailbox.context().runOnContext(v -> changed()); // it may have drained before the add
        }
    }

    /** On the context: the session queues {@code queued} and wrote a message out if {@code wrote}. */
    void progress(int queued, boolean wrote) {
        // Per delivered message: volatile stores only when they say something new.
        if (sessionQueued != queued) {
            sessionQueued = queued;
        }
        if (wrote) {
            long now = System.nanoTime();
            if (now - progressNanos > PROGRESS_GRAIN_NANOS) {
                progressNanos = now;
            }
        }
        changed();
    }

    /**
     * On the context, when the backlog may have shrunk: wakes the next paused publisher, one per
     * {@link #WAKE_INTERVAL_NANOS} while the backlog is under half the signal level, or at once
     * when it is empty. Woken together, a thousand publishers would each bring a read of up to
     * 64 KB, hundreds of times what the subscriber can take.
     */
    void changed() {
        ConcurrentLinkedQueue<Runnable> waiters = drainWaiters;
        if (waiters == null || waiters.isEmpty() || congested()) {
            return;
        }
        long now = System.nanoTime();
        if (inboxQos0 + sessionQueued == 0 || now - lastWakeNanos >= WAKE_INTERVAL_NANOS) {
            lastWakeNanos = now;
            Runnable r = waiters.poll();
            if (r != null) {
                r.run();
            }
        }
    }
}
