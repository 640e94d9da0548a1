package io.starling.config;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files the node reloads while it runs (a password file today; certificates and ACL files next):
 * each is looked at every {@link #POLL_MS} ms and reloaded when what it resolves to changed (its
 * real path, size or modification time), and all are reloaded on SIGHUP, as Mosquitto does.
 *
 * <p>Polling, not a {@code WatchService}: a Kubernetes Secret or ConfigMap is renewed by swapping a
 * symlink ({@code ..data}) in the mounted directory, which changes neither the watched file's
 * directory entry nor its own inode, and inotify misses it; the real path changes. A reload that
 * fails (unreadable or invalid file) is the reloader's to log, keeping what it had.
 */
public final class WatchedFiles {
    private static final Logger log = LoggerFactory.getLogger(WatchedFiles.class);
    static final long POLL_MS = 2_000;

    /** Reloads one file; called on a worker thread, never two at once for one file. */
    public interface Reloader {
        void reload(Path file) throws Exception;
    }

    private record Watched(Path file, String what, Reloader reloader, Object[] last) {
    }

    private final Vertx vertx;
    private final List<Watched> watched = new CopyOnWriteArrayList<>();
    private long timer = -1;

    public WatchedFiles(Vertx vertx) {
        this.vertx = vertx;
    }

    /** Starts watching {@code file} (already loaded once by the caller); {@code what} names it in logs. */
    public synchronized void watch(Path file, String what, Reloader reloader) {
        watched.add(new Watched(file, what, reloader, new Object[] {signature(file)}));
        if (timer < 0) {
            timer = vertx.setPeriodic(POLL_MS, t -> vertx.executeBlocking(() -> {
                poll();
                return null;
            }, true)); // ordered: one poll at a time
        }
    }

    /** Reloads every watched file now (SIGHUP). */
    public void reloadAll() {
        vertx.executeBlocking(() -> {
            for (Watched w : watched) {
                reload(w, "SIGHUP");
            }
            return null;
        }, true);
    }

    private void poll() {
        for (Watched w : watched) {
            Object sig = signature(w.file());
            if (!Objects.equals(sig, w.last()[0])) {
                reload(w, "the file changed");
            }
        }
    }

    private void reload(Watched w, String why) {
        w.last()[0] = signature(w.file());
        try {
            w.reloader().reload(w.file());
            log.info("{} {} reloaded ({})", w.what(), w.file(), why);
        } catch (Exception e) {
            log.error("{} {} not reloaded ({}): {}; the previous version stays in force", w.what(), w.file(), why,
                    e.getMessage());
        }
    }

    /**
     * What identifies a version of the file: where it really is, its time and a checksum of its
     * content (these files are small; a rewrite within one tick of the clock is still seen); null
     * if it cannot be read.
     */
    static Object signature(Path file) {
        try {
            Path real = file.toRealPath();
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(Files.readAllBytes(real));
            return List.of(real.toString(), Files.getLastModifiedTime(real).toMillis(), crc.getValue());
        } catch (IOException | OutOfMemoryError e) {
            return null;
        }
    }

    /** Reloads every watched file on SIGHUP, where the JVM lets a program handle it. */
    public void reloadOnSighup() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> reloadAll());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGHUP cannot be handled here ({}); watched files are still reloaded when they change",
                    e.getMessage());
        }
    }

    public synchronized void close() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }
}
