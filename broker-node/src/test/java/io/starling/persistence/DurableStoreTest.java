package io.starling.persistence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/** The store's promises: newest version wins, durable across reopen, refuses what it cannot trust. */
class DurableStoreTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void keepsTheNewestVersionWhateverTheOrderOfWrites() {
        try (DurableStore s = DurableStore.open(dir)) {
            assertEquals(1, s.write(List.of(Change.put(Family.SESSIONS, b("c1"), 5, b("v5"))), false, 0));
            assertEquals(0, s.write(List.of(Change.put(Family.SESSIONS, b("c1"), 4, b("v4"))), false, 0),
                    "an older write arriving late");
            assertArrayEquals(b("v5"), s.get(Family.SESSIONS, b("c1")).value());
            // A removal is a tombstone with its version: an older write cannot bring the key back.
            assertEquals(1, s.write(List.of(Change.remove(Family.SESSIONS, b("c1"), 6)), false, 1234));
            assertEquals(0, s.write(List.of(Change.put(Family.SESSIONS, b("c1"), 5, b("again"))), false, 0));
            StoredValue t = s.get(Family.SESSIONS, b("c1"));
            assertTrue(t.isTombstone());
            assertEquals(6, t.version());
            assertEquals(1234, t.removedAtMillis());
            assertEquals(1, s.write(List.of(Change.put(Family.SESSIONS, b("c1"), 7, b("v7"))), false, 0));
            assertArrayEquals(b("v7"), s.get(Family.SESSIONS, b("c1")).value());
        }
    }

    @Test
    void withinOneBatchALaterChangeOfAKeyIsComparedWithTheEarlierOne() {
        try (DurableStore s = DurableStore.open(dir)) {
            int applied = s.write(List.of(Change.put(Family.ENTRIES, b("k"), 3, b("three")),
                    Change.put(Family.ENTRIES, b("k"), 2, b("two")),
                    Change.put(Family.ENTRIES, b("k"), 4, b("four"))), true, 0);
            assertEquals(2, applied);
            assertArrayEquals(b("four"), s.get(Family.ENTRIES, b("k")).value());
        }
    }

    @Test
    void familiesAreSeparateAndSurviveReopening() {
        try (DurableStore s = DurableStore.open(dir)) {
            s.write(List.of(Change.put(Family.SESSIONS, b("same"), 1, b("session")),
                    Change.put(Family.RETAINED, b("same"), 1, b("retained"))), true, 0);
        }
        try (DurableStore s = DurableStore.open(dir)) {
            assertArrayEquals(b("session"), s.get(Family.SESSIONS, b("same")).value());
            assertArrayEquals(b("retained"), s.get(Family.RETAINED, b("same")).value());
            assertNull(s.get(Family.ENTRIES, b("same")));
            List<String> keys = new ArrayList<>();
            s.scan(Family.RETAINED, (k, v) -> keys.add(new String(k, StandardCharsets.UTF_8) + "=" + new String(v.value(), StandardCharsets.UTF_8)));
            assertEquals(List.of("same=retained"), keys);
        }
    }

    @Test
    void aStoreOfAnotherFormatVersionIsRefused() throws Exception {
        DurableStore.open(dir).close();
        // Rewrite the format record as a later Starling would.
        try (DurableStore s = DurableStore.open(dir)) {
            s.write(List.of(Change.put(Family.META, b("format"), 2, ByteBuffer.allocate(4).putInt(99).array())), true, 0);
        }
        StoreException e = assertThrows(StoreException.class, () -> DurableStore.open(dir));
        assertTrue(e.getMessage().contains("format version 99") && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void aValueThatFailsItsChecksumIsRefusedNamingItsKey() throws Exception {
        try (DurableStore s = DurableStore.open(dir)) {
            s.write(List.of(Change.put(Family.ENTRIES, b("client-7/12"), 1, b("payload"))), true, 0);
        }
        // Damage the value below RocksDB's own checksums: as a bug of ours, or a bad write, would.
        rewriteRaw(Family.ENTRIES, b("client-7/12"), raw -> raw[raw.length - 1] ^= 1);
        try (DurableStore s = DurableStore.open(dir)) {
            StoreException e = assertThrows(StoreException.class, () -> s.scan(Family.ENTRIES, (k, v) -> { }));
            assertTrue(e.getMessage().contains("entries record 'client-7/12' fails its checksum"), e.getMessage());
            assertThrows(StoreException.class, () -> s.write(List.of(Change.put(Family.ENTRIES, b("client-7/12"), 2, b("x"))), false, 0),
                    "a damaged record's version cannot be compared: the write is refused, not guessed");
        }
    }

    @Test
    void aDamagedTableFileRefusesStartUpNamingTheDirectory() throws Exception {
        try (DurableStore s = DurableStore.open(dir)) {
            List<Change> many = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                many.add(Change.put(Family.SESSIONS, b("client-" + i), 1, new byte[100]));
            }
            s.write(many, true, 0);
        }
        // Closing flushed the memtable to a table file; flip bytes in the middle of its data blocks.
        StoreDamage.flipBytesInLargestTable(dir, 1, 64);
        StoreException e = assertThrows(StoreException.class, () -> {
            try (DurableStore s = DurableStore.open(dir)) {
                s.scan(Family.SESSIONS, (k, v) -> { });
            }
        });
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void recordsWithoutAFormatAreNotTakenForAStarlingStore() throws Exception {
        try (DurableStore s = DurableStore.open(dir)) {
            s.write(List.of(Change.put(Family.SESSIONS, b("c"), 1, b("v"))), true, 0);
        }
        rewriteRaw(Family.META, b("format"), null);
        StoreException e = assertThrows(StoreException.class, () -> DurableStore.open(dir));
        assertTrue(e.getMessage().contains("no format version"), e.getMessage());
    }

    interface Edit {
        void apply(byte[] raw);
    }

    /** Changes (or with a null edit, deletes) a stored value with RocksDB directly, under the store's checks. */
    private void rewriteRaw(Family family, byte[] key, Edit edit) throws Exception {
        List<ColumnFamilyDescriptor> d = new ArrayList<>();
        d.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
        for (Family f : Family.values()) {
            d.add(new ColumnFamilyDescriptor(f.familyName()));
        }
        List<ColumnFamilyHandle> h = new ArrayList<>();
        try (DBOptions o = new DBOptions(); RocksDB db = RocksDB.open(o, dir.toString(), d, h)) {
            ColumnFamilyHandle cf = h.get(family.ordinal() + 1);
            if (edit == null) {
                db.delete(cf, key);
            } else {
                byte[] raw = db.get(cf, key);
                edit.apply(raw);
                db.put(cf, key, raw);
            }
            h.forEach(ColumnFamilyHandle::close);
        }
    }
}
