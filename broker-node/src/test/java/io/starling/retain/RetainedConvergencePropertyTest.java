package io.starling.retain;

import static org.junit.jupiter.api.Assertions.fail;

import com.hazelcast.map.ExtendedMapEntry;
import io.starling.protocol.Properties;
import io.starling.routing.Message;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * Retained messages converge (docs/adr/0009), over random interleavings. Real
 * {@link ReplicatedRetainedStore}s, two or three at a time, share a simulated map: each write to
 * it is held back and lands in a random order ({@link HazelcastRetainedMap.KeepNewer}, the entry
 * processor the real map runs, decides it); each change of the map is reported to every node,
 * and each node takes its reports in a random order; a node loading the map (when it joins, or
 * after a merge) sees reports and other nodes' writes in the middle of its load. Nodes start
 * alone, join, leave; wall clocks are skewed and step back; messages expire. When everything in
 * flight has arrived, every node, one that joins then and the map itself hold, for every topic,
 * the write with the greatest stamp, and a subscriber is given its message unless it is a
 * tombstone or expired [MQTT-3.3.1-5..7].
 *
 * <p>Reproducible: cases {@code starling.seed} to {@code starling.seed + starling.cases - 1}
 * (defaults below); a failure names its seed, {@code -Dstarling.seed=N -Dstarling.cases=1} reruns it.
 */
class RetainedConvergencePropertyTest {
    private static final long DEFAULT_SEED = 0x5EED_0009L;
    private static final long LIFETIME = ReplicatedRetainedStore.TOMBSTONE_LIFETIME_MS;
    private static final String[] TOPICS = {"t/0", "t/1", "t/2"};

    private final long seed = Long.getLong("starling.seed", DEFAULT_SEED);
    private final int cases = Integer.getInteger("starling.cases", 400);

    @Test
    void twoNodesConverge() {
        run(2);
    }

    @Test
    void threeNodesConverge() {
        run(3);
    }

    private void run(int nodes) {
        System.out.printf("%s: %d nodes, seeds %d to %d%n", getClass().getSimpleName(), nodes, seed, seed + cases - 1);
        for (int i = 0; i < cases; i++) {
            long caseSeed = seed + i;
            try {
                new Simulation(new Random(caseSeed * 31 + nodes), nodes).run();
            } catch (AssertionError e) {
                fail("seed " + caseSeed + ", " + nodes + " nodes (rerun: -Dstarling.seed=" + caseSeed
                        + " -Dstarling.cases=1): " + e.getMessage(), e);
            }
        }
    }

    /** One random run. Single-threaded: "concurrent" is "interleaved in a random order". */
    static final class Simulation {
        private final Random random;
        private final int maxNodes;
        private static final long START = 1_700_000_000_000L;
        private long now = START;
        /** The map: topic to value and until when it is kept (0: for ever). */
        private final Map<String, Stored> map = new HashMap<>();
        private final List<PendingWrite> inFlight = new ArrayList<>();
        private final List<Node> live = new ArrayList<>();
        /** The oracle: per topic, the write with the greatest stamp made anywhere. */
        private final Map<String, Retained> newest = new HashMap<>();
        private final ArrayDeque<String> trace = new ArrayDeque<>();
        private int created;
        private int writes;
        private boolean settling;

        Simulation(Random random, int maxNodes) {
            this.random = random;
            this.maxNodes = maxNodes;
        }

        void run() {
            join(); // the first node starts alone
            int steps = 80 + random.nextInt(200);
            for (int i = 0; i < steps; i++) {
                step();
            }
            // Settle: a node joins (every node now has a peer and shares what it kept alone), then
            // everything in flight lands and every report is taken, in random order.
            settling = true;
            join();
            for (Node n : new ArrayList<>(live)) {
                shareIfDue(n);
            }
            drain();
            join(); // joins a quiet cluster: what it has is what the map has
            drain();
            check();
        }

        private void step() {
            int r = random.nextInt(100);
            if (r < 35) {
                op(randomReady());
            } else if (r < 60) {
                land();
            } else if (r < 85) {
                deliver();
            } else if (r < 91) {
                tick();
            } else if (r < 94) {
                if (live.size() < maxNodes) {
                    join();
                }
            } else if (r < 95) {
                if (live.size() > 1) {
                    leave(live.get(random.nextInt(live.size())));
                }
            } else if (r < 98) {
                Node n = randomReady();
                if (n != null) {
                    shareIfDue(n);
                }
            } else {
                Node n = randomReady();
                if (n != null) {
                    log(n + " reloads after a merge");
                    n.store.reloadAfterMerge();
                }
            }
        }

        /** What may happen while a node is in the middle of loading the map. */
        private void interleave() {
            for (int k = random.nextInt(4); k > 0; k--) {
                int r = random.nextInt(10);
                if (r < 3 && !settling) {
                    op(randomReady());
                } else if (r < 6) {
                    land();
                } else if (r < 9) {
                    deliver();
                } else {
                    tick();
                }
            }
        }

        private Node randomReady() {
            List<Node> ready = live.stream().filter(n -> n.store != null).toList();
            return ready.isEmpty() ? null : ready.get(random.nextInt(ready.size()));
        }

