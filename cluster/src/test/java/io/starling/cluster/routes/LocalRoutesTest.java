package io.starling.cluster.routes;

import static io.starling.cluster.forwarding.LoopbackLinks.HOST;
import static io.starling.cluster.forwarding.LoopbackLinks.WAIT_S;
import static io.starling.cluster.forwarding.LoopbackLinks.await;
import static io.starling.cluster.forwarding.LoopbackLinks.awaitPortFree;
import static io.starling.cluster.forwarding.LoopbackLinks.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.cluster.forwarding.LoopbackLinks;
import io.starling.cluster.forwarding.NodeLinks;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Route announcements between two nodes over real loopback links: each node has its own
 * {@link NodeLinks}, {@link RouteTable} and {@link LocalRoutes}, as a broker node does.
 */
class LocalRoutesTest {
    /** Longer than any wait here, so a settle that completes by timeout cannot pass a test. */
    private static final long SETTLE_TIMEOUT_MS = 30_000;
    /** A channel of the tests' own, answered at once, to know what a peer has processed. */
    private static final byte PROBE = 0x70;

    @RegisterExtension
    final LoopbackLinks loopback = new LoopbackLinks();

    /** One node's routing pieces. */
    private final class Node {
        final NodeLinks links;
        final RouteTable table;
        final LocalRoutes routes;

        Node(String id, long settleTimeoutMs) {
            links = loopback.links(id, 100_000);
            table = new RouteTable(id);
            // Before listen: LocalRoutes registers its channel handler.
            routes = new LocalRoutes(loopback.vertx(), links, table, settleTimeoutMs);
            links.handle(PROBE, (from, body, reply) -> reply.ok(Buffer.buffer()));
        }

        int listen(int firstPort) throws Exception {
            return LoopbackLinks.listen(links, firstPort);
        }

        Set<String> filtersOf(String node) {
            Set<String> out = new TreeSet<>();
            table.filtersOf(node).forEach(f -> out.add(f.value()));
            return out;
        }

        Set<String> nodesMatching(String topic) {
            Set<String> out = new TreeSet<>();
            table.match(TopicName.of(topic), new RouteTable.Visitor() {
                @Override
                public void node(String node) {
                    out.add(node);
                }

                @Override
                public void shared(RouteTable.SharedRoute route) {
                }
            });
            return out;
        }
    }

