package io.starling.session;

import java.util.BitSet;

/**
 * Allocates packet identifiers 1..65535 for one session's outgoing QoS 1/2 publishes, never one
 * still in use [MQTT-2.2.1-3]: an identifier becomes free again only when its flow completes
 * (PUBACK, PUBCOMP, or a PUBREC with a failure code, [MQTT-4.3.2-...], [MQTT-4.3.3-...]).
 * Not thread-safe: owned by the session's context.
 */
public final class PacketIdAllocator {
    private static final int MAX = 65_535;
    private final BitSet used = new BitSet(MAX + 1);
    private int next = 1;
    private int inUse;

    /** @return a free identifier, or 0 when all 65,535 are in use. */
    public int allocate() {
        if (inUse == MAX) {
            return 0;
        }
        while (used.get(next)) {
            next = next == MAX ? 1 : next + 1;
        }
        int id = next;
        used.set(id);
        inUse++;
        next = id == MAX ? 1 : id + 1;
        return id;
    }

    /** Marks an identifier as in use again, e.g. for inflight messages restored with a session. */
    public void claim(int id) {
        if (!used.get(id)) {
            used.set(id);
            inUse++;
        }
    }

    public void release(int id) {
        if (id > 0 && id <= MAX && used.get(id)) {
            used.clear(id);
            inUse--;
        }
    }

    public boolean isInUse(int id) {
        return used.get(id);
    }

    public int inUse() {
        return inUse;
    }
}
