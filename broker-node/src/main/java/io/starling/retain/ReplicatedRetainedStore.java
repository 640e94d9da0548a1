package io.starling.retain;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.starling.routing.Message;
import io.starling.routing.MessageCodec;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Retained messages shared through the cluster's Hazelcast map {@value #MAP}, with a local trie
 * index so that lookups on subscribe never leave the node. A change made here updates the local
 * index at once and the map asynchronously; changes made by other members reach the index through
 * the map's entry listener. A node that joins later loads the map once at start.
 */
public final class ReplicatedRetainedStore implements RetainedStore {
    static final String MAP = "starling.retained";

    private final LocalRetainedStore index = new LocalRetainedStore();
    private final IMap<String, byte[]> map;
    private final java.util.function.BooleanSupplier shared;

    /** A store that always writes through to the map. */
    public ReplicatedRetainedStore(IMap<String, byte[]> map) {
        this(map, () -> true);
    }

    /**
     * @param shared true while there are other nodes to share with; a single node keeps its
     *               retained messages in its index only, so a publish makes no Hazelcast call and
     *               no serialization (ADR 0003), and {@link #shareAll} writes them out when a node joins
     */
    public ReplicatedRetainedStore(IMap<String, byte[]> map, java.util.function.BooleanSupplier shared) {
        this.map = map;
        this.shared = shared;
        Listener listener = new Listener();
        map.addEntryListener(listener, true);
        for (Map.Entry<String, byte[]> e : map.entrySet()) {
            apply(e.getKey(), e.getValue());
        }
    }

    /**
     * After a healed partition Hazelcast has merged the two sides' maps (docs/adr/0006), which
     * fires no per-entry event on the side that merged in: the index is made equal to the map
     * again, keeping this node's own $SYS topics. Blocking: call it off the event loop.
     */
    public void reloadAfterMerge() {
        java.util.Set<String> present = new java.util.HashSet<>();
        for (Map.Entry<String, byte[]> e : map.entrySet()) {
            present.add(e.getKey());
            apply(e.getKey(), e.getValue());
        }
        for (String topic : index.topics()) {
            if (!present.contains(topic) && !topic.startsWith("$SYS/")) {
                index.remove(TopicName.of(topic));
            }
        }
    }

    /** A node joined: every retained message of this node goes to the map, for it and the others. */
    public void shareAll() {
        long now = System.currentTimeMillis();
        for (String topic : index.topics()) {
            if (!topic.startsWith("$SYS/")) {
                TopicName name = TopicName.of(topic);
                index.match(TopicFilter.of(topic), now, m -> write(name, m));
            }
        }
    }

    @Override
    public void put(TopicName topic, Message message) {
        index.put(topic, message);
        if (topic.value().startsWith("$SYS/") || !shared.getAsBoolean()) {
            return; // each node's own statistics are not shared; a single node has nobody to share with
        }
        write(topic, message);
    }

    private void write(TopicName topic, Message message) {
        byte[] bytes = MessageCodec.encode(message);
        if (message.expiresAtMillis() != 0) {
            long ttl = Math.max(1, message.expiresAtMillis() - System.currentTimeMillis());
            map.setAsync(topic.value(), bytes, ttl, TimeUnit.MILLISECONDS);
        } else {
            map.setAsync(topic.value(), bytes);
        }
    }

    @Override
    public void remove(TopicName topic) {
        index.remove(topic);
        map.deleteAsync(topic.value());
    }

    @Override
    public void match(TopicFilter filter, long nowMillis, Consumer<Message> out) {
        index.match(filter, nowMillis, out);
    }

    @Override
    public int size() {
        return index.size();
    }

    private void apply(String topic, byte[] value) {
        TopicName name = TopicName.of(topic);
        if (value == null) {
            index.remove(name);
        } else {
            index.put(name, MessageCodec.decode(value));
        }
    }

    /** Applies other members' changes; this member's own are already in the index. */
    private final class Listener implements EntryAddedListener<String, byte[]>, EntryUpdatedListener<String, byte[]>,
            EntryRemovedListener<String, byte[]>, com.hazelcast.map.listener.EntryMergedListener<String, byte[]> {
        @Override
        public void entryMerged(EntryEvent<String, byte[]> e) {
            apply(e.getKey(), e.getValue()); // a value from the other side of a healed partition
        }

        @Override
        public void entryAdded(EntryEvent<String, byte[]> e) {
            if (!e.getMember().localMember()) {
                apply(e.getKey(), e.getValue());
            }
        }

        @Override
        public void entryUpdated(EntryEvent<String, byte[]> e) {
            entryAdded(e);
        }

        @Override
        public void entryRemoved(EntryEvent<String, byte[]> e) {
            if (!e.getMember().localMember()) {
                apply(e.getKey(), null);
            }
        }
    }
}
