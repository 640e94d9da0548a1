package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.persistence.DurableStore;
import io.starling.persistence.Family;
import io.starling.persistence.GroupCommit;
import io.starling.persistence.JournalKeys;
import io.starling.persistence.PersistenceMode;
import io.starling.persistence.StoredValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's journal with a durable store on a single node (no replicated store to write to):
 * every change reaches the disk with the journal's versions, and an ended session leaves only its
 * record's tombstone.
 */
class DurableJournalTest {
    @TempDir
    Path dir;

    @Test
    void aSingleNodesJournalWritesEveryChangeToDiskAndAnEndedSessionLeavesOnlyATombstone() throws Exception {
        SessionStore replicated = new SessionStore(null, null, () -> false, Runnable::run); // no peers: never written
        try (DurableStore store = DurableStore.open(dir);
             GroupCommit disk = new GroupCommit(store, PersistenceMode.SYNC, 100, 1000, new SimpleMeterRegistry(),
                     System::currentTimeMillis)) {
            ReplicatedJournal journal = new ReplicatedJournal("dev-1", replicated, disk);
            journal.ownedWith(3);
            assertTrue(journal.active(), "a durable store makes the journal active without peers");
            SessionState meta = SessionStoreTest.meta("dev-1");
            SessionStoreTest.await(journal.record(meta));
            SessionStoreTest.await(journal.keep(SessionStoreTest.delivery("a/1", 1), 0, false));
            SessionStoreTest.await(journal.keep(SessionStoreTest.delivery("a/2", 2), 7, false));
            SessionStoreTest.await(journal.keepInbound(12, 99, true));
            journal.forget(1, 1234);
            SessionStoreTest.await(journal.flushed());

            StoredValue record = store.get(Family.SESSIONS, JournalKeys.session("dev-1"));
            SessionState back = SessionState.decode("dev-1", record.value());
            assertEquals(meta.expirySeconds(), back.expirySeconds(), "the record in the replicated store's encoding");
            assertEquals(meta.subscriptions(), back.subscriptions());
            assertEquals(meta.will().topic(), back.will().topic());
            assertEquals(3, record.version() >>> 40, "versions carry the claim epoch, as in the replicated store");
            List<String> entries = new ArrayList<>();
            store.scan(Family.ENTRIES, (k, v) -> entries.add(JournalKeys.clientIdOf(k) + "/" + JournalKeys.seqOf(k)
                    + (v.isTombstone() ? " removed" : "")));
            assertEquals(List.of("dev-1/-12", "dev-1/1 removed", "dev-1/2"), entries,
                    "inbound QoS 2 ids first, then the messages in sequence order");
            assertTrue(store.get(Family.ENTRIES, JournalKeys.entry("dev-1", 1)).version()
                    > store.get(Family.ENTRIES, JournalKeys.entry("dev-1", 2)).version(),
                    "a later change has a higher version: the removal of 1 came after the keeping of 2");

            SessionStoreTest.await(journal.forgetSession());
            List<String> left = new ArrayList<>();
            store.scan(Family.ENTRIES, (k, v) -> left.add(JournalKeys.clientIdOf(k)));
            assertEquals(List.of(), left, "an ended session's messages go");
            StoredValue tomb = store.get(Family.SESSIONS, JournalKeys.session("dev-1"));
            assertTrue(tomb.isTombstone(), "its record leaves a tombstone");
            assertTrue(tomb.version() > record.version());
        }
    }

    @Test
    void withoutADurableStoreNorPeersNothingIsWritten() {
        SessionStore replicated = new SessionStore(null, null, () -> false, Runnable::run);
        ReplicatedJournal journal = new ReplicatedJournal("dev-2", replicated);
        assertFalse(journal.active());
        assertTrue(journal.record(SessionStoreTest.meta("dev-2")).succeeded(), "completes at once, writes nothing");
    }
}