    /** Polls for something that happens in the background (a REPLACE on link-up), up to WAIT_S. */
    private static <T> void eventually(T expected, Supplier<T> actual) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        T last = actual.get();
        while (!expected.equals(last) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            last = actual.get();
        }
        assertEquals(expected, last, "not reached within " + WAIT_S + " s");
    }

    private static TopicFilter f(String filter) {
        return TopicFilter.of(filter);
    }

    /** Two nodes linked both ways, as membership would link them. */
    private Node[] linkedPair(boolean waitForLinks) throws Exception {
        Node a = new Node("a", SETTLE_TIMEOUT_MS);
        Node b = new Node("b", SETTLE_TIMEOUT_MS);
        int portA = a.listen(freePort());
        int portB = b.listen(portA + 1);
        a.links.connect("b", HOST, portB);
        b.links.connect("a", HOST, portA);
        if (waitForLinks) {
            linkUpAndReplaceApplied(a, "b");
            linkUpAndReplaceApplied(b, "a");
        }
        return new Node[] {a, b};
    }

    /**
     * Returns once the link from one node to a peer is up and the peer has applied the REPLACE
     * sent on link-up, so that a late REPLACE cannot undo what a test does next (such as a purge).
     * The first probe may have waited in the buffer and gone out before the REPLACE; it is
     * answered only after the link-up callback that writes the REPLACE has run, so the second
     * probe follows the REPLACE on the connection, and the peer handles a connection's frames in
     * order.
     */
    private static void linkUpAndReplaceApplied(Node from, String peer) throws Exception {
        await(from.links.request(peer, PROBE, Buffer.buffer()));
        await(from.links.request(peer, PROBE, Buffer.buffer()));
    }

    // ---- the SUBACK guarantee ------------------------------------------------------------------

    @Test
    void filterAddedOnOneNodeIsInThePeersTableOnceSettledCompletes() throws Exception {
        // A SUBACK waits for settled(): after it, a publish on the other node must find the route,
        // with no polling. The first add goes out while the link may still be connecting.
        Node[] pair = linkedPair(false);
        Node a = pair[0];
        Node b = pair[1];
        a.routes.added(f("sport/+"));
        a.routes.added(f("$share/g/news"));
        await(a.routes.settled());
        assertEquals(Set.of("a"), b.nodesMatching("sport/tennis"));
        RouteTable.SharedRoute shared = b.table.sharedRoute(f("$share/g/news"));
        assertNotNull(shared, "b has no route for the shared subscription");
        assertEquals(List.of("a"), shared.nodes());

        // And once the link is certainly up.
        a.routes.added(f("weather/#"));
        await(a.routes.settled());
        assertEquals(Set.of("a"), b.nodesMatching("weather/today"));
    }

    @Test
    void ownFiltersGoToTheLocalTableOnlyWhenShared() throws Exception {
        // Plain local subscribers are found in the subscription index; the shared group choice is
        // cluster-wide, so the local node's share is in its own table too.
        Node a = new Node("a", SETTLE_TIMEOUT_MS);
        a.routes.added(f("x"));
        a.routes.added(f("$share/g/x"));
        await(a.routes.settled());
        assertEquals(Set.of("$share/g/x"), a.filtersOf("a"));
        assertEquals(2, a.routes.localFilterCount());
    }

    @Test
    void settledWithoutPeersCompletesAtOnce() {
        Node a = new Node("a", SETTLE_TIMEOUT_MS);
        a.routes.added(f("x"));
        assertTrue(a.routes.settled().succeeded());
    }

    @Test
    void settledGivesUpAfterTheTimeoutWhenAPeerNeverAnswers() throws Exception {
        // A peer that membership still lists but that does not answer must not hold SUBACKs back
        // for ever.
        Node a = new Node("a", 200);
        a.links.connect("b", HOST, freePort()); // nothing listens: the ADD waits in the buffer
        a.routes.added(f("x"));
        long start = System.nanoTime();
        Future<Void> settled = a.routes.settled();
        assertFalse(settled.isComplete(), "settled before the peer could have applied the route");
        await(settled);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(elapsedMs >= 150, "settled after " + elapsedMs + " ms, before the timeout");
    }

    // ---- refcounting ---------------------------------------------------------------------------

    @Test
    void routeStaysUntilTheLastLocalSubscriberGoes() throws Exception {
        Node[] pair = linkedPair(true);
        Node a = pair[0];
        Node b = pair[1];
        a.routes.added(f("t/#"));
        a.routes.added(f("t/#"));
        await(a.routes.settled());
        assertEquals(Set.of("t/#"), b.filtersOf("a"));

        a.routes.removed(f("t/#"));
        await(a.routes.settled());
        assertEquals(Set.of("t/#"), b.filtersOf("a"), "withdrawn while a subscriber is left");
        assertEquals(1, a.routes.localFilterCount());

        a.routes.removed(f("t/#"));
        await(a.routes.settled());
        assertEquals(Set.of(), b.filtersOf("a"));
        assertEquals(Set.of(), b.nodesMatching("t/1"));
        assertEquals(0, a.routes.localFilterCount());

        // A removal with no subscriber left is ignored, not counted below zero.
        a.routes.removed(f("t/#"));
        a.routes.added(f("t/#"));
        await(a.routes.settled());
        assertEquals(Set.of("t/#"), b.filtersOf("a"));
    }

    @Test
    void sharedRouteOfTheLocalNodeIsRefcountedToo() throws Exception {
        Node[] pair = linkedPair(true);
        Node a = pair[0];
        Node b = pair[1];
        a.routes.added(f("$share/g/t"));
        a.routes.added(f("$share/g/t"));
        a.routes.removed(f("$share/g/t"));
        await(a.routes.settled());
        assertEquals(List.of("a"), a.table.sharedRoute(f("$share/g/t")).nodes());
        assertEquals(List.of("a"), b.table.sharedRoute(f("$share/g/t")).nodes());
        a.routes.removed(f("$share/g/t"));
        await(a.routes.settled());
        assertNull(a.table.sharedRoute(f("$share/g/t")));
        assertNull(b.table.sharedRoute(f("$share/g/t")));
    }

    // ---- link up: the whole set ----------------------------------------------------------------

    @Test
    void peerThatConnectsLaterReceivesTheWholeSetAsAReplacement() throws Exception {
        Node a = new Node("a", SETTLE_TIMEOUT_MS);
        a.routes.added(f("x"));
        a.routes.added(f("y/#"));
        a.routes.added(f("$share/g/z"));
        a.routes.added(f("gone"));
        a.routes.removed(f("gone"));

        Node b = new Node("b", SETTLE_TIMEOUT_MS);
        // A route b still holds from an earlier link to a, which a withdrew while the link was
        // down: the replacement must remove it, not just add.
        b.table.add("a", f("stale/#"));
        int portB = b.listen(freePort());
        a.links.connect("b", HOST, portB);
        eventually(Set.of("x", "y/#", "$share/g/z"), () -> b.filtersOf("a"));
        assertEquals(Set.of(), b.nodesMatching("stale/1"));
    }

    @Test
    void routesAreSentAgainWhenTheLinkComesBack() throws Exception {
        // A restarted peer knows nothing; the link coming up again is what tells it.
        Node a = new Node("a", SETTLE_TIMEOUT_MS);
        Node b1 = new Node("b", SETTLE_TIMEOUT_MS);
        int portB = b1.listen(freePort());
        a.links.connect("b", HOST, portB);
        a.routes.added(f("x"));
        a.routes.added(f("$share/g/y"));
        await(a.routes.settled());
        assertEquals(Set.of("x", "$share/g/y"), b1.filtersOf("a"));
        await(b1.links.close());
        awaitPortFree(portB);

        Node b2 = new Node("b", SETTLE_TIMEOUT_MS);
        assertEquals(portB, b2.listen(portB), "the port was taken meanwhile");
        eventually(Set.of("x", "$share/g/y"), () -> b2.filtersOf("a"));
    }

    // ---- peer left -----------------------------------------------------------------------------

    @Test
    void peerLeftPurgesItsRoutes() throws Exception {
        Node[] pair = linkedPair(true);
        Node a = pair[0];
        Node b = pair[1];
        a.routes.added(f("x/#"));
        a.routes.added(f("$share/g/x"));
        b.routes.added(f("$share/g/x"));
        await(a.routes.settled());
        await(b.routes.settled());
        assertEquals(Set.of("a"), b.nodesMatching("x/1"));

        // As LinkMembership does when Hazelcast reports the member gone.
        b.links.disconnect("a");
        b.routes.peerLeft("a");
        assertEquals(Set.of(), b.filtersOf("a"));
        assertEquals(Set.of(), b.nodesMatching("x/1"));
        assertEquals(List.of("b"), b.table.sharedRoute(f("$share/g/x")).nodes());
        // b's own share is untouched.
        assertEquals(Set.of("$share/g/x"), b.filtersOf("b"));
    }
}
