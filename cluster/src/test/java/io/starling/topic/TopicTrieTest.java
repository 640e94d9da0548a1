package io.starling.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Readable examples; {@link TopicTriePropertyTest} does the exhaustive comparison. */
class TopicTrieTest {

    /** A subscription trie: path = filter levels, key = client id, value = the filter string. */
    private static TopicTrie<String, String> subscriptions(String... filters) {
        TopicTrie<String, String> trie = new TopicTrie<>();
        for (String f : filters) {
            trie.put(TopicFilter.of(f).levels(), "client", f);
        }
        return trie;
    }

    private static TreeSet<String> routes(TopicTrie<String, String> trie, String topic) {
        TopicName name = TopicName.of(topic);
        TreeSet<String> out = new TreeSet<>();
        trie.matchTopic(name.levels(), name.isSystem(), (k, v) -> assertTrue(out.add(v), "visited twice: " + v));
        return out;
    }

    /** A retained trie: path = topic levels, key = "", value = the topic string. */
    private static TopicTrie<String, String> retained(String... topics) {
        TopicTrie<String, String> trie = new TopicTrie<>();
        for (String t : topics) {
            trie.put(TopicName.of(t).levels(), "", t);
        }
        return trie;
    }

    private static TreeSet<String> retainedFor(TopicTrie<String, String> trie, String filter) {
        TreeSet<String> out = new TreeSet<>();
        trie.matchFilter(TopicFilter.of(filter).levels(), (k, v) -> assertTrue(out.add(v), "visited twice: " + v));
        return out;
    }

    private static TreeSet<String> set(String... values) {
        return new TreeSet<>(List.of(values));
    }

    @Test
    void dollarTopicsAreNotMatchedByLeadingWildcard() {
        TopicTrie<String, String> subs = subscriptions("#", "+/monitor/Clients", "+/#", "$SYS/#",
                "$SYS/monitor/+", "+", "$SYS");
        // [MQTT-4.7.2-1]
        assertEquals(set("$SYS/#", "$SYS/monitor/+"), routes(subs, "$SYS/monitor/Clients"));
        assertEquals(set("$SYS/#", "$SYS"), routes(subs, "$SYS"));
        assertEquals(set("#", "+/monitor/Clients", "+/#"), routes(subs, "SYS/monitor/Clients"));

        TopicTrie<String, String> ret = retained("$SYS/monitor/Clients", "$SYS", "a/$SYS", "a");
        assertEquals(set("a/$SYS", "a"), retainedFor(ret, "#"));
        assertEquals(set("a"), retainedFor(ret, "+"));
        assertEquals(set("a/$SYS"), retainedFor(ret, "+/+"));
        assertEquals(set(), retainedFor(ret, "+/monitor/Clients"));
        assertEquals(set("$SYS/monitor/Clients", "$SYS"), retainedFor(ret, "$SYS/#"));
        assertEquals(set("$SYS/monitor/Clients"), retainedFor(ret, "$SYS/monitor/+"));
    }

    @Test
    void hashMatchesParentLevel() {
        TopicTrie<String, String> subs = subscriptions("sport/#", "sport/tennis/player1/#", "#");
        assertEquals(set("sport/#", "#"), routes(subs, "sport"));
        assertEquals(set("sport/#", "sport/tennis/player1/#", "#"), routes(subs, "sport/tennis/player1"));
        assertEquals(set("sport/#", "sport/tennis/player1/#", "#"), routes(subs, "sport/tennis/player1/ranking"));
        assertEquals(set("sport/#", "sport/tennis/player1/#", "#"),
                routes(subs, "sport/tennis/player1/score/wimbledon"));
        assertEquals(set("sport/#", "#"), routes(subs, "sport/tennis"));

        TopicTrie<String, String> ret = retained("sport", "sport/tennis/player1", "sport/tennis/player1/ranking",
                "sports");
        assertEquals(set("sport", "sport/tennis/player1", "sport/tennis/player1/ranking"),
                retainedFor(ret, "sport/#"));
        assertEquals(set("sport/tennis/player1", "sport/tennis/player1/ranking"),
                retainedFor(ret, "sport/tennis/player1/#"));
    }