        private void op(Node n) {
            if (n == null) {
                return;
            }
            String topic = TOPICS[random.nextInt(TOPICS.length)];
            Retained r;
            if (random.nextInt(10) < 3) {
                n.store.remove(TopicName.of(topic));
                r = n.store.register(topic);
                if (r == null || !r.isTombstone()) {
                    throw new AssertionError(n + " removed " + topic + " but holds " + describe(r));
                }
            } else {
                long expiresAt = random.nextInt(6) == 0 ? n.wall() + 1 + random.nextInt(300) : 0;
                String payload = n.name + "#" + (++writes);
                Message m = new Message(topic, payload.getBytes(StandardCharsets.UTF_8), 1, true, Properties.EMPTY,
                        expiresAt, n.name, 0);
                n.store.put(TopicName.of(topic), m);
                r = n.store.register(topic);
                if (r == null || r.message() != m) {
                    throw new AssertionError(n + " put " + payload + " on " + topic + " but holds " + describe(r));
                }
            }
            Retained before = newest.get(topic);
            if (before != null && before.time() == r.time() && before.node() == r.node()) {
                throw new AssertionError("two writes with one stamp: " + describe(before) + ", " + describe(r));
            }
            if (after(r, before)) {
                newest.put(topic, r);
            }
            log(n + " writes " + topic + " = " + describe(r));
        }

        private void land() {
            if (inFlight.isEmpty()) {
                return;
            }
            PendingWrite w = inFlight.remove(random.nextInt(inFlight.size()));
            SimulatedEntry entry = new SimulatedEntry(w.topic, current(w.topic));
            new HazelcastRetainedMap.KeepNewer(w.value, w.keepUntil).process(entry, now);
            if (entry.removed) {
                map.remove(w.topic); // a removal is not reported (and the store ignores it)
                log("map drops " + w.topic);
            } else if (entry.stored != null) {
                map.put(w.topic, new Stored(entry.stored, entry.ttl == 0 ? 0 : now + entry.ttl));
                for (Node n : live) {
                    if (n.listener != null) {
                        n.inbox.add(new Report(w.topic, entry.stored));
                    }
                }
                log("map takes " + w.topic + " = " + describe(Retained.decode(entry.stored)));
            } else {
                log("map keeps " + w.topic + ", refuses " + describe(Retained.decode(w.value)));
            }
        }

        private void deliver() {
            List<Node> waiting = live.stream().filter(n -> !n.inbox.isEmpty()).toList();
            if (waiting.isEmpty()) {
                return;
            }
            Node n = waiting.get(random.nextInt(waiting.size()));
            Report report = n.inbox.remove(random.nextInt(n.inbox.size()));
            log(n + " is told " + report.topic + " = " + describe(Retained.decode(report.value)));
            n.listener.accept(report.topic, report.value);
        }

        /** Time passes; now and then one node's clock steps back or forward. */
        private void tick() {
            now += random.nextInt(5);
            if (!live.isEmpty() && random.nextInt(4) == 0) {
                Node n = live.get(random.nextInt(live.size()));
                n.offset += random.nextInt(41) - 20;
            }
        }

        private void join() {
            Node n = new Node("n" + (created++));
            n.offset = random.nextInt(61) - 30;
            List<Node> peers = new ArrayList<>(live);
            n.shared = !peers.isEmpty();
            live.add(n);
            boolean peersSeeItFirst = random.nextBoolean();
            if (peersSeeItFirst) {
                peersHaveAPeer(peers);
            }
            log(n + " joins" + (peers.isEmpty() ? " alone" : ""));
            n.store = new ReplicatedRetainedStore(n, () -> n.shared, n::wall, LIFETIME, random.nextLong());
            if (!peersSeeItFirst) {
                peersHaveAPeer(peers);
            }
        }

        private static void peersHaveAPeer(List<Node> peers) {
            for (Node p : peers) {
                if (!p.shared) {
                    p.shared = true;
                    p.shareAllDue = true; // Broker: shareAll when a node joins
                }
            }
        }

        private void shareIfDue(Node n) {
            if (n.shareAllDue) {
                n.shareAllDue = false;
                log(n + " shares all");
                n.store.shareAll();
            }
        }

        /** A graceful leave: what the node sent still lands; reports to it are lost. */
        private void leave(Node n) {
            if (n.store == null) {
                return;
            }
            shareIfDue(n);
            live.remove(n);
            n.listener = null;
            log(n + " leaves");
            if (live.size() == 1) {
                live.get(0).shared = false; // alone again: keeps its writes to itself until a node joins
            }
        }

        private void drain() {
            while (!inFlight.isEmpty() || live.stream().anyMatch(n -> !n.inbox.isEmpty())) {
                if (!inFlight.isEmpty() && random.nextBoolean()) {
                    land();
                } else {
                    deliver();
                }
            }
        }

