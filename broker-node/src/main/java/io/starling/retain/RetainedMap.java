package io.starling.retain;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * What {@link ReplicatedRetainedStore} needs of the cluster-wide map of stamped values
 * ({@link Retained#encode}), topic to value: Hazelcast's map in production
 * ({@link HazelcastRetainedMap}), an in-memory simulation in the convergence property test.
 */
interface RetainedMap {
    /**
     * Calls {@code onValue} with every value stored from now on, by any member including this
     * one, on some other thread, in any order. Removals (a forgotten tombstone) are not reported.
     */
    void listen(BiConsumer<String, byte[]> onValue);

    /** The entries the map holds; blocking, and not a snapshot: writes may land meanwhile. */
    Iterable<Map.Entry<String, byte[]>> entries();

    /**
     * Asynchronously stores {@code value} under {@code topic} unless the map holds a value that
     * {@link Retained#supersedes supersedes} it: one step on the map's side, so that concurrent
     * writers cannot overwrite a newer value with an older one. The entry is kept until
     * {@code keepUntilMillis} (wall clock), or for ever if 0; a value already past it stores
     * nothing but still removes an older value.
     */
    void keepNewer(String topic, byte[] value, long keepUntilMillis);
}
