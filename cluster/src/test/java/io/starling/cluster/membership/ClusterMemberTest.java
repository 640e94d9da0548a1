package io.starling.cluster.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.internal.util.ConcurrencyUtil;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** How a member is configured to join, and what two real members in one JVM see of each other. */
class ClusterMemberTest {
    static final String DNS = "starling-headless.default.svc.cluster.local";

    static ClusterSettings settings(List<String> members, String dns, int backups, Map<String, String> attributes) {
        return new ClusterSettings("member-test-" + UUID.randomUUID(), "127.0.0.1", 25701, members, dns, backups,
                attributes);
    }

    /**
     * A bind host given as a name (compose's service names) is announced and bound as its address,
     * and members given by name are not filtered by Hazelcast's interfaces (which keep only names
     * resolving to this member's own address: every compose node was a cluster of one).
     */
    @Test
    void bindHostNameIsResolvedAndMemberNamesAreNotFilteredByInterfaces() {
        Config config = ClusterMember.config(new ClusterSettings("n", "localhost", 25701,
                List.of("starling1:5701", "starling2:5701"), "", 1, Map.of()));
        String loopback = java.net.InetAddress.getLoopbackAddress().getHostAddress();
        assertEquals(loopback, config.getProperty("hazelcast.local.localAddress"));
        assertFalse(config.getNetworkConfig().getInterfaces().isEnabled(), "interfaces filter members given by name");
        assertEquals("false", config.getProperty("hazelcast.socket.bind.any"), "listens on the bind address only");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterMember.config(
                new ClusterSettings("n", "no-such-host.invalid", 25701, List.of(), "", 1, Map.of())));
        assertTrue(e.getMessage().contains("cluster.bind-host 'no-such-host.invalid'"), e.getMessage());
    }

    /**
     * Hazelcast's fallback when the common pool has parallelism 1 (2 cores) starts a thread per
     * callback; each claim of a client identifier paid two (issue 4). The callbacks must run on
     * pooled threads instead, whatever the machine.
     */
    @Test
    void asyncCallbacksRunOnPooledThreads() throws Exception {
        ClusterMember.useAsyncPool();
        Executor executor = ConcurrencyUtil.getDefaultAsyncExecutor();
        Set<Thread> threads = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(50);
        for (int i = 0; i < 50; i++) {
            executor.execute(() -> {
                threads.add(Thread.currentThread());
                done.countDown();
            });
        }
        assertTrue(done.await(30, TimeUnit.SECONDS), "callbacks ran");
        assertTrue(threads.size() <= Math.max(ClusterMember.ASYNC_THREADS,
                ForkJoinPool.getCommonPoolParallelism()), "threads used: " + threads.size());
    }

    @Test
    void kubernetesDnsReplacesTheMemberList() {
        JoinConfig join = ClusterMember.config(settings(List.of(), DNS, 1, Map.of())).getNetworkConfig().getJoin();
        assertTrue(join.getKubernetesConfig().isEnabled());
        assertEquals(DNS, join.getKubernetesConfig().getProperty("service-dns"));
        assertFalse(join.getTcpIpConfig().isEnabled());
        assertFalse(join.getMulticastConfig().isEnabled());
        assertFalse(join.getAutoDetectionConfig().isEnabled());
    }

    @Test
    void withoutDnsTheStaticMemberListIsUsed() {
        JoinConfig join = ClusterMember.config(settings(List.of("127.0.0.1:25702"), "", 1, Map.of()))
                .getNetworkConfig().getJoin();
        assertTrue(join.getTcpIpConfig().isEnabled());
        assertEquals(List.of("127.0.0.1:25702"), join.getTcpIpConfig().getMembers());
        assertFalse(join.getKubernetesConfig().isEnabled());
        assertFalse(join.getMulticastConfig().isEnabled());
        assertFalse(join.getAutoDetectionConfig().isEnabled());
    }

    @Test
    void bothAMemberListAndDnsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> settings(List.of("127.0.0.1:25702"), DNS, 1, Map.of()));
    }

    @Test
    void backupCountAppliesToEveryStarlingMapWithoutAsyncBackups() {
        Config config = ClusterMember.config(settings(List.of(), "", 3, Map.of()));
        for (String map : List.of("starling.retained", "starling.sessions")) {
            assertEquals(3, config.findMapConfig(map).getBackupCount(), map);
            assertEquals(0, config.findMapConfig(map).getAsyncBackupCount(), map);
        }
        assertEquals(1, config.findMapConfig("someone-else").getBackupCount(), "other maps keep Hazelcast's default");
    }

    @Test
    void healedPartitionIsMergedWithinSecondsAndEntriesKeepTheStatsMergePoliciesCompare() {
        Config config = ClusterMember.config(settings(List.of(), "", 1, Map.of()));
        assertEquals("5", config.getProperty("hazelcast.merge.first.run.delay.seconds"));
        assertEquals("5", config.getProperty("hazelcast.merge.next.run.delay.seconds"));
        for (String map : List.of("starling.retained", "starling.clients")) {
            assertTrue(config.findMapConfig(map).isPerEntryStatsEnabled(), map);
        }
    }

    @Test
    void attributesAreVisibleToOtherMembersAndJoinsAndLeavesAreLogged() throws Exception {
        List<String> logged = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(ClusterMember.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        String name = "member-test-" + UUID.randomUUID();
        try (ClusterMember first = ClusterMember.start(new ClusterSettings(name, "127.0.0.1", 25711,
                List.of("127.0.0.1:25712"), "", 1, Map.of("starling.link-port", "25811")))) {
            try (ClusterMember second = ClusterMember.start(new ClusterSettings(name, "127.0.0.1", 25712,
                    List.of("127.0.0.1:25711"), "", 1, Map.of("starling.link-port", "25812")))) {
                assertEquals(2, second.memberCount());
                Member seen = second.hazelcast().getCluster().getMembers().stream()
                        .filter(m -> !m.localMember()).findFirst().orElseThrow();
                assertEquals("25811", seen.getAttribute("starling.link-port"));
                awaitLogged(logged, "cluster: member joined " + second.localMember().getAddress() + ", now 2 members");
            }
            awaitLogged(logged, "cluster: member left ");
            assertEquals(1, first.memberCount());
            assertTrue(logged.stream().anyMatch(l -> l.startsWith("cluster: joined as ") && l.endsWith(", 1 members")),
                    logged.toString());
        } finally {
            log.removeHandler(capture);
        }
    }

    static void awaitLogged(List<String> logged, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (logged.stream().noneMatch(l -> l.startsWith(prefix))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nothing logged starting with '" + prefix + "'; logged: " + logged);
            }
            Thread.sleep(20);
        }
    }
}
