package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import io.starling.cluster.membership.ClusterMember;
import io.starling.cluster.membership.ClusterSettings;
import io.starling.protocol.Connect;
import io.starling.protocol.Properties;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import io.vertx.core.Future;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The replicated store of persistent sessions (issue 3, docs/adr/0006) against real Hazelcast
 * members in this JVM: a one-member cluster, and a two-member cluster where one member writes and
 * the other reads, as a node adopting a dead node's sessions does. Every wait is bounded.
 */
class SessionStoreTest {
    static final long WAIT_MILLIS = 10_000;

    static ClusterMember alone;
    static ClusterMember first;
    static ClusterMember second;
    static String cluster;

    @BeforeAll
    static void startMembers() throws IOException {
        // Its own cluster name and no member list: a one-member cluster that joins nothing.
        alone = ClusterMember.start(new ClusterSettings("session-store-alone-" + UUID.randomUUID(), "127.0.0.1",
                freePort(), List.of(), "", 1, Map.of()));
        cluster = "session-store-" + UUID.randomUUID();
        first = startJoining(null);
        second = startJoining(first);
    }

    @AfterAll
    static void stopMembers() {
        for (ClusterMember m : new ClusterMember[] {second, first, alone}) {
            if (m != null) {
                m.close();
            }
        }
    }

    /**
     * A member of {@link #cluster} with backup count 1, joining {@code seed} by its actual port: a
     * fixed port could be taken by another build's members on this machine.
     */
    static ClusterMember startJoining(ClusterMember seed) throws IOException {
        int port = freePort();
        int seedPort = seed == null ? port : seed.localMember().getAddress().getPort();
        return ClusterMember.start(new ClusterSettings(cluster, "127.0.0.1", port, List.of("127.0.0.1:" + seedPort),
                "", 1, Map.of()));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static SessionStore storeOn(HazelcastInstance hz, String suffix, BooleanSupplier active) {
        // Named under "starling." so that ClusterMember's map configuration (backup count) applies.
        return new SessionStore(hz.getMap(SessionStore.SESSIONS + "-" + suffix),
                hz.getMap(SessionStore.QUEUE + "-" + suffix), active, java.util.concurrent.ForkJoinPool.commonPool());
    }

    private static final Map<String, ReplicatedJournal> JOURNALS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * How the broker writes to the store: through each session's journal, one per session (its
     * versions grow with each change, so a second journal for the same session would rank below).
     */
    static SessionJournal journal(SessionStore store, String clientId) {
        return JOURNALS.computeIfAbsent(System.identityHashCode(store) + "/" + clientId,
                k -> new ReplicatedJournal(clientId, store));
    }

    /** Messages in the queue map that are not tombstones of removed ones. */
    static int live(HazelcastInstance hz, String suffix) {
        com.hazelcast.map.IMap<Object, byte[]> q = hz.getMap(SessionStore.QUEUE + "-" + suffix);
        return (int) q.values().stream().filter(v -> SessionStore.payloadOf(v) != null).count();
    }

    static void destroyMaps(HazelcastInstance hz, String suffix) {
        hz.getMap(SessionStore.SESSIONS + "-" + suffix).destroy();
        hz.getMap(SessionStore.QUEUE + "-" + suffix).destroy();
    }

    static SessionState meta(String clientId) {
        Properties willProps = new Properties();
        willProps.willDelayInterval = 5L;
        Connect.Will will = new Connect.Will("wills/" + clientId, new byte[] {1}, 1, false, willProps);
        // As Session.meta writes it: the messages are stored one by one, not in the record.
        return new SessionState(3600, List.of(new Subscription(clientId, TopicFilter.of("a/#"), 2, false, true, 1, 9)),
                List.of(), List.of(), List.of(), will);
    }

    static Delivery delivery(String topic, long seq) {
        return new Delivery(new Message(topic, topic.getBytes(StandardCharsets.UTF_8), 2, false, Properties.EMPTY, 0,
                "publisher", 0), 2, false, new int[] {9}, null, seq, null, Delivery.ROUTED);
    }

