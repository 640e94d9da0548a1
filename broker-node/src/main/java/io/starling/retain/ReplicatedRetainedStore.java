package io.starling.retain;

import com.hazelcast.config.Config;
import com.hazelcast.config.MergePolicyConfig;
import com.hazelcast.map.IMap;
import io.starling.routing.Message;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retained messages shared through the cluster's Hazelcast map {@value #MAP}, with a local trie
 * index so that lookups on subscribe never leave the node.
 *
 * <p><b>Convergence</b> (docs/adr/0009). Each topic is a last-writer-wins register
 * ({@link Retained}): every write, a message or a tombstone for an empty retained payload
 * ([MQTT-3.3.1-6], [MQTT-3.3.1-7]), gets a stamp from this node's {@link HybridClock} and its
 * random node id, one total order over all writes of all nodes. The local index takes a write
 * only if it is newer than what it holds for the topic; so do the map (an entry processor, not a
 * blind set) and the map's merge after a healed partition ({@link NewerStampMergePolicy}). A
 * node's own writes, other members' writes (the entry listener, this member's own events
 * included), the map loaded at start and the reload after a merge can then arrive in any order,
 * repeated or late: every node ends with the write of the greatest stamp [MQTT-3.3.1-5], which
 * is also what the map holds and what a node that joins later loads.
 *
 * <p><b>Forgetting.</b> A tombstone, and a message after it expires (Message Expiry Interval,
 * spec 3.3.2.3.3), stays in the map and in each index for {@code lifetime} after its write
 * ({@link Retained#keepUntilMillis}), then {@link #prune} and the map's TTL drop it. An older
 * write that arrives later than that would be taken as new: the lifetime must outlast every
 * write still in flight (seconds) and every partition that should heal without a removed message
 * coming back.
 *
 * <p><b>A single node</b> keeps its retained messages in its index only, so a publish makes no
 * Hazelcast call and no serialization (ADR 0003); {@link #shareAll} writes every register, the
 * tombstones too, when a node joins.
 */
public final class ReplicatedRetainedStore implements RetainedStore {
    static final String MAP = "starling.retained";

    /**
     * How long tombstones and expired messages are remembered: far above Hazelcast's operation
     * timeout (60 s) and the partitions NetworkPartitionIT heals (tens of seconds), at the cost of
     * one small map entry per removed topic for that long.
     */
    public static final long TOMBSTONE_LIFETIME_MS = 60 * 60_000L;

    private static final Logger LOG = LoggerFactory.getLogger(ReplicatedRetainedStore.class);
    private static final SecureRandom NODE_IDS = new SecureRandom();

    private final LocalRetainedStore index = new LocalRetainedStore();
    /** Per topic, the newest write seen; the index holds its message. Changed only inside compute on its topic. */
    private final ConcurrentHashMap<String, Retained> registers = new ConcurrentHashMap<>();
    private final RetainedMap map;
    private final BooleanSupplier shared;
    private final LongSupplier wallClock;
    private final HybridClock clock;
    private final long node;
    private final long lifetime;
    /** Whether the map may hold entries of ours: a node that has always been alone never calls it. */
    private volatile boolean mapUsed;

    /** A store that always writes through to the map. */
    public ReplicatedRetainedStore(IMap<String, byte[]> map) {
        this(map, () -> true);
    }

    /**
     * @param shared true while there are other nodes to share with; a single node keeps its
     *               retained messages in its index only, so a publish makes no Hazelcast call and
     *               no serialization (ADR 0003), and {@link #shareAll} writes them out when a node joins
     */
    public ReplicatedRetainedStore(IMap<String, byte[]> map, BooleanSupplier shared) {
        this(new HazelcastRetainedMap(map), shared, System::currentTimeMillis, TOMBSTONE_LIFETIME_MS,
                NODE_IDS.nextLong());
    }

    ReplicatedRetainedStore(RetainedMap map, BooleanSupplier shared, LongSupplier wallClock, long lifetime, long node) {
        this.map = map;
        this.shared = shared;
        this.wallClock = wallClock;
        this.clock = new HybridClock(wallClock);
        this.lifetime = lifetime;
        this.node = node;
        // Listen first, then load: a write that lands before the load is in it, one that lands
        // after the listener is registered is reported; both is harmless (the stamps decide).
        map.listen(this::applyValue);
        for (Map.Entry<String, byte[]> e : map.entries()) {
            applyValue(e.getKey(), e.getValue());
        }
    }

    /**
     * The retained map's configuration: merged by stamp after a healed partition. Every member
     * must have it; {@link io.starling.cluster.membership.ClusterMember#start} takes it.
     */
    public static void configure(Config config) {
        config.getMapConfig(MAP).setMergePolicyConfig(
                new MergePolicyConfig(NewerStampMergePolicy.class.getName(), MergePolicyConfig.DEFAULT_BATCH_SIZE));
    }

    @Override
    public void put(TopicName topic, Message message) {
        write(topic, new Retained(clock.tick(), node, message));
    }

    @Override
    public void remove(TopicName topic) {
        write(topic, new Retained(clock.tick(), node, null));
    }

    private void write(TopicName topic, Retained r) {
        apply(topic.value(), topic, r);
        if (!isLocalOnly(topic.value()) && shared.getAsBoolean()) {
            share(topic.value(), r);
        }
    }

    @Override
    public void match(TopicFilter filter, long nowMillis, Consumer<Message> out) {
        index.match(filter, nowMillis, out);
    }

    @Override
    public int size() {
        return index.size();
    }

    /** A node joined: every register of this node goes to the map (newer wins there), for it and the others. */
    public void shareAll() {
        for (Map.Entry<String, Retained> e : registers.entrySet()) {
            if (!isLocalOnly(e.getKey())) {
                share(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * After a healed partition Hazelcast has merged the two sides' maps by stamp (docs/adr/0006,
     * 0009), which fires no per-entry event on the side that merged in: this node takes from the
     * map whatever is newer than its own, and gives back whatever it holds newer than the map (a
     * write made while this side had a single node, or one the merge has not carried yet).
     * Blocking: call it off the event loop.
     */
    public void reloadAfterMerge() {
        Map<String, Retained> inMap = new HashMap<>();
        for (Map.Entry<String, byte[]> e : map.entries()) {
            Retained r = applyValue(e.getKey(), e.getValue());
            if (r != null) {
                inMap.put(e.getKey(), r);
            }
        }
        for (Map.Entry<String, Retained> e : registers.entrySet()) {
            if (!isLocalOnly(e.getKey()) && e.getValue().newerThan(inMap.get(e.getKey()))) {
                share(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * Forgets tombstones and expired messages past their lifetime. While this node is alone its
     * removals were not written to the map, which may still hold an older message from when there
     * were peers: that entry goes too (it would otherwise come back to a node that joins).
     * Blocking when alone; call it off the event loop, now and then.
     */
    public void prune() {
        long now = wallClock.getAsLong();
        boolean alone = !shared.getAsBoolean();
        for (Map.Entry<String, Retained> e : registers.entrySet()) {
            Retained r = e.getValue();
            long until = r.keepUntilMillis(lifetime);
            if (until == 0 || until > now) {
                continue;
            }
            String topic = e.getKey();
            registers.computeIfPresent(topic, (t, current) -> {
                if (current != r) {
                    return current;
                }
                if (current.message() != null) {
                    index.removeIfSame(TopicName.of(t), current.message());
                }
                return null;
            });
            if (alone && mapUsed && !isLocalOnly(topic)) {
                map.keepNewer(topic, r.encode(), until); // past its time: removes an older entry only
            }
        }
    }

    /** Number of registers, tombstones and expired messages included. For tests. */
    int registerCount() {
        return registers.size();
    }

    /** The newest write this node has seen for the topic, or null. For tests. */
    Retained register(String topic) {
        return registers.get(topic);
    }

    /** Each node's own statistics ($SYS) are not shared. */
    private static boolean isLocalOnly(String topic) {
        return topic.startsWith("$SYS/");
    }

    private void share(String topic, Retained r) {
        mapUsed = true;
        map.keepNewer(topic, r.encode(), r.keepUntilMillis(lifetime));
    }

    /** A value from the map (loaded or reported): applied if newer. Returns it decoded, or null if unreadable. */
    private Retained applyValue(String topic, byte[] value) {
        mapUsed = true;
        if (value == null || isLocalOnly(topic)) {
            return null;
        }
        Retained r;
        try {
            r = Retained.decode(value);
        } catch (RuntimeException e) {
            LOG.warn("retained message for {} unreadable, ignored: {}", topic, e.toString());
            return null;
        }
        apply(topic, TopicName.of(topic), r);
        return r;
    }

    /**
     * The one rule: the index takes a write only if its stamp is newer than the topic's register.
     * The check and the index update are one step (compute on the topic), so two threads applying
     * two writes of one topic leave the newer one whatever their timing.
     */
    private void apply(String topic, TopicName name, Retained incoming) {
        clock.observe(incoming.time()); // what this node writes next comes after what it has seen
        registers.compute(topic, (t, current) -> {
            if (!incoming.newerThan(current)) {
                return current;
            }
            if (incoming.message() == null) {
                index.remove(name);
            } else {
                index.put(name, incoming.message()); // if expired, match skips it and drops it
            }
            return incoming;
        });
    }
}
