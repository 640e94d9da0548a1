package io.starling.session;

import io.starling.persistence.Change;
import io.starling.persistence.Family;
import io.starling.persistence.GroupCommit;
import io.starling.persistence.JournalKeys;
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
    /** The node's durable store (docs/adr/0016), or null with persistence.mode none. */
    private final GroupCommit disk;
    private volatile long epoch;
    private long counter; // confined to the session's context, like every change
    private final AtomicInteger pending = new AtomicInteger();
    private List<Promise<Void>> flushWaiters; // guarded by this

    ReplicatedJournal(String clientId, SessionStore store) {
        this(clientId, store, null);
    }

    /**
     * With a durable store every change is also written to this node's disk, with the same
     * version and bytes as to the replicated store, and its future completes when both have it;
     * the journal is then active even on a single node.
     */
    ReplicatedJournal(String clientId, SessionStore store, GroupCommit disk) {
        this.clientId = clientId;
        this.store = store;
        this.disk = disk;
    }

    /** This node claimed the identifier with {@code claimEpoch}: its changes rank above every earlier owner's. */
    void ownedWith(long claimEpoch) {
        long e = Math.min(Math.max(claimEpoch, 0), MAX_EPOCH);
        if (e > epoch) {
            epoch = e;
            counter = 0;
        }
    }

    /** The claim epoch a version was written under. */
    static long epochOf(long version) {
        return version >>> COUNTER_BITS;
    }

    private long nextVersion() {
        return (epoch << COUNTER_BITS) | ++counter;
    }

    @Override
    public boolean active() {
        return disk != null || store.active();
    }

    @Override
    public Future<Void> record(SessionState meta) {
        if (!active()) {
            return Future.succeededFuture();
        }
        long v = nextVersion();
        byte[] record = meta.encode();
        return both(store.active() ? store.writeRecord(clientId, v, record) : null,
                () -> List.of(Change.put(Family.SESSIONS, JournalKeys.session(clientId), v, record)));
    }

    @Override
    public Future<Void> keep(Delivery d, int packetId, boolean released) {
        return entry(d.seq(), SessionStore.encodeDelivery(d, packetId, released), 0);
    }

    @Override
    public void forget(long seq, long messageId) {
        entry(seq, null, messageId);
    }

    @Override
    public Future<Void> keepInbound(int packetId, long messageId, boolean accepted) {
        return entry(SessionStore.inboundSeq(packetId), SessionStore.encodeInbound(messageId, accepted), 0);
    }

    @Override
    public void forgetInbound(int packetId) {
        entry(SessionStore.inboundSeq(packetId), null, 0);
    }

    /** One entry written (or with null, removed) in both stores under one version. */
    private Future<Void> entry(long seq, byte[] value, long completedId) {
        if (!active()) {
            return Future.succeededFuture();
        }
        long v = nextVersion();
        return both(store.active() ? store.writeEntry(clientId, seq, v, value, completedId) : null, () -> {
            byte[] key = JournalKeys.entry(clientId, seq);
            return List.of(value == null ? Change.remove(Family.ENTRIES, key, v) : Change.put(Family.ENTRIES, key, v, value));
        });
    }

    @Override
    public Future<Void> forgetSession() {
        if (!active()) {
            return Future.succeededFuture();
        }
        long v = nextVersion();
        return both(store.active() ? store.removeSessionAsync(clientId, v) : null,
                () -> List.of(Change.remove(Family.SESSIONS, JournalKeys.session(clientId), v),
                        Change.removeRange(Family.ENTRIES, JournalKeys.entriesStart(clientId), JournalKeys.entriesEnd(clientId))));
    }

    /**
     * The session left this node (handed over, pushed on a leave, yielded after a partition): this
     * node's disk copy goes, so that a restart of this node cannot bring an old copy back; the
     * replicated store is the new owner's to write.
     */
    void leftThisNode() {
        if (disk != null) {
            track(disk.submit(List.of(Change.remove(Family.SESSIONS, JournalKeys.session(clientId), nextVersion()),
                    Change.removeRange(Family.ENTRIES, JournalKeys.entriesStart(clientId), JournalKeys.entriesEnd(clientId)))));
        }
    }

    /**
     * Completes when the replicated write (if any) and the disk write (if there is a disk) have;
     * the disk's changes are made only when there is one (the publish path of a node without).
     */
    private Future<Void> both(CompletionStage<?> replicated, java.util.function.Supplier<List<Change>> onDisk) {
        if (disk == null) {
            // The last peer may have gone between active() and the write's own check: nothing to write then.
            return replicated == null ? Future.succeededFuture() : track(replicated);
        }
        CompletionStage<?> written = disk.submit(onDisk.get());
        return track(replicated == null ? written : replicated.thenCombine(written, (a, b) -> null));
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
