package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.routing.Delivery;
import io.starling.routing.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A session's queue keeps its order and its weight (what mqtt.max-queued-bytes adds up) through every change. */
class SessionQueueTest {
    static Delivery delivery(String topic, int payloadBytes, String sharedFilter) {
        Message m = new Message(topic, new byte[payloadBytes], 1, false, io.starling.protocol.Properties.EMPTY, 0, "pub",
                System.nanoTime());
        return new Delivery(m, 1, false, new int[0], sharedFilter);
    }

    @Test
    void weightFollowsWhatIsQueuedThroughRandomChanges() {
        Random random = new Random(9);
        SessionQueue queue = new SessionQueue();
        List<Delivery> model = new ArrayList<>();
        for (int step = 0; step < 2_000; step++) {
            switch (random.nextInt(5)) {
                case 0, 1 -> {
                    Delivery d = delivery("t/" + random.nextInt(50), random.nextInt(300),
                            random.nextInt(4) == 0 ? "$share/g/t/#" : null);
                    queue.add(d);
                    model.add(d);
                }
                case 2 -> assertEquals(model.isEmpty() ? null : model.remove(0), queue.poll());
                case 3 -> {
                    queue.removeIf(d -> d.sharedFilter() != null);
                    model.removeIf(d -> d.sharedFilter() != null);
                }
                default -> {
                    if (random.nextInt(20) == 0) {
                        queue.clear();
                        model.clear();
                    }
                }
            }
            long bytes = 0;
            for (Delivery d : model) {
                bytes += SessionQueue.sizeOf(d);
            }
            assertEquals(bytes, queue.bytes(), "weight after step " + step);
            assertEquals(model, queue.copy(), "order after step " + step);
            assertEquals(model.size(), queue.size());
        }
    }

    @Test
    void findsAMessageByItsId() {
        SessionQueue queue = new SessionQueue();
        Delivery a = delivery("a", 1, null);
        queue.add(a);
        assertTrue(queue.contains(a.message().id()));
        assertFalse(queue.contains(a.message().id() + 1));
        assertEquals(a, queue.peek());
        queue.poll();
        assertNull(queue.peek());
        assertTrue(queue.isEmpty());
        assertEquals(0, queue.bytes());
        assertEquals(1 + 2 + 96, SessionQueue.sizeOf(a), "payload, topic as chars, and the objects around them");
    }
}
