package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PacketIdAllocatorTest {
    private static final long SEED = Long.getLong("starling.seed", 0x1D5L);

    @Test
    void identifiersStartAtOneAndNeverZero() {
        PacketIdAllocator ids = new PacketIdAllocator();
        assertEquals(1, ids.allocate());
        assertEquals(2, ids.allocate());
    }

    @Test
    void identifierInFlightIsNotReusedAfterWrapAround() {
        PacketIdAllocator ids = new PacketIdAllocator();
        int held = ids.allocate(); // 1 stays in flight
        for (int i = 2; i <= 65_535; i++) {
            ids.release(ids.allocate());
        }
        int next = ids.allocate();
        assertEquals(2, next, "[MQTT-2.2.1-3] wrapped past 65535 but skipped the identifier still in use");
        assertTrue(ids.isInUse(held));
    }

    @Test
    void allIdentifiersInUseGivesZero() {
        PacketIdAllocator ids = new PacketIdAllocator();
        for (int i = 0; i < 65_535; i++) {
            assertTrue(ids.allocate() > 0);
        }
        assertEquals(0, ids.allocate());
        ids.release(40_000);
        assertEquals(40_000, ids.allocate());
    }

    @Test
    void randomAllocateAndReleaseNeverHandsOutAnIdentifierInUse() {
        Random random = new Random(SEED);
        PacketIdAllocator ids = new PacketIdAllocator();
        Set<Integer> inUse = new HashSet<>();
        List<Integer> order = new ArrayList<>();
        for (int step = 0; step < 200_000; step++) {
            if (inUse.isEmpty() || (random.nextInt(100) < 55 && inUse.size() < 65_535)) {
                int id = ids.allocate();
                assertTrue(id >= 1 && id <= 65_535, "seed " + SEED + ": out of range " + id);
                assertTrue(inUse.add(id), "seed " + SEED + ": " + id + " handed out while in use");
                order.add(id);
            } else {
                int id = order.remove(random.nextInt(order.size()));
                inUse.remove(id);
                ids.release(id);
                assertFalse(ids.isInUse(id));
            }
            assertEquals(inUse.size(), ids.inUse(), "seed " + SEED);
        }
    }

    @Test
    void all65535InFlightThenReleasedInAnyOrderAreAllReusable() {
        // Fills every page, empties them in a scattered order (pages are dropped as they empty),
        // then every identifier must be available again exactly once.
        PacketIdAllocator ids = new PacketIdAllocator();
        for (int i = 1; i <= 65_535; i++) {
            assertEquals(i, ids.allocate());
        }
        assertEquals(65_535, ids.inUse());
        for (int i = 0; i < 65_535; i++) {
            int id = (int) ((i * 10_007L) % 65_535) + 1; // 10007 is prime, so coprime with 65535: a permutation
            ids.release(id);
            assertFalse(ids.isInUse(id));
        }
        assertEquals(0, ids.inUse());
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 65_535; i++) {
            int id = ids.allocate();
            assertTrue(id >= 1 && id <= 65_535 && seen.add(id), "handed out twice or out of range: " + id);
        }
        assertEquals(0, ids.allocate());
    }

    @Test
    void claimedIdentifiersAreSkippedAndReleaseOfUnknownIsIgnored() {
        PacketIdAllocator ids = new PacketIdAllocator();
        ids.claim(1);
        ids.claim(4_096); // first identifier of the second page
        ids.claim(4_096); // twice: counted once
        ids.release(7);   // not in use: nothing changes
        ids.release(0);
        ids.release(70_000);
        assertEquals(2, ids.inUse());
        assertEquals(2, ids.allocate());
        ids.release(1);
        ids.release(4_096);
        ids.release(2);
        assertEquals(0, ids.inUse());
        assertFalse(ids.isInUse(4_096));
        assertEquals(3, ids.allocate(), "the sequence continues after the last identifier handed out");
    }

    @Test
    void oneInFlightAtATimeAcrossPageBoundariesAndWrapAround() {
        PacketIdAllocator ids = new PacketIdAllocator();
        for (int i = 0; i < 3 * 65_535 + 10; i++) {
            int id = ids.allocate();
            assertEquals(i % 65_535 + 1, id);
            assertTrue(ids.isInUse(id));
            ids.release(id);
            assertEquals(0, ids.inUse());
        }
    }
}
