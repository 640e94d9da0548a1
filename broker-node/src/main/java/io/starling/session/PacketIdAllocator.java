package io.starling.session;

/**
 * Allocates packet identifiers 1..65535 for one session's outgoing QoS 1/2 publishes, never one
 * still in use [MQTT-2.2.1-3]: an identifier becomes free again only when its flow completes
 * (PUBACK, PUBCOMP, or a PUBREC with a failure code, [MQTT-4.3.2-...], [MQTT-4.3.3-...]).
 * Not thread-safe: owned by the session's context.
 *
 * <p>Memory: a flat bitmap of 65,536 bits is 8 KB per session, even for the many sessions that
 * never have anything in flight (issue 4: memory per idle client). The bitmap is split into
 * {@value #PAGES} pages of {@value #PAGE_IDS} identifiers, allocated when an identifier in them is
 * taken and dropped when they empty again (except the one the sequence is in). Identifiers are
 * handed out in sequence, so a session that sends QoS 1/2 holds one or two pages (512 B each);
 * one that never did holds nothing.
 */
public final class PacketIdAllocator {
    private static final int MAX = 65_535;
    private static final int PAGE_SHIFT = 12;
    private static final int PAGE_IDS = 1 << PAGE_SHIFT; // 4,096 identifiers, 64 longs
    private static final int PAGES = (MAX + 1) >> PAGE_SHIFT; // 16

    /** Page i holds identifiers i*4096 .. i*4096+4095 (identifier 0 is never used); null while empty. */
    private long[][] pages;
    /** Identifiers in use per page; a page is dropped when its count returns to 0. */
    private int[] counts;
    private int next = 1;
    private int inUse;

    /** @return a free identifier, or 0 when all 65,535 are in use. */
    public int allocate() {
        if (inUse == MAX) {
            return 0;
        }
        while (isInUse(next)) {
            next = next == MAX ? 1 : next + 1;
        }
        int id = next;
        set(id);
        next = id == MAX ? 1 : id + 1;
        return id;
    }

    /** Marks an identifier as in use again, e.g. for inflight messages restored with a session. */
    public void claim(int id) {
        if (id > 0 && id <= MAX && !isInUse(id)) {
            set(id);
        }
    }

    public void release(int id) {
        if (id > 0 && id <= MAX && isInUse(id)) {
            int p = id >>> PAGE_SHIFT;
            pages[p][(id & (PAGE_IDS - 1)) >>> 6] &= ~(1L << id);
            inUse--;
            if (--counts[p] == 0 && p != next >>> PAGE_SHIFT) {
                // Emptied and behind the sequence: dropped. The page of the next identifier stays,
                // so that one message at a time in flight does not allocate a page per message.
                pages[p] = null;
            }
        }
    }

    public boolean isInUse(int id) {
        if (pages == null || id <= 0 || id > MAX) {
            return false;
        }
        long[] page = pages[id >>> PAGE_SHIFT];
        return page != null && (page[(id & (PAGE_IDS - 1)) >>> 6] & (1L << id)) != 0;
    }

    public int inUse() {
        return inUse;
    }

    private void set(int id) {
        if (pages == null) {
            pages = new long[PAGES][];
            counts = new int[PAGES];
        }
        int p = id >>> PAGE_SHIFT;
        long[] page = pages[p];
        if (page == null) {
            page = new long[PAGE_IDS / 64];
            pages[p] = page;
        }
        page[(id & (PAGE_IDS - 1)) >>> 6] |= 1L << id; // a shift of a long uses the low 6 bits of id
        counts[p]++;
        inUse++;
    }
}
