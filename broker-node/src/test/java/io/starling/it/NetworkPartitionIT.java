package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three node processes in network namespaces of their own: node3 is cut off from the other two
 * (clients still reach all three), each side goes on as a cluster of its own, and once the network
 * heals Hazelcast's split-brain merge makes them one cluster again. One cluster serves every test:
 * each test starts from a healed network and three members, whatever the previous one left behind.
 */
class NetworkPartitionIT {
    /** The heartbeat timeout (10 s, ClusterMember) and some slack for a busy machine. */
    static final int SPLIT_SECONDS = 25;
    /** Merge searches run every 5 s (ClusterMember); a merge restarts the smaller side's member. */
    static final int MERGE_SECONDS = 60;

    @RegisterExtension
    static final NamespaceCluster cluster = new NamespaceCluster(3);

    private static String id(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @BeforeEach
    void oneClusterOfThree() throws Exception {
        cluster.heal();
        for (int i = 0; i < 3; i++) {
            cluster.awaitMembers(i, 3, MERGE_SECONDS);
        }
    }

    /** Cuts node3 off and waits until both sides have dropped the other. */
    private static void isolateNode3() throws Exception {
        cluster.isolate(2);
        long cut = System.nanoTime();
        cluster.awaitMembers(0, 2, SPLIT_SECONDS);
        cluster.awaitMembers(1, 2, SPLIT_SECONDS);
        cluster.awaitMembers(2, 1, SPLIT_SECONDS);
        System.out.printf("partition detected on both sides after %d ms%n", (System.nanoTime() - cut) / 1_000_000);
    }

    /** Heals the network and waits until every node counts three members again. */
    private static void healAndAwaitMerge() throws Exception {
        cluster.heal();
        long healed = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            cluster.awaitMembers(i, 3, MERGE_SECONDS);
        }
        System.out.printf("healed partition merged after %d ms%n", (System.nanoTime() - healed) / 1_000_000);
    }

    /** A QoS 1 message published on {@code from} reaches a subscriber on {@code to}. */
    private static void assertRouted(int from, int to) throws Exception {
        String topic = "route/" + UUID.randomUUID();
        try (PahoV5Client sub = PahoV5Client.connect(cluster.uri(to), id("sub"), null);
             PahoV5Client pub = PahoV5Client.connect(cluster.uri(from), id("pub"), null)) {
            sub.subscribe(topic, 1);
            pub.publish(topic, "from " + cluster.name(from), 1, false);
            PahoV5Client.Received r = sub.poll(PahoV5Client.WAIT_MS);
            assertNotNull(r, "published on " + cluster.name(from) + ", not received on " + cluster.name(to));
            assertEquals("from " + cluster.name(from), r.text());
        }
    }

    @Test
    void isolatedNodeFormsItsOwnClusterAndTheOthersKeepServing() throws Exception {
        isolateNode3();
        assertRouted(0, 1);
        assertRouted(2, 2);
    }

    @Test
    void healedPartitionMergesIntoOneClusterAndRoutesAgain() throws Exception {
        isolateNode3();
        healAndAwaitMerge();
        assertRouted(0, 2);
        assertRouted(2, 0);
    }

    @Test
    void retainedMessagesSetOnBothSidesDuringASplitAreMergedOnHeal() throws Exception {
        String base = "split-" + UUID.randomUUID().toString().substring(0, 8);
        isolateNode3();
        try (PahoV5Client sideA = PahoV5Client.connect(cluster.uri(0), id("ra"), null);
             PahoV5Client sideB = PahoV5Client.connect(cluster.uri(2), id("rb"), null)) {
            sideA.publish(base + "/x", "set on node1", 1, true);
            sideB.publish(base + "/y", "set on node3", 1, true);
        }
        healAndAwaitMerge();
        Set<String> both = Set.of(base + "/x=set on node1", base + "/y=set on node3");
        Map<String, Set<String>> expected = new TreeMap<>();
        Map<String, Set<String>> got = new TreeMap<>();
        for (int node = 0; node < 3; node++) {
            expected.put(cluster.name(node), both);
            got.put(cluster.name(node), retained(node, base + "/+", both.size(), 10_000));
        }
        assertEquals(expected, got, "retained messages a new subscriber gets on each node after the merge");
    }