    @Test
    void plusMatchesExactlyOneLevelWhichMayBeEmpty() {
        TopicTrie<String, String> subs = subscriptions("sport/+", "+/+", "/+", "+", "sport/tennis/+");
        assertEquals(set("+"), routes(subs, "sport"));
        assertEquals(set("sport/+", "+/+"), routes(subs, "sport/"));
        assertEquals(set("+/+", "/+"), routes(subs, "/finance"));
        assertEquals(set("+/+", "/+"), routes(subs, "/"));
        assertEquals(set("sport/tennis/+"), routes(subs, "sport/tennis/player1"));
        assertEquals(set(), routes(subs, "sport/tennis/player1/ranking"));

        TopicTrie<String, String> ret = retained("sport", "sport/", "/finance", "/", "sport/tennis/player1");
        assertEquals(set("sport/"), retainedFor(ret, "sport/+"));
        assertEquals(set("sport/", "/finance", "/"), retainedFor(ret, "+/+"));
        assertEquals(set("sport"), retainedFor(ret, "+"));
    }

    @Test
    void emptyLevelsAreLevels() {
        TopicTrie<String, String> subs = subscriptions("a//b", "a/+/b", "a/b");
        assertEquals(set("a//b", "a/+/b"), routes(subs, "a//b"));
        assertEquals(set("a/b"), routes(subs, "a/b"));
    }

    @Test
    void putGetRemoveAndSize() {
        TopicTrie<String, Integer> trie = new TopicTrie<>();
        List<String> path = TopicFilter.of("a/+/c").levels();
        assertTrue(trie.isEmpty());
        assertNull(trie.put(path, "c1", 1));
        assertEquals(1, trie.put(path, "c1", 2));
        assertNull(trie.put(path, "c2", 3));
        assertNull(trie.put(TopicFilter.of("a/#").levels(), "c1", 4));
        assertEquals(3, trie.size());
        assertEquals(2, trie.get(path, "c1"));
        assertNull(trie.get(path, "c3"));
        assertNull(trie.get(List.of("a", "b", "c"), "c1"), "get does not match wildcards");
        assertNull(trie.remove(path, "c3"));
        assertNull(trie.remove(List.of("x", "y"), "c1"));
        assertEquals(3, trie.size());
        assertEquals(2, trie.remove(path, "c1"));
        assertEquals(3, trie.remove(path, "c2"));
        assertEquals(4, trie.remove(TopicFilter.of("a/#").levels(), "c1"));
        assertTrue(trie.isEmpty());
        assertEquals(0, trie.nodeCount());
    }

