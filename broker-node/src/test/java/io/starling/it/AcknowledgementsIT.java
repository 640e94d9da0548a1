package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Ack;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketType;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No success code for what the broker did not take (issue 9, items 2 and 5): with the node's
 * queued bytes at their bound (mqtt.max-queued-bytes), a QoS 1/2 publish that would be queued is
 * refused: 5.0 publishers read 0x97 in the PUBACK/PUBREC, 3.1.1 publishers, which have no reason
 * codes, have their connection closed without an acknowledgement and resend; each is counted.
 */
class AcknowledgementsIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.max-queued-bytes", 1);

    @Test
    void publishesTheNodeCannotHoldAreRefusedNeverAcknowledged() throws Exception {
        String topic = "acks/" + UUID.randomUUID();
        // An offline persistent session: what is published for it is queued.
        try (PahoV5Client sub = PahoV5Client.connect(broker.tcpUri(), "acks-sub-" + UUID.randomUUID(),
                o -> o.setSessionExpiryInterval(600L))) {
            sub.subscribe(topic, 1);
            sub.disconnect();
        }
        double refusedBefore = refused();
        try (RawV5Client pub = RawV5Client.connected(broker.port(), "acks-pub-" + UUID.randomUUID(), true, null)) {
            pub.send(new Publish(1, false, false, topic, 1, Properties.EMPTY, "first".getBytes()));
            Ack first = (Ack) pub.poll(5000);
            assertEquals(ReasonCode.SUCCESS, first.reasonCode(), "queued: the node held it");

            pub.send(new Publish(1, false, false, topic, 2, Properties.EMPTY, "second".getBytes()));
            Ack second = (Ack) pub.poll(5000);
            assertEquals(PacketType.PUBACK, second.type());
            assertEquals(ReasonCode.QUOTA_EXCEEDED, second.reasonCode(), "the node's bound: 0x97, not success");

            pub.send(new Publish(2, false, false, topic, 3, Properties.EMPTY, "third".getBytes()));
            Packet third = pub.poll(5000);
            assertInstanceOf(Ack.class, third);
            assertEquals(PacketType.PUBREC, third.type());
            assertEquals(ReasonCode.QUOTA_EXCEEDED, ((Ack) third).reasonCode());
        }
        try (RawClient v3 = RawClient.connect(broker.port())) {
            v3.connectV311("acks-v3-" + UUID.randomUUID(), 60, null, null, 0);
            v3.send(new Publish(1, false, false, topic, 9, Properties.EMPTY, "fourth".getBytes()), MqttVersion.V3_1_1);
            assertEquals(null, v3.readPacket(), "3.1.1: the connection closed without a PUBACK, so it resends");
        }
        assertEquals(refusedBefore + 3, refused(), "starling_publishes_refused_total{reason=\"quota_exceeded\"}");
        assertTrue(broker.metric("starling_queued_bytes") > 1, "the queued bytes are exposed");
    }

    private static double refused() throws Exception {
        try {
            return broker.metric("starling_publishes_refused_total{reason=\"quota_exceeded\"}");
        } catch (AssertionError notYet) {
            return 0; // the series appears with the first refusal
        }
    }
}
