package io.starling.session;

import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The FIFO through which any thread hands work to one session (ADR 0002). Items run in order on
 * the context the session lives on, which moves to each new connection's context; one queue keeps
 * the order of deliveries across such a move (spec 4.6).
 *
 * <p>A step that waits for the cluster (a claim, a takeover, an adoption) {@link #hold}s the
 * mailbox: everything posted after it waits behind it until {@link #release}, so a CONNECT or a
 * TAKE that arrives meanwhile finds the session that step brings, not an empty one (issue 9).
 *
 * <p>An item that throws is isolated: its failure goes to the handler, the mailbox goes on.
 */
final class Mailbox {
    private static final int BATCH = 256;

    /** What runs the items, on the mailbox's context. */
    interface Handler {
        void handle(Object item);

        /** An item threw: the session decides what that means for its connection. */
        void failed(Object item, RuntimeException e);
    }

    private final Handler handler;
    private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
    /** 1 while a drain is scheduled on the context (a field, not an AtomicBoolean: one object less per session). */
    private volatile int scheduled;
    private static final AtomicIntegerFieldUpdater<Mailbox> SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(Mailbox.class, "scheduled");
    private volatile ContextInternal context;
    /** Steps waiting for the cluster; while above 0, nothing behind them runs. Confined to the context. */
    private int holds;

    Mailbox(ContextInternal context, Handler handler) {
        this.context = context;
        this.handler = handler;
    }

    ContextInternal context() {
        return context;
    }

    /** From here on items run on {@code target}; call it on the current context, from an item. */
    void moveTo(ContextInternal target) {
        context = target;
    }

    boolean onContext() {
        return context.nettyEventLoop().inEventLoop();
    }

    /** Any thread. */
    void post(Object item) {
        inbox.offer(item);
        if (SCHEDULED.compareAndSet(this, 0, 1)) {
            context.runOnContext(v -> drain());
        }
    }

    /** Runs {@code item} now if it is this context's turn and nothing waits before it, else posts it. */
    void runOrPost(Object item) {
        if (onContext() && holds == 0 && scheduled == 0 && inbox.isEmpty()) {
            run(item);
        } else {
            post(item);
        }
    }

    /**
     * Runs {@code task} on the context as soon as it can, ahead of what waits in the mailbox (a
     * completion of the session's own work, not a delivery, which must keep its order): if the
     * session moved meanwhile, or a step holds the mailbox, it waits in the mailbox instead.
     */
    void runSoon(Object task) {
        ContextInternal here = context;
        here.runOnContext(v -> {
            if (context == here && holds == 0) {
                run(task);
            } else {
                post(task);
            }
        });
    }

    /** Items posted from now wait until {@link #release}; on the context. */
    void hold() {
        holds++;
    }

    /** On the context: the step that held the mailbox is done. */
    void release() {
        if (holds > 0 && --holds == 0 && SCHEDULED.compareAndSet(this, 0, 1)) {
            context.runOnContext(v -> drain());
        }
    }

    private void drain() {
        if (!onContext()) {
            context.runOnContext(v -> drain()); // the session moved while this was scheduled
            return;
        }
        int n = 0;
        while (true) {
            if (holds > 0) {
                scheduled = 0; // release() drains again
                return;
            }
            Object item = inbox.poll();
            if (item == null) {
                scheduled = 0;
                if (inbox.isEmpty() || !SCHEDULED.compareAndSet(this, 0, 1)) {
                    return;
                }
                continue;
            }
            run(item);
            if (!onContext() || ++n == BATCH) {
                if (onContext()) {
                    yieldToIo();
                } else {
                    context.runOnContext(v -> drain()); // moved by that item
                }
                return;
            }
        }
    }

    private void run(Object item) {
        try {
            handler.handle(item);
        } catch (RuntimeException e) {
            handler.failed(item, e);
        } catch (StackOverflowError e) {
            // Thrown by a bug of ours, not a lack of memory: the mailbox must not be wedged by it.
            handler.failed(item, new IllegalStateException("stack overflow", e));
        }
    }

    /**
     * Drains on after the event loop's next pass over its sockets. A task queued with runOnContext
     * would run in the same pass: Netty 4.2 runs queued tasks for up to a second before it polls
     * I/O again, so a busy mailbox re-queuing itself starved every connection of its event loop
     * (ADR 0008). A scheduled task, even due at once, waits for the next pass.
     */
    private void yieldToIo() {
        ContextInternal here = context;
        here.nettyEventLoop().schedule(() -> here.emit(v -> drain()), 0, TimeUnit.NANOSECONDS);
    }
}
