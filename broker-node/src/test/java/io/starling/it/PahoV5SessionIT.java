package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.ConnAck;
import io.starling.protocol.Publish;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 session behaviour (spec 3.1.2.4, 3.1.2.11.2, 3.1.4, 4.4) with Paho v5 and raw sockets. */
class PahoV5SessionIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.max-keep-alive", 30);

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void emptyClientIdGetsAssignedClientIdentifier() throws Exception {
        PahoV5Client c = clients.paho("", true, null);
        MqttProperties props = c.connectToken.getResponseProperties();
        assertNotNull(props, "CONNACK properties");
        String assigned = props.getAssignedClientIdentifier();
        assertNotNull(assigned, "Assigned Client Identifier missing for an empty client id [MQTT-3.2.2-16]");
        assertFalse(assigned.isEmpty());

        PahoV5Client other = clients.paho("", true, null);
        assertFalse(assigned.equals(other.connectToken.getResponseProperties().getAssignedClientIdentifier()),
                "two clients got the same assigned identifier");
    }

    @Test
    void sessionPresentAfterReconnectWithCleanStartZeroAndSessionExpiry() throws Exception {
        PahoV5Client first = clients.paho("v5s-present", true, 60L);
        assertFalse(first.connectToken.getSessionPresent(), "a clean start never has Session Present");
        first.subscribe("v5s/present", 1);
        first.disconnect();

        clients.paho("v5s-present-pub", true, null).publish("v5s/present", "while-away", 1, false);

        PahoV5Client again = clients.paho("v5s-present", false, 60L);
        assertTrue(again.connectToken.getSessionPresent(), "Session Present must be 1 when the session was kept");
        PahoV5Client.Received r = again.poll(5000);
        assertNotNull(r, "message queued while offline was not delivered");
        assertEquals("while-away", r.text());
    }

    @Test
    void sessionExpiresAfterItsIntervalAndQueuedMessagesAreDiscarded() throws Exception {
        PahoV5Client first = clients.paho("v5s-expiry", true, 1L);
        first.subscribe("v5s/expiry", 1);
        first.disconnect();
        clients.paho("v5s-expiry-pub", true, null).publish("v5s/expiry", "should-be-gone", 1, false);

        Thread.sleep(2500); // the session expiry interval (1 s) must run out

        PahoV5Client again = clients.paho("v5s-expiry", false, 60L);
        assertFalse(again.connectToken.getSessionPresent(), "session should have expired after 1 s offline");
        assertNull(again.poll(500), "messages of an expired session must be discarded");
        // and the old subscription is gone with it
        clients.paho("v5s-expiry-pub2", true, null).publish("v5s/expiry", "after", 1, false);
        assertNull(again.poll(500), "subscription of an expired session must be discarded");
    }

    @Test
    void serverKeepAliveIsSentWhenClientAsksForZero() throws Exception {
        PahoV5Client c = clients.paho("v5s-ka-zero", o -> o.setKeepAliveInterval(0));
        assertEquals(Integer.valueOf(30), c.connectToken.getResponseProperties().getServerKeepAlive(),
                "keep-alive 0 must be answered with Server Keep Alive = mqtt.max-keep-alive");
    }

    @Test
    void serverKeepAliveIsSentWhenClientAsksAboveTheCap() throws Exception {
        PahoV5Client c = clients.paho("v5s-ka-big", o -> o.setKeepAliveInterval(120));
        assertEquals(Integer.valueOf(30), c.connectToken.getResponseProperties().getServerKeepAlive());
    }

    @Test
    void noServerKeepAliveWhenClientKeepAliveIsWithinTheCap() throws Exception {
        PahoV5Client c = clients.paho("v5s-ka-ok", o -> o.setKeepAliveInterval(20));
        assertNull(c.connectToken.getResponseProperties().getServerKeepAlive());
    }

    @Test
    void takeoverClosesFirstConnectionWithReason0x8EAndSessionContinues() throws Exception {
        PahoV5Client first = clients.paho("v5s-takeover", true, 60L);
        first.subscribe("v5s/takeover", 1);

        PahoV5Client second = clients.paho("v5s-takeover", false, 60L);
        assertTrue(second.connectToken.getSessionPresent(), "the new connection resumes the session");

        MqttDisconnectResponse d = first.disconnects.poll(5, TimeUnit.SECONDS);
        assertNotNull(d, "the first connection was not disconnected");
        assertEquals(0x8E, d.getReturnCode(), "DISCONNECT reason must be Session taken over: " + d);

        clients.paho("v5s-takeover-pub", true, null).publish("v5s/takeover", "to-second", 1, false);
        PahoV5Client.Received r = second.poll(5000);
        assertNotNull(r, "the subscription of the taken-over session must continue");
        assertEquals("to-second", r.text());
        assertNull(first.poll(300));
    }

    @Test
    void unacknowledgedQos1MessageIsResentWithDupAndSamePacketIdAfterReconnect() throws Exception {
        RawV5Client raw = clients.raw("v5s-dup", true, p -> p.sessionExpiryInterval = 60L);
        raw.subscribe("v5s/dup", 1);
        clients.paho("v5s-dup-pub", true, null).publish("v5s/dup", "resend-me", 1, false);
        Publish first = raw.expect(Publish.class);
        assertEquals(1, first.qos());
        assertFalse(first.dup(), "first delivery has DUP=0");
        raw.abort(); // no PUBACK

        RawV5Client again = clients.track(RawV5Client.connect(broker.port(), "v5s-dup", false, 60,
                p -> p.sessionExpiryInterval = 60L, null));
        ConnAck ack = again.connAck();
        assertEquals(0, ack.reasonCode());
        assertTrue(ack.sessionPresent());
        Publish resent = again.expect(Publish.class);
        assertTrue(resent.dup(), "resend of an unacknowledged PUBLISH must have DUP=1 [MQTT-4.4.0-1]");
        assertEquals(first.packetId(), resent.packetId(), "resend must keep the packet identifier");
        assertEquals(1, resent.qos());
        assertEquals("v5s/dup", resent.topic());
        assertArrayEquals("resend-me".getBytes(StandardCharsets.UTF_8), resent.payload());
        again.puback(resent.packetId());
        assertNull(again.poll(500), "nothing more after the resend");
    }
    @Test
    void cleanStartZeroWithoutAnExistingSessionHasSessionPresentZero() throws Exception {
        PahoV5Client c = clients.paho("v5s-no-session-yet", false, 60L);
        assertFalse(c.connectToken.getSessionPresent(), "no session existed, so Session Present must be 0 [MQTT-3.2.2-3]");
    }

    @Test
    void severalUnacknowledgedMessagesAreResentInOrderAndPubrelIsResentForQos2() throws Exception {
        RawV5Client raw = clients.raw("v5s-order", true, p -> p.sessionExpiryInterval = 60L);
        raw.subscribe("v5s/order/+", 2);
        PahoV5Client pub = clients.paho("v5s-order-pub", true, null);
        pub.publish("v5s/order/q2", "exactly-once", 2, false);
        Publish q2 = raw.expect(Publish.class);
        assertEquals(2, q2.qos());
        raw.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBREC, q2.packetId(), 0));
        io.starling.protocol.Ack rel = raw.expect(io.starling.protocol.Ack.class);
        assertEquals(io.starling.protocol.PacketType.PUBREL, rel.type());
        assertEquals(q2.packetId(), rel.packetId());
        List<Publish> firsts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pub.publish("v5s/order/q1", "m" + i, 1, false);
            firsts.add(raw.expect(Publish.class));
        }
        raw.abort(); // no PUBCOMP, no PUBACKs

        RawV5Client again = clients.track(RawV5Client.connect(broker.port(), "v5s-order", false, 60,
                p -> p.sessionExpiryInterval = 60L, null));
        assertTrue(again.connAck().sessionPresent());
        io.starling.protocol.Packet first = again.poll(5000);
        assertTrue(first instanceof io.starling.protocol.Ack a && a.type() == io.starling.protocol.PacketType.PUBREL
                && a.packetId() == q2.packetId(),
                "a QoS 2 message already PUBREC'd is resumed with PUBREL, not resent [MQTT-4.4.0-1]; got " + first);
        for (int i = 0; i < 3; i++) {
            Publish p = again.expect(Publish.class);
            assertTrue(p.dup(), "resend has DUP=1");
            assertEquals(firsts.get(i).packetId(), p.packetId(), "resent in the original order [MQTT-4.6.0-1]");
            assertEquals("m" + i, RawV5Client.text(p));
            again.puback(p.packetId());
        }
        again.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBCOMP, q2.packetId(), 0));
        assertNull(again.poll(500), "nothing else is resent");
    }

    @Test
    void sessionExpiryIntervalFromDisconnectReplacesTheOneFromConnect() throws Exception {
        PahoV5Client first = clients.paho("v5s-disc-expiry", true, 60L);
        first.subscribe("v5s/disc-expiry", 1);
        org.eclipse.paho.mqttv5.common.packet.MqttProperties dp = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
        dp.setSessionExpiryInterval(0L);
        first.client.disconnect(1000, null, null, 0, dp).waitForCompletion(5000);

        PahoV5Client again = clients.paho("v5s-disc-expiry", false, 60L);
        assertFalse(again.connectToken.getSessionPresent(),
                "Session Expiry Interval 0 on DISCONNECT ends the session at once (spec 3.14.2.2.2)");
    }
}
