package io.starling.cluster.routes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The cluster half of two-level routing: which nodes a publish is forwarded to. Example-based
 * tests of each rule; {@link RouteTablePropertyTest} checks the same against brute force.
 */
class RouteTableTest {
    private static final String LOCAL = "a";

    private final RouteTable table = new RouteTable(LOCAL);

    /** What {@link RouteTable#match} reported for one topic. */
    static final class Matched implements RouteTable.Visitor {
        final List<String> nodes = new ArrayList<>();
        final List<RouteTable.SharedRoute> shared = new ArrayList<>();

        @Override
        public void node(String node) {
            nodes.add(node);
        }

        @Override
        public void shared(RouteTable.SharedRoute route) {
            shared.add(route);
        }

        Set<String> nodeSet() {
            return new TreeSet<>(nodes);
        }

        List<String> sharedFilters() {
            List<String> out = new ArrayList<>();
            shared.forEach(r -> out.add(r.sharedFilter()));
            Collections.sort(out);
            return out;
        }
    }

    private Matched match(String topic) {
        Matched m = new Matched();
        table.match(TopicName.of(topic), m);
        return m;
    }

    private void add(String node, String filter) {
        table.add(node, TopicFilter.of(filter));
    }

    private void remove(String node, String filter) {
        table.remove(node, TopicFilter.of(filter));
    }

    private Set<String> filtersOf(String node) {
        Set<String> out = new TreeSet<>();
        table.filtersOf(node).forEach(f -> out.add(f.value()));
        return out;
    }

    // ---- plain filters --------------------------------------------------------------------------

    @Test
    void plainFiltersOfOtherNodesAreMatchedWithWildcards() {
        add("b", "sport/tennis/player1");
        add("c", "sport/+/player1");
        add("d", "sport/#");
        add("e", "news/#");

        assertEquals(Set.of("b", "c", "d"), match("sport/tennis/player1").nodeSet());
        assertEquals(Set.of("c", "d"), match("sport/golf/player1").nodeSet());
        // [MQTT 4.7.1.2] '#' also matches the parent level.
        assertEquals(Set.of("d"), match("sport").nodeSet());
        assertEquals(Set.of(), match("weather").nodeSet());
        assertTrue(table.hasRemoteRoutes());
    }

    @Test
    void aNodeWithSeveralMatchingFiltersIsReportedOncePerFilter() {
        // The visitor contract allows repeats; the router merges them. What must hold is that the
        // node is there, and that one filter does not produce several reports.
        add("b", "a/+");
        add("b", "a/#");
        add("b", "a/+");
        assertEquals(List.of("b", "b"), match("a/x").nodes);
        assertEquals(2, table.size());
    }

    @Test
    void localPlainFiltersAreNotStored() {
        // This node's subscribers are found in its own subscription index; a single node must pay
        // nothing in the route table.
        add(LOCAL, "sport/#");
        add(LOCAL, "+");
        assertEquals(Set.of(), match("sport/tennis").nodeSet());
        assertEquals(0, table.size());
        assertFalse(table.hasRemoteRoutes());
        assertEquals(Set.of(), filtersOf(LOCAL));
    }

    @Test
    void leadingWildcardsDoNotMatchDollarTopics() {
        // [MQTT-4.7.2-1] filters starting with a wildcard do not match topic names starting with '$'.
        add("b", "#");
        add("c", "+/info");
        add("d", "$SYS/#");
        add("e", "$SYS/+");
        add("f", "$share/g/#");
        add("f", "$share/g/$SYS/info");
        assertEquals(Set.of("d", "e"), match("$SYS/info").nodeSet());
        assertEquals(List.of("$share/g/$SYS/info"), match("$SYS/info").sharedFilters());
        assertEquals(Set.of("b", "c"), match("x/info").nodeSet());
        assertEquals(List.of("$share/g/#"), match("x/info").sharedFilters());
    }

    @Test
    void removedPlainFilterNoLongerMatchesButOtherNodesStay() {
        add("b", "t/#");
        add("c", "t/#");
        remove("b", "t/#");
        assertEquals(Set.of("c"), match("t/1").nodeSet());
        // Idempotent: removing again, or something never added, changes nothing.
        remove("b", "t/#");
        remove("b", "never/added");
        assertEquals(Set.of("c"), match("t/1").nodeSet());
        assertEquals(1, table.size());
    }