        private void check() {
            for (String topic : TOPICS) {
                Retained want = newest.get(topic);
                byte[] stored = current(topic);
                Retained inMap = stored == null ? null : Retained.decode(stored);
                if (want != null && (inMap == null || inMap.time() != want.time() || inMap.node() != want.node())) {
                    throw new AssertionError("the map holds " + describe(inMap) + " for " + topic + ", newest is "
                            + describe(want) + trace());
                }
                boolean visible = want != null && want.message() != null && !want.message().isExpired(now);
                for (Node n : live) {
                    List<Message> found = new ArrayList<>();
                    n.store.match(TopicFilter.of(topic), now, found::add);
                    boolean ok = visible ? found.size() == 1 && found.get(0).id() == want.message().id() : found.isEmpty();
                    if (!ok) {
                        throw new AssertionError(n + " gives " + found.stream().map(m -> payload(m)).toList() + " for "
                                + topic + " (holds " + describe(n.store.register(topic)) + "), newest is "
                                + describe(want) + (visible ? "" : ", which gives nothing") + trace());
                    }
                }
            }
        }

        /** The oracle's order, written out here rather than taken from the code under test. */
        private static boolean after(Retained a, Retained b) {
            return b == null || a.time() > b.time() || (a.time() == b.time() && a.node() > b.node());
        }

        private byte[] current(String topic) {
            Stored s = map.get(topic);
            if (s != null && s.keepUntil != 0 && s.keepUntil <= now) {
                map.remove(topic); // Hazelcast's TTL
                return null;
            }
            return s == null ? null : s.value;
        }

        private void log(String line) {
            trace.addLast("  t+" + (now - START) + " " + line);
            if (trace.size() > 60) {
                trace.removeFirst();
            }
        }

        private String trace() {
            return "\nlast steps:\n" + String.join("\n", trace);
        }

        private static String payload(Message m) {
            return new String(m.payload(), StandardCharsets.UTF_8);
        }

        private String describe(Retained r) {
            if (r == null) {
                return "nothing";
            }
            String what = r.message() == null ? "tombstone"
                    : payload(r.message()) + (r.message().isExpired(now) ? " (expired)" : "");
            return what + " @" + (HybridClock.millis(r.time()) - START) + "." + (r.time() & 0xFFFF)
                    + "/" + String.format("%016x", r.node()).substring(0, 4);
        }

        /** One node: its store, its clock, the reports it has not taken yet; its view of the map. */
        final class Node implements RetainedMap {
            final String name;
            final List<Report> inbox = new ArrayList<>();
            long offset;
            boolean shared;
            boolean shareAllDue;
            ReplicatedRetainedStore store;
            BiConsumer<String, byte[]> listener;

            Node(String name) {
                this.name = name;
            }

            long wall() {
                return now + offset;
            }

            @Override
            public void listen(BiConsumer<String, byte[]> onValue) {
                listener = onValue;
            }

            /** Entries in a random order, each as it was when the load began or as it is now; things happen between them. */
            @Override
            public Iterable<Map.Entry<String, byte[]>> entries() {
                List<String> keys = new ArrayList<>();
                Map<String, byte[]> atStart = new HashMap<>();
                for (String topic : TOPICS) {
                    byte[] v = current(topic);
                    if (v != null) {
                        keys.add(topic);
                        atStart.put(topic, v);
                    }
                }
                Collections.shuffle(keys, random);
                return () -> new Iterator<>() {
                    private int i;

                    @Override
                    public boolean hasNext() {
                        interleave();
                        return i < keys.size();
                    }

                    @Override
                    public Map.Entry<String, byte[]> next() {
                        String key = keys.get(i++);
                        byte[] later = current(key);
                        byte[] v = later != null && random.nextBoolean() ? later : atStart.get(key);
                        log(Node.this + " loads " + key + " = " + describe(Retained.decode(v)));
                        return Map.entry(key, v);
                    }
                };
            }

            @Override
            public void keepNewer(String topic, byte[] value, long keepUntilMillis) {
                inFlight.add(new PendingWrite(topic, value, keepUntilMillis));
            }

            @Override
            public String toString() {
                return name;
            }
        }
    }

    private record Stored(byte[] value, long keepUntil) {
    }

    private record PendingWrite(String topic, byte[] value, long keepUntil) {
    }

    private record Report(String topic, byte[] value) {
    }

    /** The entry an entry processor sees: records what it does. */
    private static final class SimulatedEntry implements ExtendedMapEntry<String, byte[]> {
        private final String key;
        private final byte[] value;
        byte[] stored;
        long ttl;
        boolean removed;

        SimulatedEntry(String key, byte[] value) {
            this.key = key;
            this.value = value;
        }

        @Override
        public String getKey() {
            return key;
        }

        @Override
        public byte[] getValue() {
            return value;
        }

        @Override
        public byte[] setValue(byte[] v) {
            if (v != null) {
                throw new AssertionError("the processor sets every value with its own TTL");
            }
            removed = true;
            return value;
        }

        @Override
        public byte[] setValue(byte[] v, long ttl, TimeUnit unit) {
            stored = v;
            this.ttl = unit.toMillis(ttl);
            return value;
        }

        @Override
        public byte[] setValueWithoutChangingExpiryTime(byte[] v) {
            throw new AssertionError("not used");
        }
    }
}
