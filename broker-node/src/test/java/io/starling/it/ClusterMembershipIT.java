package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three node processes form one cluster, notice a member that crashes, freezes or stops, take a
 * restarted member back, and keep a node with another cluster name out. One cluster serves every test:
 * each test starts from three running members, whatever the previous one left behind.
 */
class ClusterMembershipIT {
    /** A crashed member must be dropped well before a client's keep-alive runs out. */
    static final int DROP_SECONDS = 15;
    /** The heartbeat timeout (10 s, ClusterMember) and some slack for a busy machine. */
    static final int FROZEN_DROP_SECONDS = 25;

    @RegisterExtension
    static final ClusterFixture cluster = new ClusterFixture(3).restartingDeadNodesBeforeEach();

    @Test
    void threeProcessesFormOneCluster() {
        for (int i = 0; i < 3; i++) {
            assertEquals(3, cluster.memberCount(i), cluster.output(i));
            assertTrue(cluster.output(i).contains("cluster: joined as [127.0.0.1]:" + cluster.clusterPort(i)),
                    "each node should log the address it joined as:\n" + cluster.output(i));
        }
    }

    @Test
    void killedNodeIsDroppedByTheOthers() throws Exception {
        cluster.kill(2);
        long killed = System.nanoTime();
        cluster.awaitMembers(0, 2, DROP_SECONDS);
        cluster.awaitMembers(1, 2, DROP_SECONDS);
        System.out.printf("killed member dropped after %d ms%n", (System.nanoTime() - killed) / 1_000_000);
        String left = "cluster: member left [127.0.0.1]:" + cluster.clusterPort(2);
        assertTrue(cluster.output(0).contains(left), cluster.output(0));
        assertTrue(cluster.output(1).contains(left), cluster.output(1));
    }

    @Test
    void unresponsiveNodeIsDroppedAfterTheHeartbeatTimeout() throws Exception {
        cluster.freeze(2); // connections stay open: only missing heartbeats can tell
        long frozen = System.nanoTime();
        try {
            cluster.awaitMembers(0, 2, FROZEN_DROP_SECONDS);
            cluster.awaitMembers(1, 2, FROZEN_DROP_SECONDS);
            System.out.printf("frozen member dropped after %d ms%n", (System.nanoTime() - frozen) / 1_000_000);
        } finally {
            // Resumed, it would be a cluster of its own until the next split-brain merge search (5 s).
            cluster.kill(2);
        }
    }

    @Test
    void stoppedNodeLeavesPromptly() throws Exception {
        cluster.stop(1); // SIGTERM: the node says goodbye, nobody has to suspect it
        cluster.awaitMembers(0, 2, DROP_SECONDS);
        cluster.awaitMembers(2, 2, DROP_SECONDS);
    }

    @Test
    void crashedNodeRejoinsWhenRestartedOnTheSameAddress() throws Exception {
        cluster.kill(1);
        long restarting = System.nanoTime();
        cluster.restart(1); // at once: the others may not have dropped its old incarnation yet
        cluster.awaitMembersOnEveryNode(3);
        System.out.printf("restarted member rejoined after %d ms%n", (System.nanoTime() - restarting) / 1_000_000);
        assertTrue(cluster.output(1).contains("cluster: joined as [127.0.0.1]:" + cluster.clusterPort(1)),
                "the restarted node should keep its address:\n" + cluster.output(1));
    }

    @Test
    void nodeWithAnotherClusterNameFormsItsOwnClusterAndDoesNotJoin() throws Exception {
        try (ClusterFixture stranger = new ClusterFixture(1)
                .withEnv(0, "STARLING_CLUSTER_NAME", cluster.clusterName() + "-other")
                .withEnv(0, "STARLING_CLUSTER_MEMBERS", cluster.memberList())) {
            stranger.start();
            assertEquals(1, stranger.memberCount(0), stranger.output(0));
            String strangerAddress = "[127.0.0.1]:" + stranger.clusterPort(0);
            for (int i = 0; i < 3; i++) {
                assertEquals(3, cluster.memberCount(i), cluster.output(i));
                assertFalse(cluster.output(i).contains("member joined " + strangerAddress), cluster.output(i));
            }
        }
    }
}