    static void await(Future<?> f) throws Exception {
        f.toCompletionStage().toCompletableFuture().get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Polls until {@code value} gives something {@code done} accepts, or the bounded wait runs out. */
    static <T> T eventually(Supplier<T> value, Predicate<T> done) throws InterruptedException {
        long deadline = System.currentTimeMillis() + WAIT_MILLIS;
        T v = value.get();
        while (!done.test(v) && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
            v = value.get();
        }
        return v;
    }

    static List<Long> seqs(List<Delivery> ds) {
        return ds.stream().map(Delivery::seq).toList();
    }

    static int messageCount(SessionState s) {
        return s == null ? -1 : s.inflight().size() + s.queued().size();
    }

    /** What every store does, whichever member writes and whichever reads. */
    abstract class Contract {
        abstract SessionStore writer();

        abstract SessionStore reader();

        /** Saves a session with two messages in flight and two queued, written out of sequence order. */
        void saveSession(String clientId) throws Exception {
            SessionJournal j = journal(writer(), clientId);
            j.record(meta(clientId));
            j.keep(delivery("q/100", 100), 0, false);
            j.keep(delivery("f/10", 10), 7, true);
            j.keep(delivery("q/11", 11), 0, false);
            await(j.keep(delivery("f/2", 2), 65_535, false));
        }

        SessionState loadWithMessages(String clientId, int messages) throws InterruptedException {
            // Reads of another member may see a write a little later.
            return eventually(() -> reader().load(clientId), s -> messageCount(s) == messages);
        }

        @Test
        void loadReturnsTheRecordWithInflightAndQueuedMessagesInSequenceOrder() throws Exception {
            String client = "c-" + UUID.randomUUID();
            saveSession(client);

            SessionState s = loadWithMessages(client, 4);
            assertNotNull(s);
            assertEquals(3600, s.expirySeconds());
            assertEquals(meta(client).subscriptions(), s.subscriptions());
            assertEquals("wills/" + client, s.will().topic());
            assertEquals(5L, s.will().properties().willDelayInterval);
            // A packet identifier marks a message sent and not completed; [MQTT-4.4.0-1] it is resent
            // with that identifier, and in the order first sent (sequence order, numeric: 2 before 10).
            assertEquals(List.of(2L, 10L), seqs(s.inflight().stream().map(SessionState.Inflight::delivery).toList()));
            assertEquals(List.of(65_535, 7), s.inflight().stream().map(SessionState.Inflight::packetId).toList());
            assertEquals(List.of(false, true), s.inflight().stream().map(SessionState.Inflight::released).toList());
            assertEquals("f/2", s.inflight().get(0).delivery().message().topic());
            assertEquals(List.of(11L, 100L), seqs(s.queued()));
            assertEquals("q/11", s.queued().get(0).message().topic());
            assertEquals(9, s.queued().get(0).subscriptionIds()[0]);
            assertEquals(List.of(), s.inboundQos2(), "not stored: the publisher resends an unreleased QoS 2");
        }

        @Test
        void removeDeliveryRemovesOnlyThatMessage() throws Exception {
            String client = "c-" + UUID.randomUUID();
            saveSession(client);
            assertEquals(4, messageCount(loadWithMessages(client, 4)));

            SessionJournal j = journal(writer(), client);
            j.forget(10, 42);
            await(j.flushed());
            SessionState s = loadWithMessages(client, 3);
            assertEquals(List.of(2L), seqs(s.inflight().stream().map(SessionState.Inflight::delivery).toList()));
            assertEquals(List.of(11L, 100L), seqs(s.queued()));
        }

        @Test
        void removeSessionRemovesItsRecordAndMessagesButNotAnotherClients() throws Exception {
            String client = "c-" + UUID.randomUUID();
            // The other client's messages sit in the same partition, so only the client id check
            // in the partition query keeps them apart.
            String neighbour = samePartitionAs(client);
            saveSession(client);
            saveSession(neighbour);
            assertEquals(4, messageCount(loadWithMessages(client, 4)));
            assertEquals(4, messageCount(loadWithMessages(neighbour, 4)));

            await(journal(writer(), client).forgetSession());
            assertNull(reader().load(client), "the record is deleted before removeSession returns");
            assertEquals(4, (int) eventually(this::storedMessages, n -> n == 4),
                    "the removed client's messages went, the neighbour's stayed");
            SessionState kept = reader().load(neighbour);
            assertEquals(4, messageCount(kept));
            assertEquals(meta(neighbour).subscriptions(), kept.subscriptions());
        }

        @Test
        void loadOfAnUnknownClientIsNull() {
            assertNull(reader().load("never-" + UUID.randomUUID()));
        }

        @Test
        void aRecordWithoutMessagesLoadsWithEmptyLists() throws Exception {
            String client = "c-" + UUID.randomUUID();
            await(journal(writer(), client).record(meta(client)));
            SessionState s = eventually(() -> reader().load(client), v -> v != null);
            assertNotNull(s);
            assertEquals(List.of(), s.inflight());
            assertEquals(List.of(), s.queued());
        }

        abstract String samePartitionAs(String clientId);

        /** Messages in the queue map, of every client. */
        abstract int storedMessages();
    }

    @Nested
    class OneMember extends Contract {
        String suffix;
        SessionStore store;

        @BeforeEach
        void create() {
            suffix = UUID.randomUUID().toString();
            store = storeOn(alone.hazelcast(), suffix, () -> true);
        }

        @AfterEach
        void destroy() {
            destroyMaps(alone.hazelcast(), suffix);
        }

        @Override
        SessionStore writer() {
            return store;
        }

        @Override
        SessionStore reader() {
            return store;
        }

        @Override
        String samePartitionAs(String clientId) {
            return neighbourOf(alone.hazelcast(), clientId);
        }

        @Override
        int storedMessages() {
            return live(alone.hazelcast(), suffix);
        }
    }

    @Nested
    class TwoMembers extends Contract {
        String suffix;
        SessionStore writer;
        SessionStore reader;

        @BeforeEach
        void create() {
            suffix = UUID.randomUUID().toString();
            writer = storeOn(first.hazelcast(), suffix, () -> true);
            reader = storeOn(second.hazelcast(), suffix, () -> true);
        }

        @AfterEach
        void destroy() {
            destroyMaps(first.hazelcast(), suffix);
        }

        @Override
        SessionStore writer() {
            return writer;
        }

        @Override
        SessionStore reader() {
            return reader;
        }

        @Override
        String samePartitionAs(String clientId) {
            return neighbourOf(first.hazelcast(), clientId);
        }

        @Override
        int storedMessages() {
            return live(second.hazelcast(), suffix);
        }

        /**
         * The durability promise (issue 3): a session written on a member that then dies without a
         * graceful leave is still loaded by a survivor, from the synchronous backup (backup count 1).
         * A third member writes, so that the class's two members stay for the other tests.
         */
        @Test
        void aSessionSurvivesTheLossOfTheMemberThatWroteIt() throws Exception {
            ClusterMember doomed = startJoining(first);
            try {
                assertEquals(3, (int) eventually(first::memberCount, n -> n == 3));
                assertTrue(eventually(() -> first.hazelcast().getPartitionService().isClusterSafe(), v -> v));
                SessionStore dying = storeOn(doomed.hazelcast(), suffix, () -> true);
                // A session whose primary copy is on the member that dies: only the backup can save it.
                String client = ownedBy(doomed);
                SessionJournal j = journal(dying, client);
                j.record(meta(client));
                j.keep(delivery("f/1", 1), 3, false);
                await(j.keep(delivery("q/2", 2), 0, false));
                assertEquals(2, messageCount(eventually(() -> writer.load(client), s -> messageCount(s) == 2)));
                // The member is only killed once every backup is in place.
                assertTrue(eventually(() -> doomed.hazelcast().getPartitionService().isClusterSafe(), v -> v));

                doomed.hazelcast().getLifecycleService().terminate(); // a crash: no partitions handed over
                assertEquals(2, (int) eventually(first::memberCount, n -> n == 2));
                // Loaded at once, without waiting for the cluster to be safe again: adoption does not wait.

                SessionState s = writer.load(client);
                assertNotNull(s, "the session record was lost with its member");
                assertEquals(meta(client).subscriptions(), s.subscriptions());
                assertEquals(List.of(3), s.inflight().stream().map(SessionState.Inflight::packetId).toList());
                assertEquals(List.of(2L), seqs(s.queued()));
                assertNotNull(reader.load(client), "and the other survivor sees the same");
            } finally {
                doomed.hazelcast().getLifecycleService().terminate();
            }
        }
    }

    /** A client id whose partition's primary copy is on {@code member}. */
    static String ownedBy(ClusterMember member) {
        String prefix = "c-" + UUID.randomUUID() + "-";
        for (int i = 0; i < 100_000; i++) {
            String candidate = prefix + i;
            if (member.localMember().equals(
                    member.hazelcast().getPartitionService().getPartition(candidate).getOwner())) {
                return candidate;
            }
        }
        throw new AssertionError("no partition owned by " + member.localMember());
    }

    /** A client id other than {@code clientId} whose entries land in the same partition. */
    static String neighbourOf(HazelcastInstance hz, String clientId) {
        int partition = hz.getPartitionService().getPartition(clientId).getPartitionId();
        for (int i = 0; i < 100_000; i++) {
            String candidate = "n-" + i + "-" + clientId;
            if (hz.getPartitionService().getPartition(candidate).getPartitionId() == partition) {
                return candidate;
            }
        }
        throw new AssertionError("no other client id in partition " + partition);
    }

    @Test
    void activeAsksTheSupplierEachTime() {
        boolean[] active = {false};
        SessionStore store = new SessionStore(null, null, () -> active[0], Runnable::run);
        assertFalse(store.active());
        active[0] = true;
        assertTrue(store.active(), "asked again each time");
    }
}