    @Test
    void conditionalRemoveTakesOnlyTheValueItWasGiven() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        String first = new String("m");
        String second = new String("m");
        trie.put(List.of("a", "b"), "k", first);
        trie.put(List.of("a", "b"), "k", second); // replaced meanwhile, by an equal but other value
        assertFalse(trie.remove(List.of("a", "b"), "k", first), "a stale value does not remove its successor");
        assertEquals(second, trie.get(List.of("a", "b"), "k"));
        assertFalse(trie.remove(List.of("x"), "k", second), "no such path");
        assertTrue(trie.remove(List.of("a", "b"), "k", second));
        assertTrue(trie.isEmpty());
        assertEquals(0, trie.nodeCount(), "pruned like an unconditional remove");
    }

    @Test
    void removePrunesOnlyEmptyNodes() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        trie.put(List.of("a", "b"), "k", "ab");
        trie.put(List.of("a", "b", "c", "d"), "k", "abcd");
        trie.put(List.of("a", "+", "#"), "k", "a+#");
        assertEquals(6, trie.nodeCount()); // a, b, c, d, +, #
        trie.remove(List.of("a", "b", "c", "d"), "k");
        assertEquals(4, trie.nodeCount()); // a, b, +, #
        trie.remove(List.of("a", "+", "#"), "k");
        assertEquals(2, trie.nodeCount());
        assertEquals("ab", trie.get(List.of("a", "b"), "k"));
        trie.remove(List.of("a", "b"), "k");
        assertEquals(0, trie.nodeCount());
        // lookups and removals of absent paths create nothing
        trie.get(List.of("x", "y"), "k");
        trie.remove(List.of("x", "y"), "k");
        assertEquals(0, trie.nodeCount());
    }

    @Test
    void uniqueTopicsDoNotLeak() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        for (int i = 0; i < 10_000; i++) {
            List<String> path = List.of("sensors", "device-" + i, "temperature");
            trie.put(path, "", "21.5");
            trie.remove(path, "");
        }
        assertEquals(0, trie.nodeCount());
        assertTrue(trie.isEmpty());
    }

    @Test
    void overlappingSubscriptionsVisitOncePerPath() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        trie.put(List.of("a", "#"), "c1", "a/#");
        trie.put(List.of("a", "+"), "c1", "a/+");
        trie.put(List.of("a", "b"), "c2", "a/b");
        List<String> seen = new ArrayList<>();
        trie.matchTopic(List.of("a", "b"), false, (k, v) -> seen.add(k + "=" + v));
        seen.sort(null);
        assertEquals(List.of("c1=a/#", "c1=a/+", "c2=a/b"), seen);
    }

    @Test
    void forEachVisitsPathsAndAllowsPurgingByKey() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        trie.put(List.of("a", "+"), "c1", "v1");
        trie.put(List.of("a", "+"), "c2", "v2");
        trie.put(List.of("#"), "c1", "v3");
        trie.put(List.of("", "b"), "c1", "v4");
        Map<String, String> seen = new TreeMap<>();
        trie.forEach((levels, key, value) -> seen.put(String.join("/", levels) + " " + key, value));
        assertEquals(Map.of("a/+ c1", "v1", "a/+ c2", "v2", "# c1", "v3", "/b c1", "v4"), seen);

        trie.forEach((levels, key, value) -> {
            if (key.equals("c1")) {
                assertEquals(value, trie.remove(levels, key));
            }
        });
        assertEquals(1, trie.size());
        assertEquals("v2", trie.get(List.of("a", "+"), "c2"));
        assertEquals(2, trie.nodeCount());
    }

    @Test
    void rejectsMalformedPathsAndNulls() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        assertThrows(IllegalArgumentException.class, () -> trie.put(List.of(), "k", "v"));
        assertThrows(IllegalArgumentException.class, () -> trie.put(List.of("#", "a"), "k", "v"));
        assertThrows(IllegalArgumentException.class, () -> trie.matchTopic(List.of(), false, (k, v) -> { }));
        assertThrows(IllegalArgumentException.class, () -> trie.matchFilter(List.of(), (k, v) -> { }));
        assertThrows(NullPointerException.class, () -> trie.put(List.of("a"), null, "v"));
        assertThrows(NullPointerException.class, () -> trie.put(List.of("a"), "k", null));
        assertEquals(0, trie.nodeCount());
        assertTrue(trie.isEmpty());
    }

    @Test
    void veryDeepPathsDoNotOverflowTheStack() {
        // A topic of 65535 separators has 65536 empty levels; a filter of '+' levels as deep.
        TopicName deep = TopicName.of("/".repeat(65_535));
        TopicFilter plusses = TopicFilter.of("+/".repeat(32_767) + "#");
        TopicTrie<String, String> subs = new TopicTrie<>();
        subs.put(plusses.levels(), "k", "plusses");
        subs.put(deep.levels(), "k", "exact");
        List<String> seen = new ArrayList<>();
        subs.matchTopic(deep.levels(), false, (k, v) -> seen.add(v));
        seen.sort(null);
        assertEquals(List.of("exact", "plusses"), seen);
        subs.forEach((levels, k, v) -> { });
        subs.remove(plusses.levels(), "k");
        subs.remove(deep.levels(), "k");
        assertEquals(0, subs.nodeCount());

        TopicTrie<String, String> ret = new TopicTrie<>();
        ret.put(deep.levels(), "", "deep");
        List<String> found = new ArrayList<>();
        ret.matchFilter(TopicFilter.of("#").levels(), (k, v) -> found.add(v));
        ret.matchFilter(plusses.levels(), (k, v) -> found.add(v));
        ret.matchFilter(Collections.nCopies(65_536, "+"), (k, v) -> found.add(v));
        assertEquals(List.of("deep", "deep", "deep"), found);
        ret.remove(deep.levels(), "");
        assertEquals(0, ret.nodeCount());
    }

    @Test
    void sharedSubscriptionsAreStoredUnderTheirFilterPart() {
        TopicTrie<String, String> trie = new TopicTrie<>();
        TopicFilter shared = TopicFilter.of("$share/g/sensors/+");
        trie.put(shared.levels(), shared.shareGroup() + "/c1", shared.value());
        assertEquals(set("$share/g/sensors/+"), routes(trie, "sensors/t1"));
        assertEquals(set(), routes(trie, "$share/g/sensors/t1"));
    }
}
