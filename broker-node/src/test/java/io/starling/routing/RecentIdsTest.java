package io.starling.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The bounded id set against a plain model: the last N distinct ids, oldest evicted first. */
class RecentIdsTest {
    @Test
    void remembersExactlyTheLastCapacityIdsWhateverTheCollisions() {
        long seed = Long.getLong("starling.seed", 20261202L);
        Random random = new Random(seed);
        for (int capacity : new int[] {1, 2, 7, 64, 1000}) {
            RecentIds ids = new RecentIds(capacity);
            ArrayDeque<Long> order = new ArrayDeque<>();
            java.util.Map<Long, Long> model = new java.util.HashMap<>(); // id -> position when added
            long added = 0;
            for (int step = 0; step < 20_000; step++) {
                // A small range, so that repeats and probe collisions are frequent.
                long id = 1 + random.nextInt(capacity * 3 + 5);
                boolean fresh = !model.containsKey(id);
                assertEquals(added, ids.mark());
                // Positions survive the backward shifts of removals: the model says where each id was added.
                assertEquals(fresh ? -1 : model.get(id), ids.firstSeen(id),
                        "seed " + seed + ", capacity " + capacity + ", step " + step);
                if (fresh) {
                    order.add(id);
                    model.put(id, added++);
                    if (order.size() > capacity) {
                        model.remove(order.poll());
                    }
                }
                long probe = 1 + random.nextInt(capacity * 3 + 5);
                assertEquals(model.containsKey(probe), ids.contains(probe), "seed " + seed + ", probe " + probe);
            }
        }
    }

    @Test
    void aRoutedQos2IdIsTakenOnceUntilItIsEvicted() {
        RecentIds ids = new RecentIds(2);
        assertTrue(ids.add(10));
        assertFalse(ids.add(10), "routed here before");
        assertTrue(ids.add(11));
        assertTrue(ids.add(12)); // 10 is the oldest: evicted
        assertTrue(ids.add(10));
    }
}
