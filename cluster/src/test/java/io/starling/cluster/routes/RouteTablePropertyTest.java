package io.starling.cluster.routes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The route table against brute force: random add / remove / purge / replace sequences over a few
 * nodes, after each of which every random topic must match exactly what a naive oracle built on
 * {@link TopicFilter#matches(TopicName)} says. The oracle states the table's rules plainly: plain
 * filters only for other nodes, shared filters for every node, one report per shared route.
 *
 * <p>Runs use the seeds {@code base, base + 1, ...}; the base is fixed so a run is reproducible, and
 * {@code -Dstarling.seed=N} explores others. Every assertion message carries the run's seed and the
 * step: {@code -Dstarling.seed=<that seed>} replays the failing run first.
 */
class RouteTablePropertyTest {
    private static final long DEFAULT_SEED = 0x5EED_70B7EL;
    private static final String LOCAL = "n0";
    private static final String[] NODES = {"n0", "n1", "n2", "n3"};
    private static final String[] LEVELS = {"", "a", "b", "$SYS", "$x"};

    private final long baseSeed = Long.getLong("starling.seed", DEFAULT_SEED);

    /** The plain model: which node holds which filter, and nothing else. */
    private static final class Oracle {
        final Map<String, Set<String>> plain = new HashMap<>();   // node -> plain filters (not LOCAL)
        final Map<String, Set<String>> shared = new HashMap<>();  // $share/g/f -> nodes

        void add(String node, TopicFilter f) {
            if (f.isShared()) {
                shared.computeIfAbsent(f.value(), k -> new HashSet<>()).add(node);
            } else if (!node.equals(LOCAL)) {
                plain.computeIfAbsent(node, k -> new HashSet<>()).add(f.value());
            }
        }

        void remove(String node, TopicFilter f) {
            if (f.isShared()) {
                Set<String> nodes = shared.get(f.value());
                if (nodes != null) {
                    nodes.remove(node);
                    if (nodes.isEmpty()) {
                        shared.remove(f.value());
                    }
                }
            } else {
                Set<String> filters = plain.get(node);
                if (filters != null) {
                    filters.remove(f.value());
                }
            }
        }

        void purge(String node) {
            for (TopicFilter f : filtersOf(node)) {
                remove(node, f);
            }
        }

        void replace(String node, List<TopicFilter> filters) {
            purge(node);
            filters.forEach(f -> add(node, f));
        }

        List<TopicFilter> filtersOf(String node) {
            List<TopicFilter> out = new ArrayList<>();
            plain.getOrDefault(node, Set.of()).forEach(f -> out.add(TopicFilter.of(f)));
            shared.forEach((f, nodes) -> {
                if (nodes.contains(node)) {
                    out.add(TopicFilter.of(f));
                }
            });
            return out;
        }

        /** node -> number of its plain filters matching: the table reports a node once per filter. */
        Map<String, Integer> plainMatches(TopicName topic) {
            Map<String, Integer> out = new TreeMap<>();
            plain.forEach((node, filters) -> filters.forEach(f -> {
                if (TopicFilter.of(f).matches(topic)) {
                    out.merge(node, 1, Integer::sum);
                }
            }));
            return out;
        }

        /** $share/g/f -> its nodes, for the shared filters matching. */
        Map<String, Set<String>> sharedMatches(TopicName topic) {
            Map<String, Set<String>> out = new TreeMap<>();
            shared.forEach((f, nodes) -> {
                if (TopicFilter.of(f).matches(topic)) {
                    out.put(f, new TreeSet<>(nodes));
                }
            });
            return out;
        }

        int size() {
            int n = 0;
            for (Set<String> s : plain.values()) {
                n += s.size();
            }
            for (Set<String> s : shared.values()) {
                n += s.size();
            }
            return n;
        }
    }

    // ---- generators ----------------------------------------------------------------------------

    /** Plain or shared, with '+' and '#', empty levels and $ levels. */
    private static TopicFilter randomFilter(Random random) {
        while (true) {
            int n = 1 + random.nextInt(3);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append('/');
                }
                int r = random.nextInt(8);
                if (i == n - 1 && r == 0) {
                    sb.append('#');
                } else if (r <= 2) {
                    sb.append('+');
                } else {
                    sb.append(LEVELS[random.nextInt(LEVELS.length)]);
                }
            }
            if (sb.length() == 0) {
                continue; // the single empty level: not a valid filter [MQTT-4.7.3-1]
            }
            if (random.nextInt(4) == 0) {
                sb.insert(0, "$share/g" + random.nextInt(2) + "/");
            }
            return TopicFilter.of(sb.toString());
        }
    }

    private static TopicName randomTopic(Random random) {
        while (true) {
            int n = 1 + random.nextInt(4);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append('/');
                }
                sb.append(LEVELS[random.nextInt(LEVELS.length)]);
            }
            if (sb.length() > 0) {
                return TopicName.of(sb.toString());
            }
        }
    }

    // ---- the property --------------------------------------------------------------------------

    @Test
    void matchesAgreeWithBruteForceOverRandomChangeSequences() {
        for (int run = 0; run < 40; run++) {
            checkRun(baseSeed + run);
        }
    }

    private void checkRun(long seed) {
        Random random = new Random(seed);
        RouteTable table = new RouteTable(LOCAL);
        Oracle oracle = new Oracle();
        // A small pool of filters per run, so the same filter is added and removed repeatedly.
        List<TopicFilter> pool = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            pool.add(randomFilter(random));
        }
        for (int step = 0; step < 120; step++) {
            String node = NODES[random.nextInt(NODES.length)];
            int op = random.nextInt(20);
            String what;
            if (op < 10) {
                TopicFilter f = pool.get(random.nextInt(pool.size()));
                table.add(node, f);
                oracle.add(node, f);
                what = "add " + node + " " + f;
            } else if (op < 17) {
                // Mostly filters the node has, so removals actually remove.
                List<TopicFilter> has = oracle.filtersOf(node);
                TopicFilter f = has.isEmpty() || random.nextInt(4) == 0
                        ? pool.get(random.nextInt(pool.size()))
                        : has.get(random.nextInt(has.size()));
                table.remove(node, f);
                oracle.remove(node, f);
                what = "remove " + node + " " + f;
            } else if (op < 18) {
                table.purge(node);
                oracle.purge(node);
                what = "purge " + node;
            } else {
                List<TopicFilter> set = new ArrayList<>();
                for (int i = random.nextInt(5); i > 0; i--) {
                    set.add(pool.get(random.nextInt(pool.size())));
                }
                table.replace(node, set);
                oracle.replace(node, set);
                what = "replace " + node + " " + set;
            }
            String context = "seed " + seed + ", step " + step + " (" + what + ")";
            compare(table, oracle, random, context);
        }
    }

    private static void compare(RouteTable table, Oracle oracle, Random random, String context) {
        assertEquals(oracle.size(), table.size(), () -> "size; " + context);
        for (String node : NODES) {
            assertEquals(values(oracle.filtersOf(node)), values(table.filtersOf(node)),
                    () -> "filtersOf(" + node + "); " + context);
        }
        for (int i = 0; i < 15; i++) {
            TopicName topic = randomTopic(random);
            Map<String, Integer> plain = new TreeMap<>();
            Map<String, Set<String>> shared = new TreeMap<>();
            List<String> sharedReports = new ArrayList<>();
            table.match(topic, new RouteTable.Visitor() {
                @Override
                public void node(String node) {
                    plain.merge(node, 1, Integer::sum);
                }

                @Override
                public void shared(RouteTable.SharedRoute route) {
                    sharedReports.add(route.sharedFilter());
                    shared.put(route.sharedFilter(), new TreeSet<>(route.nodes()));
                }
            });
            String where = "topic " + topic + "; " + context;
            assertEquals(oracle.plainMatches(topic), plain, () -> "plain routes for " + where);
            assertEquals(oracle.sharedMatches(topic), shared, () -> "shared routes for " + where);
            // Each shared route once: a group gets one message per publish, not one per node.
            assertEquals(new HashSet<>(sharedReports).size(), sharedReports.size(),
                    () -> "a shared route reported twice: " + sharedReports + " for " + where);
        }
        // sharedRoute(filter) agrees too, including for filters that have no route.
        for (String f : new ArrayList<>(oracle.shared.keySet())) {
            RouteTable.SharedRoute route = table.sharedRoute(TopicFilter.of(f));
            assertNotNull(route, () -> "sharedRoute(" + f + "); " + context);
            assertEquals(oracle.shared.get(f), new HashSet<>(route.nodes()), () -> "nodes of " + f + "; " + context);
        }
        TopicFilter absent = TopicFilter.of("$share/none/" + randomTopic(random));
        assertNull(table.sharedRoute(absent), () -> "sharedRoute(" + absent + "); " + context);
    }

    private static List<String> values(List<TopicFilter> filters) {
        List<String> out = new ArrayList<>();
        filters.forEach(f -> out.add(f.value()));
        Collections.sort(out);
        return out;
    }
}
