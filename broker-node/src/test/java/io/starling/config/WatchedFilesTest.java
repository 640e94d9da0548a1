package io.starling.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatchedFilesTest {
    @TempDir
    Path dir;
    final Vertx vertx = Vertx.vertx();
    final List<String> loads = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private boolean eventually(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (loads.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return loads.size() >= count;
    }

    /** A Kubernetes Secret volume: file -> ..data/file, ..data -> a timestamped directory, renewed by swapping ..data. */
    @Test
    void aSymlinkSwapAsKubernetesRenewsASecretIsSeen() throws Exception {
        Path v1 = Files.createDirectory(dir.resolve("..2026_12_03_01"));
        Files.writeString(v1.resolve("passwd"), "first\n");
        Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("passwd"), Path.of("..data", "passwd"));
        WatchedFiles w = new WatchedFiles(vertx);
        w.watch(file, "test file", f -> loads.add(Files.readString(f)));

        Path v2 = Files.createDirectory(dir.resolve("..2026_12_03_02"));
        Files.writeString(v2.resolve("passwd"), "second\n");
        Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
        Files.move(tmp, dir.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(eventually(1), "the swap was not seen");
        assertEquals("second\n", loads.get(0));
        Thread.sleep(3 * WatchedFiles.POLL_MS);
        assertEquals(1, loads.size(), "reloaded once, not at every poll");
    }

    @Test
    void aRewriteInPlaceOfTheSameSizeIsSeenAndAFailedReloadIsTriedAgainOnlyOnTheNextChange() throws Exception {
        Path file = Files.writeString(dir.resolve("acl"), "aaaa\n");
        WatchedFiles w = new WatchedFiles(vertx);
        w.watch(file, "test file", f -> {
            String text = Files.readString(f);
            loads.add(text);
            if (text.startsWith("bad")) {
                throw new IllegalArgumentException("line 1: not a rule");
            }
        });
        Files.writeString(file, "bbbb\n");
        assertTrue(eventually(1));
        Files.writeString(file, "bad!\n");
        assertTrue(eventually(2));
        Thread.sleep(3 * WatchedFiles.POLL_MS);
        assertEquals(2, loads.size(), "a bad version is reported once, not retried at every poll");
        w.reloadAll(); // SIGHUP
        assertTrue(eventually(3));
    }
}