    @Test
    void addingTwiceIsIdempotent() {
        add("b", "t");
        add("b", "t");
        add("b", "$share/g/t");
        add("b", "$share/g/t");
        assertEquals(2, table.size());
        remove("b", "t");
        remove("b", "$share/g/t");
        assertEquals(0, table.size());
        assertFalse(table.hasRemoteRoutes());
    }

    // ---- shared subscriptions -------------------------------------------------------------------

    @Test
    void sharedFiltersAreStoredForEveryNodeIncludingTheLocalOne() {
        // Picking the one member of a group that gets a message is a cluster-wide choice (4.8.2),
        // so the local node's membership must be visible next to the others'.
        add(LOCAL, "$share/g/sport/#");
        add("b", "$share/g/sport/#");
        RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of("$share/g/sport/#"));
        assertNotNull(route);
        assertEquals("$share/g/sport/#", route.sharedFilter());
        assertEquals(Set.of(LOCAL, "b"), new HashSet<>(route.nodes()));
        assertEquals(Set.of("$share/g/sport/#"), filtersOf(LOCAL));
        assertEquals(2, table.size());
    }

    @Test
    void eachMatchingSharedRouteIsReportedOnceNotOncePerNode() {
        add(LOCAL, "$share/g/sport/#");
        add("b", "$share/g/sport/#");
        add("c", "$share/g/sport/#");
        add("b", "$share/h/sport/#");   // another group: another route
        add("c", "$share/g/sport/+");   // another filter: another route
        add("c", "$share/g/news/#");    // does not match

        Matched m = match("sport/tennis");
        assertEquals(List.of("$share/g/sport/#", "$share/g/sport/+", "$share/h/sport/#"), m.sharedFilters());
        // Shared filters are not plain routes: no node is reported for them.
        assertEquals(List.of(), m.nodes);
    }

    @Test
    void sharedRouteDisappearsWithItsLastNode() {
        add("b", "$share/g/t");
        add("c", "$share/g/t");
        remove("b", "$share/g/t");
        assertEquals(List.of("c"), table.sharedRoute(TopicFilter.of("$share/g/t")).nodes());
        remove("c", "$share/g/t");
        assertNull(table.sharedRoute(TopicFilter.of("$share/g/t")));
        assertEquals(List.of(), match("t").shared);
    }

    @Test
    void pickRoundRobinsOverTheNodes() {
        add("b", "$share/g/t");
        add("c", "$share/g/t");
        add("d", "$share/g/t");
        RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of("$share/g/t"));
        Map<String, Integer> picks = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            picks.merge(route.pick(null), 1, Integer::sum);
        }
        // Round robin, not random: every node gets exactly its share.
        assertEquals(Map.of("b", 10, "c", 10, "d", 10), picks);
    }

    @Test
    void pickSkipsTheExcludedNode() {
        add(LOCAL, "$share/g/t");
        add("b", "$share/g/t");
        add("c", "$share/g/t");
        RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of("$share/g/t"));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            String node = route.pick(LOCAL);
            assertNotNull(node);
            assertFalse(node.equals(LOCAL), "the excluded node was picked");
            seen.add(node);
        }
        assertEquals(Set.of("b", "c"), seen);
    }

    @Test
    void pickGivesNullWhenOnlyTheExcludedNodeIsLeft() {
        add(LOCAL, "$share/g/t");
        RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of("$share/g/t"));
        assertNull(route.pick(LOCAL));
        assertEquals(LOCAL, route.pick(null));
    }

    @Test
    void pickNeverFailsWhileNodesLeaveTheRoute() throws InterruptedException {
        // The publish path picks on event loops while a node's routes are removed on another
        // thread: pick must work on a consistent view of the nodes, not index a list that shrinks
        // between reading its size and reading an element.
        for (int i = 0; i < 8; i++) {
            add("n" + i, "$share/g/t");
        }
        RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of("$share/g/t"));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch picking = new CountDownLatch(1);
        Thread picker = new Thread(() -> {
            picking.countDown();
            try {
                while (!stop.get()) {
                    route.pick(null);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "picker");
        picker.start();
        assertTrue(picking.await(5, TimeUnit.SECONDS));
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < end && failure.get() == null) {
            // Keep n0 so the route (and this SharedRoute object) stays in the table.
            for (int i = 7; i > 0; i--) {
                remove("n" + i, "$share/g/t");
            }
            for (int i = 1; i < 8; i++) {
                add("n" + i, "$share/g/t");
            }
        }
        stop.set(true);
        picker.join(5_000);
        assertFalse(picker.isAlive(), "picker did not stop");
        assertNull(failure.get(), () -> "pick failed while nodes left: " + failure.get());
    }

    // ---- purge and replace ----------------------------------------------------------------------

    @Test
    void purgeForgetsEveryRouteOfOneNodeOnly() {
        add("b", "x/#");
        add("b", "y");
        add("b", "$share/g/x/#");
        add("c", "x/#");
        add("c", "$share/g/x/#");
        table.purge("b");
        assertEquals(Set.of(), filtersOf("b"));
        assertEquals(Set.of("c"), match("x/1").nodeSet());
        assertEquals(Set.of(), match("y").nodeSet());
        assertEquals(List.of("c"), table.sharedRoute(TopicFilter.of("$share/g/x/#")).nodes());
        assertEquals(Set.of("$share/g/x/#", "x/#"), filtersOf("c"));
    }

    @Test
    void purgeOfTheLocalNodeRemovesItsSharedRoutes() {
        add(LOCAL, "$share/g/t");
        table.purge(LOCAL);
        assertNull(table.sharedRoute(TopicFilter.of("$share/g/t")));
        assertEquals(0, table.size());
    }

    @Test
    void replaceLeavesExactlyTheGivenSet() {
        add("b", "keep/#");
        add("b", "drop/+");
        add("b", "$share/g/keep");
        add("b", "$share/g/drop");
        add("c", "drop/+");
        table.replace("b", List.of(TopicFilter.of("keep/#"), TopicFilter.of("new"),
                TopicFilter.of("$share/g/keep"), TopicFilter.of("$share/h/new")));

        assertEquals(Set.of("keep/#", "new", "$share/g/keep", "$share/h/new"), filtersOf("b"));
        assertEquals(Set.of("c"), match("drop/1").nodeSet());
        assertNull(table.sharedRoute(TopicFilter.of("$share/g/drop")));
        assertEquals(Set.of("b"), match("new").nodeSet());
        // Another node's routes are untouched.
        assertEquals(Set.of("drop/+"), filtersOf("c"));
    }

    @Test
    void replaceWithNothingIsAPurge() {
        add("b", "x");
        add("b", "$share/g/x");
        table.replace("b", List.of());
        assertEquals(0, table.size());
    }

    @Test
    void aRouteThatStaysIsNeverMissingDuringReplace() throws InterruptedException {
        // A REPLACE arrives when a link comes back; a publish matched meanwhile must still be
        // forwarded for the filters that were there before and after.
        add("b", "stay/#");
        add("b", "$share/g/stay");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> missed = new AtomicReference<>();
        Thread matcher = new Thread(() -> {
            TopicName topic = TopicName.of("stay");
            while (!stop.get() && missed.get() == null) {
                Matched m = new Matched();
                table.match(topic, m);
                if (!m.nodes.contains("b") || m.shared.size() != 1) {
                    missed.set("nodes=" + m.nodes + " shared=" + m.sharedFilters());
                }
            }
        }, "matcher");
        matcher.start();
        List<TopicFilter> withExtra = List.of(TopicFilter.of("stay/#"), TopicFilter.of("$share/g/stay"),
                TopicFilter.of("extra"), TopicFilter.of("$share/g/extra"));
        List<TopicFilter> plain = List.of(TopicFilter.of("stay/#"), TopicFilter.of("$share/g/stay"));
        for (int i = 0; i < 2_000 && missed.get() == null; i++) {
            table.replace("b", i % 2 == 0 ? withExtra : plain);
        }
        stop.set(true);
        matcher.join(5_000);
        assertFalse(matcher.isAlive(), "matcher did not stop");
        assertNull(missed.get(), () -> "a route that stays was missing: " + missed.get());
        assertEquals(Set.of("stay/#", "$share/g/stay"), filtersOf("b"));
    }

    @Test
    void filtersOfKeepsEmptyLevels() {
        // Filters are rebuilt from trie levels; empty levels must survive the round trip.
        add("b", "/");
        add("b", "a//b");
        add("b", "/#");
        assertEquals(Set.of("/", "a//b", "/#"), filtersOf("b"));
        table.purge("b");
        assertEquals(0, table.size());
    }
}