    /**
     * docs/adr/0009: a topic set on both sides during a split ends with the later message on every
     * node, even when the smaller side set it (the default merge policy kept the larger side's), and
     * a removal made on the smaller side, a single node, is not undone by the larger side's copy.
     */
    @Test
    void aTopicSetOnBothSidesDuringASplitEndsWithTheLaterWriteEverywhere() throws Exception {
        String base = "lww-" + UUID.randomUUID().toString().substring(0, 8);
        try (PahoV5Client before = PahoV5Client.connect(cluster.uri(0), id("rw"), null)) {
            before.publish(base + "/gone", "set before the split", 1, true);
        }
        Set<String> beforeSplit = Set.of(base + "/gone=set before the split");
        for (int node = 0; node < 3; node++) {
            assertEquals(beforeSplit, retainedExactly(node, base + "/+", beforeSplit, 10_000), "node " + node);
        }
        isolateNode3();
        try (PahoV5Client sideA = PahoV5Client.connect(cluster.uri(0), id("ra"), null);
             PahoV5Client sideB = PahoV5Client.connect(cluster.uri(2), id("rb"), null)) {
            sideA.publish(base + "/same", "earlier on node1", 1, true);
            Thread.sleep(100);
            sideB.publish(base + "/same", "later on node3", 1, true);
            sideB.publish(base + "/gone", "", 1, true); // [MQTT-3.3.1-6]
        }
        healAndAwaitMerge();
        Set<String> after = Set.of(base + "/same=later on node3");
        Map<String, Set<String>> expected = new TreeMap<>();
        Map<String, Set<String>> got = new TreeMap<>();
        for (int node = 0; node < 3; node++) {
            expected.put(cluster.name(node), after);
            got.put(cluster.name(node), retainedExactly(node, base + "/+", after, 15_000));
        }
        assertEquals(expected, got, "retained messages a new subscriber gets on each node after the merge");
    }

    @Test
    void clientConnectedOnBothSidesOfASplitKeepsOneSessionAfterTheHeal() throws Exception {
        String clientId = id("dual");
        isolateNode3();
        try (PahoV5Client onA = new PahoV5Client(cluster.uri(0), clientId);
             PahoV5Client onB = new PahoV5Client(cluster.uri(2), clientId)) {
            onA.connect(o -> o.setSessionExpiryInterval(300L));
            onA.subscribe("dual/#", 1);
            onB.connect(o -> o.setSessionExpiryInterval(300L));
            onB.subscribe("dual/#", 1);
            healAndAwaitMerge();
            // The larger side's registry entry wins (docs/adr/0006); the smaller side's copy yields.
            long deadline = System.currentTimeMillis() + 15_000;
            while (onB.client.isConnected() && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
            }
            assertTrue(onA.client.isConnected(), "the larger side's connection stays");
            assertTrue(!onB.client.isConnected(), "the smaller side's copy of the session yields after the heal");
            var d = onB.disconnects.poll(1, java.util.concurrent.TimeUnit.SECONDS);
            if (d != null) {
                assertEquals(0x8E, d.getReturnCode(), "the yielding connection is told Session taken over");
            }
            try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(1), id("dp"), null)) {
                pub.publish("dual/x", "after heal", 1, false).waitForCompletion(5000);
            }
            PahoV5Client.Received r = onA.poll(5000);
            assertNotNull(r, "the surviving session gets messages published anywhere");
            assertEquals("after heal", r.text());
            assertNull(onA.poll(500), "once");
        }
    }

    /** Like {@link #retained}, trying until exactly {@code expected} arrive or the time is up. */
    private static Set<String> retainedExactly(int node, String filter, Set<String> expected, long waitMs)
            throws Exception {
        long deadline = System.currentTimeMillis() + waitMs;
        Set<String> got;
        do {
            got = retained(node, filter, 0, 0);
            if (!got.equals(expected)) {
                Thread.sleep(200);
            }
        } while (!got.equals(expected) && System.currentTimeMillis() < deadline);
        return got;
    }

    /**
     * The retained messages ({@code topic=payload}) a new subscription on {@code node} gets, trying
     * new subscriptions until {@code expected} arrive or the time is up (the index may lag a merge).
     */
    private static Set<String> retained(int node, String filter, int expected, long waitMs) throws Exception {
        long deadline = System.currentTimeMillis() + waitMs;
        Set<String> got = new TreeSet<>();
        do {
            got.clear();
            try (PahoV5Client sub = PahoV5Client.connect(cluster.uri(node), id("rs"), null)) {
                sub.subscribe(filter, 1);
                PahoV5Client.Received r;
                while ((r = sub.poll(300)) != null) {
                    got.add(r.topic() + "=" + r.text());
                }
            }
        } while (got.size() < expected && System.currentTimeMillis() < deadline);
        return got;
    }
}
