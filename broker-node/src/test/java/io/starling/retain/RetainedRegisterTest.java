package io.starling.retain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.spi.merge.MergingValue;
import io.starling.routing.Message;
import io.starling.routing.MessageCodec;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/** The stamp, its byte form, the clock, the merge policy and a register's lifetime (docs/adr/0009). */
class RetainedRegisterTest {
    private static final long LIFETIME = 60_000;

    @Test
    void theClockNeverGoesBackAndMovesPastWhatItSees() {
        long[] wall = {1_000};
        HybridClock clock = new HybridClock(() -> wall[0]);
        long a = clock.tick();
        assertEquals(1_000, HybridClock.millis(a));
        long b = clock.tick();
        assertTrue(b > a, "same millisecond: the counter moves");
        wall[0] = 900; // the wall clock steps back
        long c = clock.tick();
        assertTrue(c > b, "a step back of the wall clock does not take the stamps back");
        long seen = (5_000L << HybridClock.LOGICAL_BITS) + 7; // a node whose clock is ahead
        clock.observe(seen);
        assertTrue(clock.tick() > seen, "a write after seeing another is newer than it");
        clock.observe(1); // older stamps change nothing
        wall[0] = 9_000;
        assertEquals(9_000L << HybridClock.LOGICAL_BITS, clock.tick(), "back at the wall clock once it is ahead again");
    }

    @Test
    void theOrderIsTimeThenNodeAndTheByteFormKeepsIt() {
        Message m = RetainedStoreContract.message("a/b", "x", 0);
        Retained older = new Retained(10, 5, m);
        Retained sameTimeHigherNode = new Retained(10, 6, null);
        Retained later = new Retained(11, -100, m);
        assertTrue(sameTimeHigherNode.newerThan(older));
        assertTrue(later.newerThan(sameTimeHigherNode));
        assertFalse(older.newerThan(older), "a repeat is not newer: applying it twice is harmless");
        assertTrue(older.newerThan(null));
        assertTrue(Retained.supersedes(sameTimeHigherNode.encode(), older.encode()));
        assertFalse(Retained.supersedes(older.encode(), sameTimeHigherNode.encode()));
        assertFalse(Retained.supersedes(older.encode(), older.encode()));
        assertTrue(Retained.supersedes(older.encode(), null));

        Retained back = Retained.decode(later.encode());
        assertEquals(11, back.time());
        assertEquals(-100, back.node());
        assertArrayEquals(m.payload(), back.message().payload());
        assertEquals(m.id(), back.message().id());
        assertEquals("text/plain", back.message().properties().contentType);
        assertTrue(Retained.decode(sameTimeHigherNode.encode()).isTombstone());
    }

    @Test
    void anUnstampedValueIsOlderThanAnyStampedOne() {
        byte[] legacy = MessageCodec.encode(RetainedStoreContract.message("a/b", "old", 0));
        Retained r = Retained.decode(legacy);
        assertEquals(0, r.time());
        assertEquals("a/b", r.message().topic());
        assertTrue(Retained.supersedes(new Retained(1, Long.MIN_VALUE, null).encode(), legacy));
    }

    @Test
    void aTombstoneAndAnExpiredMessageAreKeptForTheLifetimeFromTheirWrite() {
        long writtenAt = 1_000_000;
        long time = writtenAt << HybridClock.LOGICAL_BITS;
        assertEquals(0, new Retained(time, 1, RetainedStoreContract.message("a", "x", 0)).keepUntilMillis(LIFETIME),
                "a message that never expires is kept for as long as it is current");
        assertEquals(writtenAt + LIFETIME, new Retained(time, 1, null).keepUntilMillis(LIFETIME));
        assertEquals(writtenAt + LIFETIME,
                new Retained(time, 1, RetainedStoreContract.message("a", "x", writtenAt + 5)).keepUntilMillis(LIFETIME));
        assertEquals(writtenAt + 2 * LIFETIME, new Retained(time, 1,
                RetainedStoreContract.message("a", "x", writtenAt + 2 * LIFETIME)).keepUntilMillis(LIFETIME),
                "a message is kept at least until it expires");
    }

    @Test
    void theMergePolicyKeepsTheNewerStampWhicheverSideItIsOn() {
        NewerStampMergePolicy policy = new NewerStampMergePolicy();
        byte[] older = new Retained(10, 1, RetainedStoreContract.message("a", "old", 0)).encode();
        byte[] newer = new Retained(20, 1, null).encode();
        assertSame(newer, policy.merge(value(newer), value(older)), "the merging side's newer tombstone wins");
        assertSame(newer, policy.merge(value(older), value(newer)), "the existing newer value stays");
        assertSame(older, policy.merge(value(older), null), "a topic set on one side only is kept");
        assertSame(older, policy.merge(null, value(older)));
    }

    /** A merging value whose raw form is the value itself. */
    private static MergingValue<byte[]> value(byte[] v) {
        return new MergingValue<>() {
            @Override
            public byte[] getDeserializedValue() {
                return v;
            }

            @Override
            public Object getRawValue() {
                return v;
            }
        };
    }

