package io.starling.cluster.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.map.IMap;
import io.starling.cluster.membership.ClusterMember;
import io.starling.cluster.membership.ClusterSettings;
import io.vertx.core.Future;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Client identifier ownership across a two-member cluster in this JVM. Node "a" claims through the
 * first member and node "b" through the second, on the same map, as two broker nodes would: a
 * claim made on one node is often executed on the other's partition.
 */
class ClientRegistryTest {
    static final long WAIT_SECONDS = 10;

    static ClusterMember first;
    static ClusterMember second;

    String map;
    ClientRegistry a;
    ClientRegistry b;
    String client;

    @BeforeAll
    static void startMembers() throws IOException {
        String cluster = "registry-test-" + UUID.randomUUID();
        int port = freePort();
        first = ClusterMember.start(new ClusterSettings(cluster, "127.0.0.1", port, List.of("127.0.0.1:" + port), "",
                1, Map.of()));
        // Joins the first member by its actual port, which another build on this machine may have pushed up.
        int firstPort = first.localMember().getAddress().getPort();
        second = ClusterMember.start(new ClusterSettings(cluster, "127.0.0.1", freePort(),
                List.of("127.0.0.1:" + firstPort), "", 1, Map.of()));
    }

    @AfterAll
    static void stopMembers() {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeEach
    void create() {
        map = ClientRegistry.MAP + "-" + UUID.randomUUID();
        a = new ClientRegistry(first.hazelcast().getMap(map), "a");
        b = new ClientRegistry(second.hazelcast().getMap(map), "b");
        client = "client-" + UUID.randomUUID();
    }

    @AfterEach
    void destroy() {
        first.hazelcast().getMap(map).destroy();
    }

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void theFirstClaimHasNoPreviousOwnerAndEpochOne() throws Exception {
        assertEquals(new ClientRegistry.Claim(null, 1), await(a.claim(client)));
        assertEquals("a", await(a.owner(client)));
        assertEquals("a", await(b.owner(client)), "ownership is cluster-wide");
    }

    @Test
    void eachClaimLearnsThePreviousOwnerAndGetsTheNextEpoch() throws Exception {
        await(a.claim(client));
        // [MQTT-3.1.4-3] the previous owner is the node that must hand over (or end) the session.
        assertEquals(new ClientRegistry.Claim("a", 2), await(b.claim(client)));
        assertEquals("b", await(a.owner(client)));
        assertEquals(new ClientRegistry.Claim("b", 3), await(a.claim(client)));
        assertEquals(new ClientRegistry.Claim("a", 4), await(a.claim(client)), "a reconnect on the same node");
    }

    @Test
    void concurrentClaimsFromTwoNodesAreTotallyOrdered() throws Exception {
        int perNode = 100;
        List<ClientRegistry.Claim> claimsOfA = new ArrayList<>();
        List<ClientRegistry.Claim> claimsOfB = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (Object[] node : new Object[][] {{a, claimsOfA}, {b, claimsOfB}}) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    ClientRegistry registry = (ClientRegistry) node[0];
                    List<Future<ClientRegistry.Claim>> pending = new ArrayList<>();
                    for (int i = 0; i < perNode; i++) {
                        pending.add(registry.claim(client)); // all in flight at once, interleaving with the other node
                    }
                    @SuppressWarnings("unchecked")
                    List<ClientRegistry.Claim> out = (List<ClientRegistry.Claim>) node[1];
                    for (Future<ClientRegistry.Claim> f : pending) {
                        out.add(await(f));
                    }
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(2 * WAIT_SECONDS));
            assertFalse(t.isAlive(), "claims did not complete in time");
        }
        assertEquals(List.of(), failures);

