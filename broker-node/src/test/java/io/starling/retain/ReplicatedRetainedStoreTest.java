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
        first = ClusterMember.start(new ClusterSettings(CLUSTER, "127.0.0.1", 15701, List.of("127.0.0.1"), "", 1, Map.of()));
        second = ClusterMember.start(new ClusterSettings(CLUSTER, "127.0.0.1", 15701, List.of("127.0.0.1"), "", 1, Map.of()));
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