    @Test
    void aSingleNodeMakesNoMapCallAndSharesItsRemovalsTooWhenANodeJoins() {
        long[] now = {1_000_000};
        FakeMap map = new FakeMap(() -> now[0]);
        boolean[] shared = {false};
        ReplicatedRetainedStore store = new ReplicatedRetainedStore(map, () -> shared[0], () -> now[0], LIFETIME, 1);
        store.put(TopicName.of("a/b"), RetainedStoreContract.message("a/b", "1", 0));
        store.put(TopicName.of("a/c"), RetainedStoreContract.message("a/c", "2", 0));
        store.remove(TopicName.of("a/c"));
        assertEquals(0, map.writes, "ADR 0003: no Hazelcast call for a retained publish, a removal included");
        assertEquals(1, store.size());
        shared[0] = true;
        store.shareAll();
        assertEquals(2, map.writes, "the message and the tombstone");
        assertTrue(Retained.decode(map.values.get("a/c")).isTombstone(),
                "a node that joins does not take an older a/c the map may hold for a current one");
        assertEquals(List.of("a/b"), topics(new ReplicatedRetainedStore(map, () -> true, () -> now[0], LIFETIME, 2), now[0]));
    }

    @Test
    void aTombstoneRefusesOlderWritesForItsLifetimeAndIsThenForgotten() {
        long[] now = {1_000_000};
        FakeMap map = new FakeMap(() -> now[0]);
        ReplicatedRetainedStore store = new ReplicatedRetainedStore(map, () -> true, () -> now[0], LIFETIME, 1);
        byte[] older = new Retained(999_000L << HybridClock.LOGICAL_BITS, 2, RetainedStoreContract.message("a", "old", 0))
                .encode();
        store.remove(TopicName.of("a"));
        now[0] += LIFETIME - 1;
        map.report("a", older); // a late report of a write made before the removal
        store.prune();
        assertEquals(List.of(), topics(store, now[0]), "the removal stands [MQTT-3.3.1-6]");
        assertEquals(1, store.registerCount());
        now[0] += 1;
        store.prune();
        assertEquals(0, store.registerCount(), "forgotten after its lifetime: the index does not grow for ever");
        assertEquals(LIFETIME + 1_000_000, map.keepUntil.get("a"), "the map forgets it at the same time (TTL)");
    }

    @Test
    void anExpiredMessageIsForgottenLikeATombstone() {
        long[] now = {1_000_000};
        FakeMap map = new FakeMap(() -> now[0]);
        ReplicatedRetainedStore store = new ReplicatedRetainedStore(map, () -> true, () -> now[0], LIFETIME, 1);
        store.put(TopicName.of("e"), RetainedStoreContract.message("e", "x", now[0] + 10));
        assertEquals(List.of("e"), topics(store, now[0]));
        now[0] += 10;
        assertEquals(List.of(), topics(store, now[0]), "Message Expiry Interval (3.3.2.3.3)");
        now[0] += LIFETIME;
        store.prune();
        assertEquals(0, store.registerCount());
        assertEquals(0, store.size());
    }

    @Test
    void aNodeAloneForgettingARemovalAlsoDropsTheOlderMessageTheMapKeptFromBefore() {
        long[] now = {1_000_000};
        FakeMap map = new FakeMap(() -> now[0]);
        boolean[] shared = {true};
        ReplicatedRetainedStore store = new ReplicatedRetainedStore(map, () -> shared[0], () -> now[0], LIFETIME, 1);
        store.put(TopicName.of("a"), RetainedStoreContract.message("a", "x", 0)); // shared: in the map
        shared[0] = false; // the peers left
        store.remove(TopicName.of("a")); // not written: the map still has the message
        assertFalse(Retained.decode(map.values.get("a")).isTombstone());
        now[0] += LIFETIME;
        store.prune();
        assertNull(map.values.get("a"), "otherwise a node that joins later would load it, and this one not");
        assertEquals(List.of(), topics(new ReplicatedRetainedStore(map, () -> true, () -> now[0], LIFETIME, 2), now[0]));
    }

    private static List<String> topics(ReplicatedRetainedStore store, long now) {
        List<String> out = new ArrayList<>();
        store.match(TopicFilter.of("#"), now, m -> out.add(m.topic()));
        out.sort(null);
        return out;
    }

    /** A map whose writes land at once and whose reports reach the listeners at once. */
    static final class FakeMap implements RetainedMap {
        final Map<String, byte[]> values = new HashMap<>();
        final Map<String, Long> keepUntil = new HashMap<>();
        final List<BiConsumer<String, byte[]>> listeners = new ArrayList<>();
        final LongSupplier now;
        int writes;

        FakeMap(LongSupplier now) {
            this.now = now;
        }

        @Override
        public void listen(BiConsumer<String, byte[]> onValue) {
            listeners.add(onValue);
        }

        @Override
        public Iterable<Map.Entry<String, byte[]>> entries() {
            return new HashMap<>(values).entrySet();
        }

        @Override
        public void keepNewer(String topic, byte[] value, long keepUntilMillis) {
            writes++;
            if (!Retained.supersedes(value, values.get(topic))) {
                return;
            }
            if (keepUntilMillis != 0 && keepUntilMillis <= now.getAsLong()) {
                values.remove(topic); // as KeepNewer: past its time, it only removes an older value
                return;
            }
            values.put(topic, value);
            keepUntil.put(topic, keepUntilMillis);
            report(topic, value);
        }

        void report(String topic, byte[] value) {
            for (BiConsumer<String, byte[]> l : listeners) {
                l.accept(topic, value);
            }
        }
    }
}
