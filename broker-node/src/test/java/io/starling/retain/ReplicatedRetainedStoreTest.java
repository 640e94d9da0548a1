package io.starling.retain;

import io.starling.cluster.membership.ClusterMember;
import io.starling.cluster.membership.ClusterSettings;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;

/** The Hazelcast-backed store as a one-member cluster, and written on one member, read on another. */
class ReplicatedRetainedStoreTest {
    static ClusterMember first;
    static ClusterMember second;
    static final String CLUSTER = "retained-test-" + UUID.randomUUID();

    @BeforeAll
    static void startMembers() {
        first = ClusterMember.start(new ClusterSettings(CLUSTER, "127.0.0.1", 15701, List.of("127.0.0.1"), "", 1, Map.of()),
                ReplicatedRetainedStore::configure);
        second = ClusterMember.start(new ClusterSettings(CLUSTER, "127.0.0.1", 15701, List.of("127.0.0.1"), "", 1, Map.of()),
                ReplicatedRetainedStore::configure);
    }

    @AfterAll
    static void stopMembers() {
        second.close();
        first.close();
    }

    @Nested
    class OneMember extends RetainedStoreContract {
        ReplicatedRetainedStore store;

        @BeforeEach
        void create() {
            store = new ReplicatedRetainedStore(first.hazelcast().getMap("one-" + UUID.randomUUID()));
        }

        @Override
        RetainedStore store() {
            return store;
        }
    }

