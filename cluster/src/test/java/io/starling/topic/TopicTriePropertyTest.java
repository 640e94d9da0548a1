package io.starling.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The trie against brute force: {@link TopicTrie#matchTopic} must visit exactly the entries whose
 * filter {@link TopicFilter#matches} the topic, {@link TopicTrie#matchFilter} exactly the entries
 * whose topic the filter matches, over random small alphabets and random add/remove sequences.
 */
class TopicTriePropertyTest {
    private static final String[] LEVEL_POOL = {"", "$SYS", "$x", "a", "b", "c", "$", "sport"};
    private static final String[] CLIENTS = {"c0", "c1", "c2"};

    private final long seed = Seeds.seed();

    // ---- generators ----------------------------------------------------------------------------

    /** A random alphabet: "" , "$SYS", "$x", "a", "b" always, plus a few of the others. */
    private static String[] alphabet(Random random) {
        List<String> levels = new ArrayList<>(List.of("", "$SYS", "$x", "a", "b"));
        for (int i = 5; i < LEVEL_POOL.length; i++) {
            if (random.nextBoolean()) {
                levels.add(LEVEL_POOL[i]);
            }
        }
        // Sometimes a tiny alphabet, to make collisions and deep sharing likely.
        if (random.nextInt(3) == 0) {
            Collections.shuffle(levels, random);
            levels = levels.subList(0, 2);
        }
        return levels.toArray(new String[0]);
    }

    private static TopicName randomTopic(Random random, String[] alphabet) {
        while (true) {
            int n = 1 + random.nextInt(5);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append('/');
                }
                sb.append(alphabet[random.nextInt(alphabet.length)]);
            }
            if (sb.length() > 0) {
                return TopicName.of(sb.toString());
            }
        }
    }

    private static TopicFilter randomFilter(Random random, String[] alphabet) {
        while (true) {
            int n = 1 + random.nextInt(5);
            StringBuilder sb = new StringBuilder();
            if (random.nextInt(10) == 0) {
                sb.append("$share/g").append(random.nextInt(2)).append('/');
            }
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    sb.append('/');
                }
                if (i == n - 1 && random.nextInt(4) == 0) {
                    sb.append('#');
                } else if (random.nextInt(3) == 0) {
                    sb.append('+');
                } else {
                    sb.append(alphabet[random.nextInt(alphabet.length)]);
                }
            }
            try {
                return TopicFilter.of(sb.toString());
            } catch (InvalidTopicException e) {
                // "" or "$share/g1/" from an empty single level: draw again.
            }
        }
    }

    // ---- the model -------------------------------------------------------------------------------

    /** Trie key for a subscription: the ShareName (if any) and the client, as the broker would. */
    private static String key(TopicFilter filter, String client) {
        return (filter.isShared() ? filter.shareGroup() : "") + "|" + client;
    }

    private static List<String> sorted(List<String> values) {
        List<String> copy = new ArrayList<>(values);
        Collections.sort(copy);
        return copy;
    }

    private static void checkSubscriptions(TopicTrie<String, String> trie,
            Map<TopicFilter, Map<String, String>> model, TopicName topic, String context) {
        List<String> expected = new ArrayList<>();
        model.forEach((filter, entries) -> {
            if (filter.matches(topic)) {
                entries.forEach((k, v) -> expected.add(k + "=" + v));
            }
        });
        List<String> actual = new ArrayList<>();
        trie.matchTopic(topic.levels(), topic.isSystem(), (k, v) -> actual.add(k + "=" + v));
        assertEquals(sorted(expected), sorted(actual), () -> context + " matchTopic(" + topic + ")");
    }

    private static void checkRetained(TopicTrie<String, String> trie,
            Map<TopicName, Map<String, String>> model, TopicFilter filter, String context) {
        List<String> expected = new ArrayList<>();
        model.forEach((topic, entries) -> {
            if (filter.matches(topic)) {
                entries.forEach((k, v) -> expected.add(k + "=" + v));
            }
        });
        List<String> actual = new ArrayList<>();
        trie.matchFilter(filter.levels(), (k, v) -> actual.add(k + "=" + v));
        assertEquals(sorted(expected), sorted(actual), () -> context + " matchFilter(" + filter + ")");
    }

    private static <P> void checkContents(TopicTrie<String, String> trie, Map<P, Map<String, String>> model,
            java.util.function.Function<P, List<String>> levels, String context) {
        List<String> expected = new ArrayList<>();
        int count = 0;
        for (Map.Entry<P, Map<String, String>> e : model.entrySet()) {
            for (Map.Entry<String, String> entry : e.getValue().entrySet()) {
                expected.add(levels.apply(e.getKey()) + " " + entry.getKey() + "=" + entry.getValue());
                assertEquals(entry.getValue(), trie.get(levels.apply(e.getKey()), entry.getKey()),
                        () -> context + " get(" + e.getKey() + ", " + entry.getKey() + ")");
                count++;
            }
        }
        List<String> actual = new ArrayList<>();
        trie.forEach((path, k, v) -> actual.add(path + " " + k + "=" + v));
        assertEquals(sorted(expected), sorted(actual), () -> context + " forEach");
        assertEquals(count, trie.size(), () -> context + " size");
        assertEquals(count == 0, trie.isEmpty(), () -> context + " isEmpty");
    }

    // ---- properties -----------------------------------------------------------------------------

    @Test
    void matchTopicAgreesWithBruteForce() {
        Random random = new Random(seed);
        for (int round = 0; round < 60; round++) {
            String[] alphabet = alphabet(random);
            TopicTrie<String, String> trie = new TopicTrie<>();
            Map<TopicFilter, Map<String, String>> model = new HashMap<>();
            int ops = 50 + random.nextInt(250);
            for (int op = 0; op < ops; op++) {
                String context = "seed=" + seed + " round=" + round + " op=" + op;
                TopicFilter filter = randomFilter(random, alphabet);
                String client = CLIENTS[random.nextInt(CLIENTS.length)];
                if (random.nextInt(5) < 3) {
                    String value = filter.value() + "#" + op;
                    String previous = model.computeIfAbsent(filter, f -> new HashMap<>()).put(key(filter, client), value);
                    assertEquals(previous, trie.put(filter.levels(), key(filter, client), value), context + " put");
                } else {
                    if (!model.isEmpty() && random.nextBoolean()) {
                        // remove something that is there
                        List<TopicFilter> present = new ArrayList<>(model.keySet());
                        filter = present.get(random.nextInt(present.size()));
                        List<String> keys = new ArrayList<>(model.get(filter).keySet());
                        Collections.sort(keys);
                        String k = keys.get(random.nextInt(keys.size()));
                        client = k.substring(k.indexOf('|') + 1);
                    }
                    Map<String, String> entries = model.get(filter);
                    String expected = entries == null ? null : entries.remove(key(filter, client));
                    if (entries != null && entries.isEmpty()) {
                        model.remove(filter);
                    }
                    assertEquals(expected, trie.remove(filter.levels(), key(filter, client)), context + " remove");
                }
                if (op % 7 == 0) {
                    for (int t = 0; t < 15; t++) {
                        checkSubscriptions(trie, model, randomTopic(random, alphabet), context);
                    }
                    checkContents(trie, model, TopicFilter::levels, context);
                }
            }
            String context = "seed=" + seed + " round=" + round;
            checkContents(trie, model, TopicFilter::levels, context);
            removeAllAndCheckEmpty(trie, model, TopicFilter::levels, random, context);
        }
    }

    @Test
    void matchFilterAgreesWithBruteForce() {
        Random random = new Random(seed + 1);
        for (int round = 0; round < 60; round++) {
            String[] alphabet = alphabet(random);
            TopicTrie<String, String> trie = new TopicTrie<>();
            Map<TopicName, Map<String, String>> model = new HashMap<>();
            int ops = 50 + random.nextInt(250);
            for (int op = 0; op < ops; op++) {
                String context = "seed=" + seed + " round=" + round + " op=" + op;
                TopicName topic = randomTopic(random, alphabet);
                // retained messages have one key per topic in the broker; use two to exercise maps
                String k = random.nextInt(4) == 0 ? "r2" : "r";
                if (random.nextInt(5) < 3) {
                    String value = topic.value() + "#" + op;
                    String previous = model.computeIfAbsent(topic, x -> new HashMap<>()).put(k, value);
                    assertEquals(previous, trie.put(topic.levels(), k, value), context + " put");
                } else {
                    if (!model.isEmpty() && random.nextBoolean()) {
                        List<TopicName> present = new ArrayList<>(model.keySet());
                        present.sort((x, y) -> x.value().compareTo(y.value()));
                        topic = present.get(random.nextInt(present.size()));
                        k = model.get(topic).containsKey("r") ? "r" : "r2";
                    }
                    Map<String, String> entries = model.get(topic);
                    String expected = entries == null ? null : entries.remove(k);
                    if (entries != null && entries.isEmpty()) {
                        model.remove(topic);
                    }
                    assertEquals(expected, trie.remove(topic.levels(), k), context + " remove");
                }
                if (op % 7 == 0) {
                    for (int t = 0; t < 15; t++) {
                        checkRetained(trie, model, randomFilter(random, alphabet), context);
                    }
                    checkContents(trie, model, TopicName::levels, context);
                }
            }
            String context = "seed=" + seed + " round=" + round;
            removeAllAndCheckEmpty(trie, model, TopicName::levels, random, context);
        }
    }

    private static <P> void removeAllAndCheckEmpty(TopicTrie<String, String> trie, Map<P, Map<String, String>> model,
            java.util.function.Function<P, List<String>> levels, Random random, String context) {
        List<String[]> all = new ArrayList<>();
        List<P> paths = new ArrayList<>();
        model.forEach((p, entries) -> entries.forEach((k, v) -> {
            paths.add(p);
            all.add(new String[] {k, v});
        }));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, random);
        for (int i : order) {
            assertEquals(all.get(i)[1], trie.remove(levels.apply(paths.get(i)), all.get(i)[0]),
                    context + " final remove of " + paths.get(i));
        }
        assertTrue(trie.isEmpty(), context + " isEmpty after removing everything");
        assertEquals(0, trie.size(), context + " size after removing everything");
        assertEquals(0, trie.nodeCount(), context + " leftover nodes after removing everything");
    }

    // ---- concurrency smoke test -----------------------------------------------------------------

    /**
     * One writer adds and removes while readers match. Entries marked "stable" are put before the
     * readers start and never removed: every read must see every stable entry that matches,
     * whatever the writer is doing around it (pruning must never cut off a live node).
     */
    @Test
    void concurrentReadersSeeStableEntriesWhileOneWriterChurns() throws Exception {
        Random setup = new Random(seed + 2);
        String[] alphabet = {"", "$SYS", "$x", "a", "b", "c"};
        TopicTrie<String, String> subs = new TopicTrie<>();
        TopicTrie<String, String> retained = new TopicTrie<>();
        Map<List<String>, Map<String, String>> subsModel = new LinkedHashMap<>(); // by path: "a" and "$share/g0/a" share one
        Map<TopicName, Map<String, String>> retainedModel = new LinkedHashMap<>();
        List<TopicFilter> stableFilters = new ArrayList<>();
        List<TopicName> stableTopics = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            TopicFilter f = randomFilter(setup, alphabet);
            if (subs.put(f.levels(), "stable|" + f.value(), "stable") == null) {
                stableFilters.add(f);
                subsModel.computeIfAbsent(f.levels(), x -> new HashMap<>()).put("stable|" + f.value(), "stable");
            }
            TopicName t = randomTopic(setup, alphabet);
            if (retained.put(t.levels(), "stable", "stable") == null) {
                stableTopics.add(t);
                retainedModel.computeIfAbsent(t, x -> new HashMap<>()).put("stable", "stable");
            }
        }

        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        int readerCount = 3;
        CountDownLatch started = new CountDownLatch(readerCount + 1);
        List<Thread> threads = new ArrayList<>();

        for (int r = 0; r < readerCount; r++) {
            long readerSeed = seed + 10 + r;
            threads.add(new Thread(() -> {
                Random random = new Random(readerSeed);
                started.countDown();
                try {
                    while (!done.get()) {
                        TopicName topic = randomTopic(random, alphabet);
                        List<String> seen = new ArrayList<>();
                        subs.matchTopic(topic.levels(), topic.isSystem(), (k, v) -> seen.add(k));
                        for (TopicFilter f : stableFilters) {
                            if (f.matches(topic) && !seen.contains("stable|" + f.value())) {
                                throw new AssertionError("seed=" + seed + " reader missed stable " + f + " for " + topic);
                            }
                        }
                        TopicFilter filter = randomFilter(random, alphabet);
                        List<String> found = new ArrayList<>();
                        retained.matchFilter(filter.levels(), (k, v) -> {
                            if (k.equals("stable")) {
                                found.add(v);
                            }
                        });
                        long expected = stableTopics.stream().filter(filter::matches).count();
                        if (found.size() != expected) {
                            throw new AssertionError("seed=" + seed + " reader saw " + found.size()
                                    + " stable retained for " + filter + ", expected " + expected);
                        }
                        subs.forEach((levels, k, v) -> { });
                        reads.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }, "topic-reader-" + r));
        }

        threads.add(new Thread(() -> {
            Random random = new Random(seed + 3);
            started.countDown();
            try {
                started.await();
                for (int op = 0; op < 40_000; op++) {
                    TopicFilter f = randomFilter(random, alphabet);
                    String k = "t|" + random.nextInt(4);
                    TopicName t = randomTopic(random, alphabet);
                    if (random.nextBoolean()) {
                        subs.put(f.levels(), k, "v" + op);
                        subsModel.computeIfAbsent(f.levels(), x -> new HashMap<>()).put(k, "v" + op);
                        retained.put(t.levels(), k, "v" + op);
                        retainedModel.computeIfAbsent(t, x -> new HashMap<>()).put(k, "v" + op);
                    } else {
                        subs.remove(f.levels(), k);
                        Map<String, String> e = subsModel.get(f.levels());
                        if (e != null) {
                            e.remove(k);
                        }
                        retained.remove(t.levels(), k);
                        Map<String, String> r = retainedModel.get(t);
                        if (r != null) {
                            r.remove(k);
                        }
                    }
                }
            } catch (Throwable t) {
                failures.add(t);
            } finally {
                done.set(true);
            }
        }, "topic-writer"));

        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join(60_000);
            assertTrue(!t.isAlive(), "seed=" + seed + " thread did not finish: " + t.getName());
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError("seed=" + seed + " " + failures.size() + " failure(s)");
            failures.forEach(error::addSuppressed);
            throw error;
        }
        assertTrue(reads.get() > 0, "seed=" + seed + " readers never ran");

        // Final state: equal to what the writer did.
        subsModel.values().removeIf(Map::isEmpty);
        retainedModel.values().removeIf(Map::isEmpty);
        String context = "seed=" + seed + " after concurrent run";
        checkContents(subs, subsModel, p -> p, context);
        checkContents(retained, retainedModel, TopicName::levels, context);
        Random check = new Random(seed + 4);
        for (int i = 0; i < 200; i++) {
            checkRetained(retained, retainedModel, randomFilter(check, alphabet), context);
        }
        removeAllAndCheckEmpty(subs, subsModel, p -> p, check, context);
        removeAllAndCheckEmpty(retained, retainedModel, TopicName::levels, check, context);
    }
}
