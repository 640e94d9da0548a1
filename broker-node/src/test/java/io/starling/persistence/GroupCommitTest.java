package io.starling.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer: batches share a sync, every completed change is in the store, the interval level syncs by itself. */
class GroupCommitTest {
    @TempDir
    Path dir;

    private static Change change(int i) {
        return Change.put(Family.ENTRIES, ("client/" + i).getBytes(StandardCharsets.UTF_8), 1,
                ("message " + i).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void syncCompletesOnlyWrittenChangesAndManyShareOneSync() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        int writers = 8;
        int each = 500;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        try (DurableStore store = DurableStore.open(dir)) {
            try (GroupCommit commit = new GroupCommit(store, PersistenceMode.SYNC, 1000, 1000, registry,
                    System::currentTimeMillis)) {
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int base = w * each;
                    List<CompletableFuture<Void>> mine = new ArrayList<>();
                    Thread t = new Thread(() -> {
                        for (int i = 0; i < each; i++) {
                            mine.add(commit.submit(change(base + i)));
                        }
                        synchronized (done) {
                            done.addAll(mine);
                        }
                    });
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join();
                }
                synchronized (done) {
                    CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
                }
                // Each completed change is readable now: completion came after the write.
                for (int i = 0; i < writers * each; i++) {
                    assertNotNull(store.get(Family.ENTRIES, ("client/" + i).getBytes(StandardCharsets.UTF_8)), "change " + i);
                }
                double syncs = registry.get("starling_persistence_syncs").counter().count();
                long batches = registry.get("starling_persistence_batch_records").summary().count();
                double records = registry.get("starling_persistence_batch_records").summary().totalAmount();
                assertEquals(writers * each, records, 0.0);
                assertEquals(batches, syncs, 0.0, "with sync, one sync per batch");
                assertTrue(syncs < writers * each, "changes that queue while a sync runs share the next one: "
                        + syncs + " syncs for " + records + " changes");
            }
        }
    }

    @Test
    void intervalSyncsInTheBackgroundAndSaysHowFarBehindItIs() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DurableStore store = DurableStore.open(dir);
             GroupCommit commit = new GroupCommit(store, PersistenceMode.INTERVAL, 1000, 200, registry,
                     System::currentTimeMillis)) {
            commit.submit(change(1)).get(10, TimeUnit.SECONDS);
            assertEquals(0, registry.get("starling_persistence_syncs").counter().count(), 0.0,
                    "interval completes before the sync");
            assertTrue(registry.get("starling_persistence_unsynced_seconds").gauge().value() >= 0);
            long deadline = System.currentTimeMillis() + 5000;
            while (registry.get("starling_persistence_syncs").counter().count() == 0 && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(1, registry.get("starling_persistence_syncs").counter().count(), 0.0, "synced once, by itself");
            assertEquals(0, registry.get("starling_persistence_unsynced_seconds").gauge().value(), 0.0);
            assertTrue(registry.get("starling_persistence_bytes").gauge().value() > 0);
        }
    }

    @Test
    void closeWritesWhatIsQueuedAndRefusesLaterChanges() throws Exception {
        CompletableFuture<Void> last;
        GroupCommit commit;
        try (DurableStore store = DurableStore.open(dir)) {
            commit = new GroupCommit(store, PersistenceMode.INTERVAL, 10, 60_000, new SimpleMeterRegistry(),
                    System::currentTimeMillis);
            last = null;
            for (int i = 0; i < 100; i++) {
                last = commit.submit(change(i));
            }
            commit.close();
            assertTrue(last.isDone() && !last.isCompletedExceptionally(), "queued changes written before close returned");
            ExecutionException e = assertThrows(ExecutionException.class, () -> commit.submit(change(1000)).get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof StoreException, e.toString());
        }
        try (DurableStore store = DurableStore.open(dir)) {
            int[] n = {0};
            store.scan(Family.ENTRIES, (k, v) -> n[0]++);
            assertEquals(100, n[0], "everything queued before close is in the store after it");
        }
    }
}
