package io.starling.session;

import io.starling.routing.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One session's {@link SessionJournal} over the replicated {@link SessionStore}. Changes are
 * written at once and in parallel, each with a version that grows with every change of the
 * session and, across owners, with the claim epoch of the client identifier: the store keeps a
 * key's newest version whatever order the writes arrive in ({@link SessionStore.Versioned}), so
 * a retried write of an old owner, or of this one, never undoes a later one (issue 9).
 *
 * <p>Changes come from the session's context; completions arrive on Hazelcast's threads.
 */
final class ReplicatedJournal implements SessionJournal {
    /** Bits of a version below the epoch: a session's changes under one claim. */
    private static final int COUNTER_BITS = 40;
    private static final long MAX_EPOCH = (1L << (63 - COUNTER_BITS)) - 1;

    private final String clientId;
    private final SessionStore store;
    private volatile long epoch;
    private long counter; // confined to the session's context, like every change
    private final AtomicInteger pending = new AtomicInteger();
    private List<Promise<Void>> flushWaiters; // guarded by this

    ReplicatedJournal(String clientId, SessionStore store) {
        this.clientId = clientId;
        this.store = store;
    }

    /** This node claimed the identifier with {@code claimEpoch}: its changes rank above every earlier owner's. */
    void ownedWith(long claimEpoch) {
        long e = Math.min(Math.max(claimEpoch, 0), MAX_EPOCH);
        if (e > epoch) {
            epoch = e;
            counter = 0;
        }
    }

    private long nextVersion() {
        return (epoch << COUNTER_BITS) | ++counter;
    }

    @Override
    public boolean active() {
        return store.active();
    }

    @Override
    public Future<Void> record(SessionState meta) {
        return active() ? track(store.writeRecord(clientId, nextVersion(), meta.encode())) : Future.succeededFuture();
    }

    @Override
    public Future<Void> keep(Delivery d, int packetId, boolean released) {
        return active() ? track(store.writeEntry(clientId, d.seq(), nextVersion(),
                SessionStore.encodeDelivery(d, packetId, released), 0)) : Future.succeededFuture();
    }

    @Override
    public void forget(long seq, long messageId) {
        if (active()) {
            track(store.writeEntry(clientId, seq, nextVersion(), null, messageId));
        }
    }

    @Override
    public Future<Void> keepInbound(int packetId, long messageId, boolean accepted) {
        return active() ? track(store.writeEntry(clientId, SessionStore.inboundSeq(packetId), nextVersion(),
                SessionStore.encodeInbound(messageId, accepted), 0)) : Future.succeededFuture();
    }

    @Override
    public void forgetInbound(int packetId) {
        if (active()) {
            track(store.writeEntry(clientId, SessionStore.inboundSeq(packetId), nextVersion(), null, 0));
        }
    }

    @Override
    public Future<Void> forgetSession() {
        return active() ? track(store.removeSessionAsync(clientId, nextVersion())) : Future.succeededFuture();
    }

    @Override
    public Future<Void> flushed() {
        synchronized (this) {
            if (pending.get() == 0) {
                return Future.succeededFuture();
            }
            if (flushWaiters == null) {
                flushWaiters = new ArrayList<>(1);
            }
            Promise<Void> p = Promise.promise();
            flushWaiters.add(p);
            return p.future();
        }
    }

    private Future<Void> track(CompletionStage<?> op) {
        pending.incrementAndGet();
        Promise<Void> done = Promise.promise();
        op.whenComplete((v, failure) -> {
            if (pending.decrementAndGet() == 0) {
                List<Promise<Void>> waiting;
                synchronized (this) {
                    waiting = flushWaiters;
                    flushWaiters = null;
                }
                if (waiting != null) {
                    waiting.forEach(Promise::tryComplete);
                }
            }
            if (failure == null) {
                done.tryComplete();
            } else {
                done.tryFail(failure);
            }
        });
        return done.future();
    }
}
