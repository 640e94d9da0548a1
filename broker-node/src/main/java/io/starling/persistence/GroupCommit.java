package io.starling.persistence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one writer to its {@link DurableStore} (docs/adr/0016). Changes from every session
 * queue here; the writer takes all that have arrived (up to {@code maxBatch}) and writes them as
 * one batch. In {@link PersistenceMode#SYNC} the batch is synced before its futures complete, so
 * many acknowledgements share one fsync: those that arrive while a sync is under way go in the
 * next batch, which costs no waiting when the node is idle and batches more the busier it is. In
 * {@link PersistenceMode#INTERVAL} futures complete once the batch is written and the log is
 * synced every interval.
 *
 * <p>Futures complete on the writer's thread: callers move to their own context.
 */
public final class GroupCommit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

    private record Pending(List<Change> changes, CompletableFuture<Void> done) {
    }

    private static final Pending STOP = new Pending(List.of(), new CompletableFuture<>());

    private final DurableStore store;
    private final PersistenceMode mode;
    private final int maxBatch;
    private final long intervalNanos;
    private final LongSupplier wallClock;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final Timer writeTime;
    private final Counter syncs;
    private final DistributionSummary batchSize;
    /** When the oldest write not yet synced was made (nanoTime), or 0 when everything is synced. */
    private volatile long unsyncedSince;
    private volatile boolean closed;

    public GroupCommit(DurableStore store, PersistenceMode mode, int maxBatch, long intervalMillis,
            MeterRegistry registry, LongSupplier wallClock) {
        if (mode == PersistenceMode.NONE) {
            throw new IllegalArgumentException("persistence.mode none has no store to write");
        }
        this.store = store;
        this.mode = mode;
        this.maxBatch = maxBatch;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMillis);
        this.wallClock = wallClock;
        writeTime = Timer.builder("starling_persistence_write").description("time to write one batch to the store "
                + "(with persistence.mode sync: and to sync it to disk)").publishPercentileHistogram().register(registry);
        syncs = Counter.builder("starling_persistence_syncs").description("syncs of the store's log to disk")
                .register(registry);
        batchSize = DistributionSummary.builder("starling_persistence_batch_records")
                .description("changes written per batch").register(registry);
        Gauge.builder("starling_persistence_unsynced_seconds", this, GroupCommit::unsyncedSeconds)
                .description("age of the oldest write not yet synced to disk: what a crash of the machine would lose "
                        + "(persistence.mode interval; 0 with sync)").register(registry);
        Gauge.builder("starling_persistence_bytes", store, DurableStore::sizeBytes)
                .description("bytes the store takes on disk (table files and log)").register(registry);
        writer = new Thread(this::run, "starling-store-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /** Queues changes to be written together; the future completes once they are (see the class comment). */
    public CompletableFuture<Void> submit(List<Change> changes) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new StoreException("the store in " + store.dir() + " is closed"));
            return done;
        }
        queue.add(new Pending(changes, done));
        return done;
    }

    public CompletableFuture<Void> submit(Change change) {
        return submit(List.of(change));
    }

    private double unsyncedSeconds() {
        long since = unsyncedSince;
        return since == 0 ? 0 : (System.nanoTime() - since) / 1e9;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        boolean stopping = false;
        long nextSync = System.nanoTime() + intervalNanos;
        while (!stopping || !queue.isEmpty()) {
            try {
                Pending first = mode == PersistenceMode.INTERVAL && unsyncedSince != 0
                        ? queue.poll(Math.max(0, nextSync - System.nanoTime()), TimeUnit.NANOSECONDS)
                        : queue.poll(stopping ? 0 : 1, TimeUnit.SECONDS);
                if (first != null) {
                    batch.add(first);
                    queue.drainTo(batch, Math.max(0, maxBatch - 1));
                }
            } catch (InterruptedException e) {
                stopping = true;
            }
            for (Pending p : batch) {
                if (p == STOP) {
                    stopping = true;
                } else {
                    changes.addAll(p.changes());
                }
            }
            if (!changes.isEmpty()) {
                writeBatch(batch, changes);
            }
            if (mode == PersistenceMode.INTERVAL && unsyncedSince != 0
                    && (System.nanoTime() - nextSync >= 0 || stopping)) {
                sync();
            }
            if (mode == PersistenceMode.INTERVAL && System.nanoTime() - nextSync >= 0) {
                nextSync = System.nanoTime() + intervalNanos;
            }
            batch.clear();
            changes.clear();
        }
        if (mode == PersistenceMode.INTERVAL && unsyncedSince != 0) {
            sync();
        }
    }

    private void writeBatch(List<Pending> batch, List<Change> changes) {
        boolean sync = mode == PersistenceMode.SYNC;
        long t0 = System.nanoTime();
        try {
            store.write(changes, sync, wallClock.getAsLong());
        } catch (RuntimeException e) {
            log.error("store: a batch of {} changes could not be written: {}", changes.size(), e.getMessage());
            for (Pending p : batch) {
                p.done().completeExceptionally(e);
            }
            return;
        }
        writeTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        batchSize.record(changes.size());
        if (sync) {
            syncs.increment();
        } else if (unsyncedSince == 0) {
            unsyncedSince = t0;
        }
        for (Pending p : batch) {
            p.done().complete(null);
        }
    }

    private void sync() {
        try {
            store.syncLog();
            syncs.increment();
            unsyncedSince = 0;
        } catch (RuntimeException e) {
            log.error("store: syncing its log failed: {}", e.getMessage());
        }
    }

    /** Writes what is queued, syncs it, and stops the writer; later submits fail. */
    @Override
    public void close() {
        closed = true;
        queue.add(STOP);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A submit that raced with close and queued behind the stop is refused, not left waiting.
        for (Pending p; (p = queue.poll()) != null; ) {
            p.done().completeExceptionally(new StoreException("the store in " + store.dir() + " is closed"));
        }
    }
}
