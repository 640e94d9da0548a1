package io.starling.sys;

import com.hazelcast.map.IMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Cluster-wide $SYS totals: each node writes its own counters to the Hazelcast map {@value #MAP}
 * at every $SYS interval, with a time to live of a few intervals so a node that is gone drops
 * out, and every node sums what is there. Blocking: called off the event loop.
 */
final class ClusterTotals {
    static final String MAP = "starling.nodestats";

    private final IMap<String, long[]> stats;
    private final String node;

    ClusterTotals(IMap<String, long[]> stats, String node) {
        this.stats = stats;
        this.node = node;
    }

    /** Records this node's counters (in the order of {@code names}) and returns the cluster's sums by name. */
    Map<String, Long> update(String[] names, long[] values, long ttlSeconds) {
        stats.set(node, values, ttlSeconds, TimeUnit.SECONDS);
        long[] sums = new long[names.length];
        int nodes = 0;
        for (long[] v : stats.values()) {
            nodes++;
            for (int i = 0; i < sums.length && i < v.length; i++) {
                sums[i] += v[i];
            }
        }
        Map<String, Long> out = new TreeMap<>();
        for (int i = 0; i < names.length; i++) {
            out.put(names[i], sums[i]);
        }
        out.put("nodes", (long) nodes);
        return out;
    }
}
