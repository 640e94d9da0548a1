package io.starling.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * A node's own durable store (docs/adr/0016): RocksDB in {@code persistence.dir}, one column
 * family per {@link Family}, each value a {@link StoredValue}. Writes come from one thread at a
 * time (the {@link GroupCommit} writer): {@link #apply} reads a key's stored version and writes
 * only a newer one, which is safe because nothing else writes between the read and the write.
 */
public final class DurableStore implements AutoCloseable {
    /** The layout of keys and values; a store of another version is refused, never guessed at. */
    public static final int FORMAT_VERSION = 1;
    private static final byte[] FORMAT_KEY = "format".getBytes(StandardCharsets.UTF_8);

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final DBOptions options;
    private final ColumnFamilyOptions familyOptions;
    private final RocksDB db;
    private final List<ColumnFamilyHandle> handles;
    private final Map<Family, ColumnFamilyHandle> byFamily = new EnumMap<>(Family.class);

    private DurableStore(Path dir, DBOptions options, ColumnFamilyOptions familyOptions, RocksDB db,
            List<ColumnFamilyHandle> handles) {
        this.dir = dir;
        this.options = options;
        this.familyOptions = familyOptions;
        this.db = db;
        this.handles = handles;
        for (int i = 0; i < Family.values().length; i++) {
            byFamily.put(Family.values()[i], handles.get(i + 1)); // 0 is RocksDB's default family, unused
        }
    }

    /**
     * Opens (or creates) the store in {@code dir}. A directory RocksDB refuses (corruption, another
     * program's files) or a store of another format version stops here with a message naming it.
     */
    public static DurableStore open(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreException("persistence.dir " + dir + " cannot be created: " + e.getMessage(), e);
        }
        DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                // Every read and the log's replay check checksums; a damaged file is an error, not skipped.
                .setParanoidChecks(true)
                .setKeepLogFileNum(2);
        ColumnFamilyOptions familyOptions = new ColumnFamilyOptions();
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions));
        for (Family f : Family.values()) {
            descriptors.add(new ColumnFamilyDescriptor(f.familyName(), familyOptions));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        RocksDB db;
        try {
            db = RocksDB.open(options, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            familyOptions.close();
            options.close();
            throw new StoreException("the store in " + dir + " cannot be opened (" + e.getMessage() + "): it is damaged "
                    + "or not a Starling store. Move it away to start empty, or restore it from a backup", e);
        }
        DurableStore store = new DurableStore(dir, options, familyOptions, db, handles);
        try {
            store.checkFormat();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        return store;
    }

    private void checkFormat() {
        byte[] stored = getRaw(Family.META, FORMAT_KEY);
        if (stored == null) {
            if (!isEmpty()) {
                throw new StoreException("the store in " + dir + " has records but no format version: it was not "
                        + "written by Starling, or is damaged");
            }
            write(List.of(Change.put(Family.META, FORMAT_KEY, 1, ByteBuffer.allocate(4).putInt(FORMAT_VERSION).array())),
                    true, System.currentTimeMillis());
            return;
        }
        StoredValue v = decode(Family.META, FORMAT_KEY, stored);
        int format = v.value() != null && v.value().length == 4 ? ByteBuffer.wrap(v.value()).getInt() : -1;
        if (format != FORMAT_VERSION) {
            throw new StoreException("the store in " + dir + " has format version " + format + "; this Starling reads "
                    + "version " + FORMAT_VERSION + ". Start the version that wrote it, or move the store away to start empty");
        }
    }

    private boolean isEmpty() {
        for (Family f : Family.values()) {
            try (RocksIterator it = db.newIterator(byFamily.get(f))) {
                it.seekToFirst();
                if (it.isValid()) {
                    return false;
                }
            }
        }
        return true;
    }

    public Path dir() {
        return dir;
    }

    /** The stored value of a key, or null; a value that fails its checksum is a {@link StoreException}. */
    public StoredValue get(Family family, byte[] key) {
        byte[] raw = getRaw(family, key);
        return raw == null ? null : decode(family, key, raw);
    }

    private byte[] getRaw(Family family, byte[] key) {
        try {
            return db.get(byFamily.get(family), key);
        } catch (RocksDBException e) {
            throw new StoreException("reading the store in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Writes the changes that are newer than what is stored for their keys (a removal leaves a
     * tombstone with its version and {@code nowMillis}), as one atomic batch; with {@code sync},
     * returns only once the batch is on disk. Called from one thread at a time.
     *
     * @return how many of the changes took effect
     */
    public int write(List<Change> changes, boolean sync, long nowMillis) {
        // The newest version per key written in this batch: a later change of the same key must be
        // compared with it, not with the store, which does not see the batch yet.
        Map<Family, Map<ByteBuffer, Long>> inBatch = new EnumMap<>(Family.class);
        int applied = 0;
        try (WriteBatch batch = new WriteBatch(); WriteOptions write = new WriteOptions().setSync(sync)) {
            for (Change c : changes) {
                if (c.isRange()) {
                    batch.deleteRange(byFamily.get(c.family()), c.key(), c.rangeEnd());
                    inBatch.remove(c.family()); // what this batch wrote there may be gone: compare with the store again
                    applied++;
                    continue;
                }
                Map<ByteBuffer, Long> written = inBatch.computeIfAbsent(c.family(), f -> new HashMap<>());
                Long pending = written.get(ByteBuffer.wrap(c.key()));
                long current;
                if (pending != null) {
                    current = pending;
                } else {
                    byte[] raw = getRaw(c.family(), c.key());
                    current = raw == null ? Long.MIN_VALUE : versionOf(c.family(), c.key(), raw);
                }
                if (c.version() <= current) {
                    continue;
                }
                StoredValue v = new StoredValue(c.version(), c.value(), c.isRemoval() ? nowMillis : 0);
                batch.put(byFamily.get(c.family()), c.key(), v.encode());
                written.put(ByteBuffer.wrap(c.key()), c.version());
                applied++;
            }
            if (batch.count() > 0 || sync) {
                db.write(write, batch);
            }
        } catch (RocksDBException e) {
            throw new StoreException("writing the store in " + dir + " failed: " + e.getMessage(), e);
        }
        return applied;
    }

    /** Deletes keys outright (a tombstone old enough that no late write can still arrive for it). */
    public void purge(Family family, List<byte[]> keys) {
        try (WriteBatch batch = new WriteBatch(); WriteOptions write = new WriteOptions()) {
            for (byte[] k : keys) {
                batch.delete(byFamily.get(family), k);
            }
            db.write(write, batch);
        } catch (RocksDBException e) {
            throw new StoreException("writing the store in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** Syncs the write-ahead log: every write so far survives a crash of the machine. */
    public void syncLog() {
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw new StoreException("syncing the store in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    /** Visits every record of a family in key order; a damaged value stops the scan naming its key. */
    public void scan(Family family, Visitor visitor) {
        try (RocksIterator it = db.newIterator(byFamily.get(family))) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                byte[] key = it.key();
                visitor.visit(key, decode(family, key, it.value()));
            }
            it.status();
        } catch (RocksDBException e) {
            throw new StoreException("reading the store in " + dir + " failed: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    public interface Visitor {
        void visit(byte[] key, StoredValue value);
    }

    /** Bytes the store takes on disk: its table files and its write-ahead log. */
    public long sizeBytes() {
        long total = 0;
        try {
            for (ColumnFamilyHandle h : handles) {
                total += db.getLongProperty(h, "rocksdb.total-sst-files-size");
            }
        } catch (RocksDBException e) {
            throw new StoreException("reading the store's size in " + dir + " failed: " + e.getMessage(), e);
        }
        try (var files = Files.list(dir)) {
            total += files.filter(p -> p.getFileName().toString().endsWith(".log")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0; // a log file removed meanwhile
                }
            }).sum();
        } catch (IOException e) {
            throw new StoreException("listing the store in " + dir + " failed: " + e.getMessage(), e);
        }
        return total;
    }

    private long versionOf(Family family, byte[] key, byte[] raw) {
        long v = StoredValue.versionOf(raw);
        if (v == -1) {
            throw damaged(family, key);
        }
        return v;
    }

    private StoredValue decode(Family family, byte[] key, byte[] raw) {
        StoredValue v = StoredValue.decode(raw);
        if (v == null) {
            throw damaged(family, key);
        }
        return v;
    }

    private StoreException damaged(Family family, byte[] key) {
        return new StoreException("the store in " + dir + " is damaged: the " + family.columnFamily + " record "
                + printable(key) + " fails its checksum. Restore the store from a backup, or move it away to start empty");
    }

    static String printable(byte[] key) {
        String s = new String(key, StandardCharsets.UTF_8);
        return s.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f) ? "'" + s + "'" : "0x" + HexFormat.of().formatHex(key);
    }

    /** Flushes what is in memory to table files, so the next start replays no long log; then closes. */
    @Override
    public void close() {
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush, handles);
        } catch (RocksDBException e) {
            // The log still has every write: the next start replays it.
            org.slf4j.LoggerFactory.getLogger(DurableStore.class).warn("store: flushing {} on close failed: {}", dir,
                    e.getMessage());
        }
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        familyOptions.close();
        options.close();
    }
}