    @org.junit.jupiter.api.Test
    void aNodeAloneKeepsRetainedMessagesInItsIndexAndSharesThemWhenANodeJoins() {
        String name = "alone-" + UUID.randomUUID();
        boolean[] peers = {false};
        ReplicatedRetainedStore alone = new ReplicatedRetainedStore(first.hazelcast().getMap(name), () -> peers[0]);
        alone.put(io.starling.topic.TopicName.of("a/b"), RetainedStoreContract.message("a/b", "1", 0));
        org.junit.jupiter.api.Assertions.assertEquals(1, alone.size(), "the index has it");
        org.junit.jupiter.api.Assertions.assertTrue(first.hazelcast().getMap(name).isEmpty(),
                "ADR 0003: a single node makes no Hazelcast call for a retained publish");
        peers[0] = true;
        alone.shareAll();
        long deadline = System.currentTimeMillis() + 5000;
        while (first.hazelcast().getMap(name).isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        org.junit.jupiter.api.Assertions.assertEquals(java.util.Set.of("a/b"), first.hazelcast().getMap(name).keySet(),
                "a node that joins finds it in the map");
        first.hazelcast().getMap(name).destroy();
    }

    @org.junit.jupiter.api.Test
    void theRetainedMapIsMergedByStampAndKeepsTheSettingsOfEveryStarlingMap() {
        com.hazelcast.config.MapConfig config = first.hazelcast().getConfig().findMapConfig(ReplicatedRetainedStore.MAP);
        org.junit.jupiter.api.Assertions.assertEquals(NewerStampMergePolicy.class.getName(),
                config.getMergePolicyConfig().getPolicy(), "docs/adr/0009: the newer stamp wins after a healed partition");
        org.junit.jupiter.api.Assertions.assertEquals(1, config.getBackupCount(), "the settings of starling.*");
        org.junit.jupiter.api.Assertions.assertEquals(0, config.getAsyncBackupCount());
    }

    /**
     * Two members publish to the same two topics at once, many times, messages and removals
     * mixed: when the writes have settled, both, and a store that loads the map afterwards, hold
     * the same register for each topic, the one the map holds.
     */
    @org.junit.jupiter.api.Test
    void concurrentRetainedPublishesOnTwoMembersConverge() throws Exception {
        String name = "race-" + UUID.randomUUID();
        ReplicatedRetainedStore a = new ReplicatedRetainedStore(first.hazelcast().getMap(name));
        ReplicatedRetainedStore b = new ReplicatedRetainedStore(second.hazelcast().getMap(name));
        List<String> topics = List.of("race/0", "race/1");
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        List<Thread> writers = new java.util.ArrayList<>();
        for (ReplicatedRetainedStore store : List.of(a, b)) {
            String who = store == a ? "a" : "b";
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < 400; i++) {
                        String topic = topics.get(i % 2);
                        if (i % 9 == 4) {
                            store.remove(io.starling.topic.TopicName.of(topic));
                        } else {
                            store.put(io.starling.topic.TopicName.of(topic),
                                    RetainedStoreContract.message(topic, who + i, 0));
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "retained-writer-" + who);
            writers.add(t);
            t.start();
        }
        for (Thread t : writers) {
            t.join(30_000);
        }
        com.hazelcast.map.IMap<String, byte[]> map = first.hazelcast().getMap(name);
        long deadline = System.currentTimeMillis() + 15_000;
        while (!sameEverywhere(topics, map, a, b) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        ReplicatedRetainedStore late = new ReplicatedRetainedStore(second.hazelcast().getMap(name));
        for (String topic : topics) {
            Retained inMap = Retained.decode(map.get(topic));
            List<String> want = payloads(inMap.isTombstone() ? List.of() : List.of(inMap.message()));
            for (ReplicatedRetainedStore store : List.of(a, b, late)) {
                String which = store == a ? "first" : store == b ? "second" : "a store loaded afterwards";
                List<io.starling.routing.Message> found = new java.util.ArrayList<>();
                store.match(io.starling.topic.TopicFilter.of(topic), System.currentTimeMillis(), found::add);
                org.junit.jupiter.api.Assertions.assertEquals(want, payloads(found), which + ", " + topic);
                org.junit.jupiter.api.Assertions.assertEquals(inMap.time(), store.register(topic).time(), which);
                org.junit.jupiter.api.Assertions.assertEquals(inMap.node(), store.register(topic).node(), which);
            }
        }
        map.destroy();
    }

    private static boolean sameEverywhere(List<String> topics, com.hazelcast.map.IMap<String, byte[]> map,
                                          ReplicatedRetainedStore a, ReplicatedRetainedStore b) {
        for (String topic : topics) {
            byte[] v = map.get(topic);
            Retained inMap = v == null ? null : Retained.decode(v);
            for (ReplicatedRetainedStore s : List.of(a, b)) {
                Retained r = s.register(topic);
                if (inMap == null || r == null || r.time() != inMap.time() || r.node() != inMap.node()) {
                    return false;
                }
            }
        }
        return true;
    }

    private static List<String> payloads(List<io.starling.routing.Message> messages) {
        return messages.stream().map(m -> new String(m.payload(), java.nio.charset.StandardCharsets.UTF_8)).toList();
    }

    /** Hazelcast's TTL forgets a tombstone after its lifetime, and a message set over one lives on. */
    @org.junit.jupiter.api.Test
    void theMapForgetsTombstonesButNotAMessageThatReplacedOne() throws Exception {
        String name = "lifetime-" + UUID.randomUUID();
        com.hazelcast.map.IMap<String, byte[]> map = first.hazelcast().getMap(name);
        ReplicatedRetainedStore store = new ReplicatedRetainedStore(new HazelcastRetainedMap(map), () -> true,
                System::currentTimeMillis, 1_000, 7);
        store.remove(io.starling.topic.TopicName.of("l/kept"));
        store.remove(io.starling.topic.TopicName.of("l/gone"));
        long deadline = System.currentTimeMillis() + 5_000;
        while (map.size() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        store.put(io.starling.topic.TopicName.of("l/kept"), RetainedStoreContract.message("l/kept", "x", 0));
        while ((map.get("l/kept") == null || Retained.decode(map.get("l/kept")).isTombstone())
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(2_500);
        org.junit.jupiter.api.Assertions.assertFalse(map.containsKey("l/gone"), "the tombstone is forgotten");
        org.junit.jupiter.api.Assertions.assertTrue(map.containsKey("l/kept"),
                "the message does not inherit the tombstone's TTL");
        map.destroy();
    }

    @Nested
    class TwoMembers extends RetainedStoreContract {
        ReplicatedRetainedStore writer;
        ReplicatedRetainedStore reader;
        String map;

        @BeforeEach
        void create() {
            map = "two-" + UUID.randomUUID();
            writer = new ReplicatedRetainedStore(first.hazelcast().getMap(map));
            reader = new ReplicatedRetainedStore(second.hazelcast().getMap(map));
        }

        @AfterEach
        void destroy() {
            first.hazelcast().getMap(map).destroy();
        }

        @Override
        RetainedStore store() {
            return writer;
        }

        @Override
        RetainedStore reader() {
            return reader;
        }

        @org.junit.jupiter.api.Test
        void sysTopicsStayOnTheNodeThatPublishedThem() throws InterruptedException {
            writer.put(io.starling.topic.TopicName.of("$SYS/broker/uptime"), message("$SYS/broker/uptime", "5", 0));
            writer.put(io.starling.topic.TopicName.of("shared/marker"), message("shared/marker", "m", 0));
            awaitPropagation(1);
            org.junit.jupiter.api.Assertions.assertEquals(java.util.Set.of("shared/marker"), topicsMatching("#"));
            org.junit.jupiter.api.Assertions.assertEquals(1, reader.size(), "each node has its own $SYS");
            org.junit.jupiter.api.Assertions.assertEquals(2, writer.size());
        }

        @Override
        void awaitPropagation(int expectedSize) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 10_000;
            while (reader.size() != expectedSize && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
        }
    }
}