        // Every claim got its own epoch, and together they are exactly 1..200: no epoch twice, none skipped.
        Map<Long, String> nodeByEpoch = new HashMap<>();
        Map<Long, String> previousByEpoch = new HashMap<>();
        claimsOfA.forEach(c -> {
            nodeByEpoch.put(c.epoch(), "a");
            previousByEpoch.put(c.epoch(), c.previousOwner());
        });
        claimsOfB.forEach(c -> {
            nodeByEpoch.put(c.epoch(), "b");
            previousByEpoch.put(c.epoch(), c.previousOwner());
        });
        assertEquals(LongStream.rangeClosed(1, 2L * perNode).boxed().toList(),
                nodeByEpoch.keySet().stream().sorted().toList());
        // One total order: each claim's previous owner is the node of the claim one epoch earlier.
        assertNull(previousByEpoch.get(1L));
        for (long e = 2; e <= 2L * perNode; e++) {
            assertEquals(nodeByEpoch.get(e - 1), previousByEpoch.get(e), "previous owner of epoch " + e);
        }
        assertEquals(nodeByEpoch.get(2L * perNode), await(a.owner(client)), "the highest epoch owns it");
    }

    @Test
    void claimIfOwnedBySucceedsOnlyWhileTheNamedNodeOwnsIt() throws Exception {
        ClientRegistry c = new ClientRegistry(first.hazelcast().getMap(map), "c");
        await(a.claim(client));
        // a left: of the survivors that find its session, the first to take it over gets it...
        assertEquals(2, b.claimIfOwnedBy(client, "a"));
        assertEquals("b", await(a.owner(client)));
        // ...and the next one learns that someone else adopted it.
        assertEquals(-1, c.claimIfOwnedBy(client, "a"));
        assertEquals("b", await(a.owner(client)), "a refused claim changes nothing");
        assertEquals(-1, c.claimIfOwnedBy("never-" + UUID.randomUUID(), "a"), "nobody owns an unknown client");
        assertEquals(new ClientRegistry.Claim("b", 3), await(c.claim(client)), "the epoch carries on");
    }

    @Test
    void ownedByAnyFindsEveryIdentifierOfTheNamedNodesOnEveryMember() throws Exception {
        ClientRegistry c = new ClientRegistry(first.hazelcast().getMap(map), "c");
        Map<String, String> expected = new HashMap<>();
        for (int i = 0; i < 200; i++) { // spread over the partitions of both members
            String id = client + "-" + i;
            ClientRegistry owner = i % 3 == 0 ? a : i % 3 == 1 ? b : c;
            await(owner.claim(id));
            if (owner != b) {
                expected.put(id, owner == a ? "a" : "c");
            }
        }
        // Asked through either member, the answer covers both members' partitions, not only local keys.
        assertEquals(expected, a.ownedByAny(java.util.Set.of("a", "c")));
        assertEquals(expected, b.ownedByAny(java.util.Set.of("a", "c")));
        assertEquals(Map.of(), a.ownedByAny(java.util.Set.of()));
        assertEquals(Map.of(), a.ownedByAny(java.util.Set.of("nobody")));
    }

    @Test
    void releaseRemovesTheEntryOnlyIfThisNodeOwnsIt() throws Exception {
        await(a.claim(client));
        await(b.claim(client));
        a.release(client); // a's session ended after b took the identifier: b's claim must stay
        // The processor release() submits, run synchronously so its answer is known.
        IMap<String, String> owners = first.hazelcast().getMap(map);
        assertFalse(owners.executeOnKey(client, new ClientRegistry.ReleaseProcessor("a")));
        assertEquals("b", await(a.owner(client)));

        b.release(client);
        long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(WAIT_SECONDS);
        while (await(a.owner(client)) != null && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertNull(await(a.owner(client)));
        assertTrue(owners.isEmpty(), "released, the entry is gone rather than kept empty");
        assertEquals(new ClientRegistry.Claim(null, 1), await(a.claim(client)),
                "with no entry the epochs start over, as the class comment says");
    }

    @Test
    void ownerOfAnUnclaimedClientIsNull() throws Exception {
        assertNull(await(b.owner(client)));
    }

    @Test
    void nodeIdsMayContainTheSeparator() throws Exception {
        // The value is "node|epoch"; the epoch is taken after the last bar, so any node id works.
        ClientRegistry odd = new ClientRegistry(first.hazelcast().getMap(map), "10.0.0.1|1883");
        await(odd.claim(client));
        assertEquals("10.0.0.1|1883", await(b.owner(client)));
        assertEquals(new ClientRegistry.Claim("10.0.0.1|1883", 2), await(b.claim(client)));
        assertEquals("b", b.localNode());
    }
}
