package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Ack;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketType;
import io.starling.protocol.Publish;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An online subscriber slower than its publisher: once its inflight window and its queue
 * (mqtt.max-queued-messages) are full, QoS 1 messages are not dropped: they are queued beyond the
 * limit and the publisher's PUBACKs wait until the subscriber catches up (backpressure). An offline
 * session's full queue still drops, and counts it, because nobody would ever release the wait.
 */
class SlowSubscriberIT {
    private static final int INFLIGHT = 5;
    private static final int QUEUED = 10;

    @RegisterExtension
    static final BrokerFixture broker = new BrokerFixture()
            .with("mqtt.max-inflight", INFLIGHT)
            .with("mqtt.max-queued-messages", QUEUED);

    @Test
    void aPublisherFasterThanAnOnlineSubscriberIsSlowedDownAndNothingIsLost() throws Exception {
        String topic = "slow/" + UUID.randomUUID();
        int messages = 60; // fewer than the server's Receive Maximum (100), which a publisher must respect
        double heldBefore = broker.metric("starling_acknowledgements_held_total");
        double droppedBefore = broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}");
        try (RawV5Client sub = RawV5Client.connected(broker.port(), "slow-sub-" + UUID.randomUUID(), true, null);
                RawV5Client pub = RawV5Client.connected(broker.port(), "fast-pub-" + UUID.randomUUID(), true, null)) {
            sub.subscribe(topic, 1);
            for (int i = 0; i < messages; i++) {
                pub.publish(topic, 1, String.valueOf(i), null);
            }
            // The subscriber acknowledges nothing yet: INFLIGHT sent, QUEUED queued, the rest waits.
            int acked = countPubacks(pub, 1500);
            assertEquals(INFLIGHT + QUEUED, acked, "PUBACKs while the subscriber's window and queue are full");
            assertEquals(messages - INFLIGHT - QUEUED, broker.metric("starling_acknowledgements_held_total") - heldBefore,
                    "acknowledgements held");

            // The subscriber catches up: every message arrives once, in order, and every PUBACK comes.
            List<Integer> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 10_000;
            while (got.size() < messages && System.currentTimeMillis() < deadline) {
                Packet p = sub.poll(500);
                if (p instanceof Publish m) {
                    got.add(Integer.parseInt(RawV5Client.text(m)));
                    sub.puback(m.packetId());
                }
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < messages; i++) {
                expected.add(i);
            }
            assertEquals(expected, got, "every message, once, in order (spec 4.6)");
            acked += countPubacks(pub, 3000);
            assertEquals(messages, acked, "every publish acknowledged once the subscriber caught up");
        }
        assertEquals(0, broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}") - droppedBefore,
                "nothing dropped for an online subscriber");
    }

    @Test
    void anOfflineSessionsFullQueueDropsAndCountsWithoutHoldingThePublisher() throws Exception {
        String topic = "slow-offline/" + UUID.randomUUID();
        String subId = "offline-sub-" + UUID.randomUUID();
        try (RawV5Client sub = RawV5Client.connected(broker.port(), subId, true, p -> p.sessionExpiryInterval = 60L)) {
            sub.subscribe(topic, 1);
            sub.disconnect();
        }
        double droppedBefore = broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}");
        int messages = 30;
        try (RawV5Client pub = RawV5Client.connected(broker.port(), "pub-" + UUID.randomUUID(), true, null)) {
            for (int i = 0; i < messages; i++) {
                pub.publish(topic, 1, String.valueOf(i), null);
            }
            assertEquals(messages, countPubacks(pub, 3000), "the publisher is not held by an offline session");
        }
        assertEquals(messages - QUEUED, broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}") - droppedBefore,
                "the overflow of an offline session is dropped and counted");
        try (RawV5Client back = RawV5Client.connected(broker.port(), subId, false, p -> p.sessionExpiryInterval = 60L)) {
            int n = 0;
            Packet p;
            while ((p = back.poll(1000)) != null) {
                if (p instanceof Publish m) {
                    assertEquals(n, Integer.parseInt(RawV5Client.text(m)), "the oldest messages are kept, in order");
                    back.puback(m.packetId());
                    n++;
                }
            }
            assertEquals(QUEUED, n, "the queue's limit of messages was kept");
        }
    }

    /** PUBACKs that arrive until none has come for {@code quietMillis}. */
    private static int countPubacks(RawV5Client c, long quietMillis) throws Exception {
        int n = 0;
        Packet p;
        while ((p = c.poll(quietMillis)) != null) {
            if (p instanceof Ack a && a.type() == PacketType.PUBACK) {
                assertTrue(a.reasonCode() < 0x80, "PUBACK " + a);
                n++;
            }
        }
        return n;
    }
}
