package io.starling.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.persistence.Change;
import io.starling.persistence.DurableStore;
import io.starling.persistence.Family;
import io.starling.persistence.GroupCommit;
import io.starling.persistence.PersistenceMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The durable store's write path (docs/adr/0016): one operation is one change of 200 bytes (a
 * queued QoS 1 message's entry) submitted to the node's {@link GroupCommit} by one of 8 threads
 * (sessions on event loops), waited for until its future completes: with {@code sync}, after the
 * fsync of the batch that carried it; with {@code interval}, after the write. {@code perRecordSync}
 * is the baseline group commit avoids: each change written and fsynced alone, from one thread at a
 * time. The store lives under java.io.tmpdir (on CI's disk, not a tmpfs), emptied per trial.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Benchmark)
public class StoreCommitBenchmark {
    @Param({"sync", "interval"})
    public String mode;

    private Path dir;
    private DurableStore store;
    private GroupCommit commit;
    private final AtomicLong seq = new AtomicLong();
    private final byte[] payload = new byte[200];

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("starling-store-bench");
        store = DurableStore.open(dir);
        commit = new GroupCommit(store, PersistenceMode.of(mode), 1000, 1000, new SimpleMeterRegistry(),
                System::currentTimeMillis);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        commit.close();
        store.close();
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private Change next() {
        byte[] key = ByteBuffer.allocate(8).putLong(seq.incrementAndGet()).array();
        return Change.put(Family.ENTRIES, key, 1, payload);
    }

    @Benchmark
    @Threads(8)
    public void groupCommit() {
        commit.submit(next()).join();
    }

    @Benchmark
    @Threads(1)
    public void perRecordSync() {
        synchronized (store) {
            store.write(List.of(next()), true, 0);
        }
    }
}
