package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Ack;
import io.starling.protocol.ConnAck;
import io.starling.protocol.PacketType;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Receive Maximum (spec 3.1.2.11.3, 3.2.2.3.3, 4.9) and Maximum Packet Size (3.1.2.11.4) both ways. */
class ReceiveMaximumIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.receive-maximum", 2);

    @RegisterExtension
    final Clients clients = new Clients(broker);

    /** QoS 1 publish that waits for its PUBACK (a publisher must itself respect the broker's Receive Maximum of 2). */
    static void publishAcked(RawV5Client pub, String topic, String payload) throws Exception {
        pub.publish(topic, 1, payload, null);
        Ack ack = pub.expect(Ack.class);
        assertEquals(PacketType.PUBACK, ack.type());
    }

    @Test
    void brokerNeverHasMoreThanTheClientsReceiveMaximumQos1MessagesInFlight() throws Exception {
        RawV5Client sub = clients.raw("rm-window-sub", true, p -> p.receiveMaximum = 2);
        sub.subscribe("rm/window", 1);
        RawV5Client pub = clients.raw("rm-window-pub", true, null);
        for (int i = 0; i < 5; i++) {
            publishAcked(pub, "rm/window", "m" + i);
        }
        Publish a = sub.expect(Publish.class);
        Publish b = sub.expect(Publish.class);
        assertEquals("m0", RawV5Client.text(a));
        assertEquals("m1", RawV5Client.text(b));
        assertNull(sub.poll(500), "a third QoS 1 PUBLISH before any PUBACK exceeds Receive Maximum 2 [MQTT-3.3.4-9]");

        sub.puback(a.packetId());
        Publish c = sub.expect(Publish.class);
        assertEquals("m2", RawV5Client.text(c));
        assertNull(sub.poll(500), "one PUBACK frees exactly one slot");

        sub.puback(b.packetId());
        sub.puback(c.packetId());
        Publish d = sub.expect(Publish.class);
        Publish e = sub.expect(Publish.class);
        assertEquals("m3", RawV5Client.text(d));
        assertEquals("m4", RawV5Client.text(e));
        sub.puback(d.packetId());
        sub.puback(e.packetId());
        assertNull(sub.poll(300));
    }

    @Test
    void clientExceedingBrokersReceiveMaximumWithQos2IsDisconnectedWith0x93() throws Exception {
        RawV5Client c = clients.raw("rm-flood", true, null);
        for (int i = 1; i <= 2; i++) {
            c.publish("rm/flood", 2, "q2-" + i, null);
            Ack rec = c.expect(Ack.class);
            assertEquals(PacketType.PUBREC, rec.type());
        }
        c.publish("rm/flood", 2, "q2-3", null); // a third without PUBREL: above Receive Maximum 2
        c.expectDisconnect(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
    }

    @Test
    void clientWithinBrokersReceiveMaximumIsNotDisconnected() throws Exception {
        RawV5Client c = clients.raw("rm-polite", true, null);
        for (int i = 1; i <= 5; i++) {
            c.publish("rm/polite", 2, "q2-" + i, null);
            Ack rec = c.expect(Ack.class);
            assertEquals(PacketType.PUBREC, rec.type());
            c.send(Ack.of(PacketType.PUBREL, rec.packetId(), 0));
            Ack comp = c.expect(Ack.class);
            assertEquals(PacketType.PUBCOMP, comp.type());
            assertEquals(0, comp.reasonCode());
        }
    }

    @Test
    void connAckCarriesReceiveMaximumMaximumPacketSizeAndTopicAliasMaximum() throws Exception {
        RawV5Client c = clients.raw("rm-connack", true, null);
        ConnAck ack = c.connAck();
        Properties p = ack.properties();
        assertEquals(Integer.valueOf(2), p.receiveMaximum, "Receive Maximum = mqtt.receive-maximum");
        assertEquals(Long.valueOf(1_048_576), p.maximumPacketSize, "Maximum Packet Size = mqtt.max-packet-size");
        assertEquals(Integer.valueOf(10), p.topicAliasMaximum, "Topic Alias Maximum = mqtt.topic-alias-maximum");
    }

    @Test
    void brokerDoesNotSendAPublishLargerThanTheClientsMaximumPacketSize() throws Exception {
        RawV5Client sub = clients.raw("rm-size-sub", true, p -> p.maximumPacketSize = 100L);
        sub.subscribe("rm/size", 1);
        RawV5Client pub = clients.raw("rm-size-pub", true, null);
        publishAcked(pub, "rm/size", "x".repeat(500));
        publishAcked(pub, "rm/size", "small");

        RawV5Client.Received r = sub.pollReceived(5000);
        assertNotNull(r, "the small message must still be delivered");
        assertTrue(r.packet() instanceof Publish, "expected PUBLISH, got " + r.packet());
        assertTrue(r.wireSize() <= 100, "packet of " + r.wireSize() + " bytes exceeds the client's maximum");
        assertEquals("small", RawV5Client.text((Publish) r.packet()),
                "the 500-byte message must be discarded, not sent [MQTT-3.1.2-24]");
        sub.puback(((Publish) r.packet()).packetId());
        assertNull(sub.poll(500));
    }
}
