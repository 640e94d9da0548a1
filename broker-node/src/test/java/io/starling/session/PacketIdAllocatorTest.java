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
}
