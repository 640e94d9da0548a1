package io.starling.routing;

/**
 * The ids of the last {@code capacity} QoS 2 messages this node routed to its own sessions, in a
 * fixed amount of memory: open addressing over a ring that evicts the oldest. A QoS 2 message
 * routed here again (its publisher resent it after the node that routed it first died mid-way)
 * is not delivered twice [MQTT-4.3.3-2]. Thread-safe (one short lock per QoS 2 routing).
 *
 * <p>Each id keeps the position at which it was first routed here, and {@link #mark()} is the
 * position now: a session that came to this node (adopted, taken over) after an id was routed was
 * not among the sessions that got it here, so a second routing goes to it.
 */
final class RecentIds {
    private static final long EMPTY = 0; // message ids are never 0 (random high bits, counter from 1)

    private final long[] ring;
    private final long[] table;
    /** The position at which the id in the same slot of {@link #table} was added. */
    private final long[] positions;
    private final int mask;
    private int next;
    private long added;

    /** @param capacity ids remembered; the table has twice as many slots, rounded up to a power of two */
    RecentIds(int capacity) {
        ring = new long[capacity];
        int slots = Integer.highestOneBit(Math.max(2, capacity * 2 - 1)) << 1;
        table = new long[slots];
        positions = new long[slots];
        mask = slots - 1;
    }

    /** @return true if {@code id} was not among the remembered ids (it is now) */
    synchronized boolean add(long id) {
        return firstSeen(id) < 0;
    }

    /**
     * @return -1 if {@code id} was not among the remembered ids (it is now, at the current mark),
     *         else the {@link #mark()} at which it was added
     */
    synchronized long firstSeen(long id) {
        if (id == EMPTY) {
            return -1;
        }
        int at = find(id);
        if (at >= 0) {
            return positions[at];
        }
        long evicted = ring[next];
        if (evicted != EMPTY) {
            remove(evicted);
        }
        ring[next] = id;
        next = (next + 1) % ring.length;
        insert(id, added++);
        return -1;
    }

    /** How many ids were added so far: an id added from now on is at this position or later. */
    synchronized long mark() {
        return added;
    }

    synchronized boolean contains(long id) {
        return find(id) >= 0;
    }

    private int find(long id) {
        for (int i = slot(id); ; i = (i + 1) & mask) {
            long v = table[i];
            if (v == EMPTY) {
                return -1;
            }
            if (v == id) {
                return i;
            }
        }
    }

    private void insert(long id, long position) {
        int i = slot(id);
        while (table[i] != EMPTY) {
            i = (i + 1) & mask;
        }
        table[i] = id;
        positions[i] = position;
    }

    /** Removes with backward shift, so that later probes still find what follows. */
    private void remove(long id) {
        int i = slot(id);
        while (table[i] != id) {
            if (table[i] == EMPTY) {
                return;
            }
            i = (i + 1) & mask;
        }
        table[i] = EMPTY;
        int j = (i + 1) & mask;
        while (table[j] != EMPTY) {
            long v = table[j];
            int home = slot(v);
            // v may move to the hole at i if its home is not in (i, j] cyclically
            if (((j - home) & mask) >= ((j - i) & mask)) {
                table[i] = v;
                positions[i] = positions[j];
                table[j] = EMPTY;
                i = j;
            }
            j = (j + 1) & mask;
        }
    }

    private int slot(long id) {
        long h = id * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }
}
