package io.starling.retain;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The retained map on Hazelcast: writes are entry processors that keep the newer stamp. */
final class HazelcastRetainedMap implements RetainedMap {
    private static final Logger LOG = LoggerFactory.getLogger(HazelcastRetainedMap.class);

    private final IMap<String, byte[]> map;

    HazelcastRetainedMap(IMap<String, byte[]> map) {
        this.map = map;
    }

    @Override
    public void listen(BiConsumer<String, byte[]> onValue) {
        map.addEntryListener(new Listener(onValue), true);
    }

    @Override
    public Iterable<Map.Entry<String, byte[]>> entries() {
        return map.entrySet();
    }

    @Override
    public void keepNewer(String topic, byte[] value, long keepUntilMillis) {
        try {
            map.submitToKey(topic, new KeepNewer(value, keepUntilMillis)).whenComplete((stored, failure) -> {
                if (failure != null) {
                    notShared(topic, failure);
                }
            });
        } catch (HazelcastInstanceNotActiveException e) {
            notShared(topic, e); // refused at once: the member has stopped
        }
    }

    private static void notShared(String topic, Throwable failure) {
        if (failure instanceof HazelcastInstanceNotActiveException
                || failure.getCause() instanceof HazelcastInstanceNotActiveException) {
            LOG.debug("retained message for {} not shared: this member is shutting down", topic);
        } else {
            // The other nodes do not get this write; the next join or merge shares it (shareAll).
            LOG.warn("retained message for {} not shared: {}", topic, failure.toString());
        }
    }

    /**
     * Compare and set in one step on the partition that owns the topic (and the same on its
     * backups): a blind set would let whichever of two concurrent writes lands last win, which
     * need not be the newer one, while each writer's index already holds its own (issue: retained
     * messages converge). Returns whether it stored the value.
     */
    public static final class KeepNewer implements EntryProcessor<String, byte[], Boolean>, DataSerializable {
        private byte[] value;
        private long keepUntilMillis;

        /** For Hazelcast's deserialization. */
        public KeepNewer() {
        }

        KeepNewer(byte[] value, long keepUntilMillis) {
            this.value = value;
            this.keepUntilMillis = keepUntilMillis;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            return process(entry, System.currentTimeMillis());
        }

        /** The same at a given time; the convergence property test runs it on its simulated map. */
        Boolean process(Map.Entry<String, byte[]> entry, long now) {
            byte[] existing = entry.getValue();
            if (!Retained.supersedes(value, existing)) {
                return false;
            }
            if (keepUntilMillis != 0 && keepUntilMillis <= now) {
                if (existing != null) {
                    entry.setValue(null); // an older value that this forgotten tombstone replaced
                }
                return false;
            }
            // A TTL of 0 is "for ever", as in IMap.set; each write sets its own, so that a message
            // that replaces a tombstone does not inherit the tombstone's expiry.
            long ttl = keepUntilMillis == 0 ? 0 : keepUntilMillis - now;
            ((ExtendedMapEntry<String, byte[]>) entry).setValue(value, ttl, TimeUnit.MILLISECONDS);
            return true;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeByteArray(value);
            out.writeLong(keepUntilMillis);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            value = in.readByteArray();
            keepUntilMillis = in.readLong();
        }
    }

    /** Every stored value, this member's own writes included: the stamps make a repeat harmless. */
    private static final class Listener implements EntryAddedListener<String, byte[]>,
            EntryUpdatedListener<String, byte[]>, EntryMergedListener<String, byte[]> {
        private final BiConsumer<String, byte[]> onValue;

        Listener(BiConsumer<String, byte[]> onValue) {
            this.onValue = onValue;
        }

        @Override
        public void entryAdded(EntryEvent<String, byte[]> e) {
            onValue.accept(e.getKey(), e.getValue());
        }

        @Override
        public void entryUpdated(EntryEvent<String, byte[]> e) {
            onValue.accept(e.getKey(), e.getValue());
        }

        @Override
        public void entryMerged(EntryEvent<String, byte[]> e) {
            // A value from the other side of a healed partition, chosen by NewerStampMergePolicy.
            if (e.getValue() != null) {
                onValue.accept(e.getKey(), e.getValue());
            }
        }
    }
}
