package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 PUBLISH properties (spec 3.3.2.3): pass-through, Message Expiry, and PUBACK 0x10. */
class PahoV5PropertiesIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    static MqttMessage message(String text, int qos, boolean retain, Long expirySeconds) {
        MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retain);
        if (expirySeconds != null) {
            MqttProperties p = new MqttProperties();
            p.setMessageExpiryInterval(expirySeconds);
            m.setProperties(p);
        }
        return m;
    }

    @Test
    void applicationPropertiesPassThroughUnchangedWithUserPropertyOrderKept() throws Exception {
        PahoV5Client sub = clients.paho("pr-pass-sub", true, null);
        sub.subscribe("pr/pass", 1);
        MqttMessage m = new MqttMessage("{\"v\":1}".getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setPayloadFormat(true);
        p.setContentType("application/json");
        p.setResponseTopic("pr/reply/here");
        p.setCorrelationData(new byte[] {0, 1, 2, (byte) 0xFF});
        List<UserProperty> ups = List.of(new UserProperty("b", "1"), new UserProperty("a", "2"),
                new UserProperty("b", "3"), new UserProperty("ü-name", "välue"));
        p.setUserProperties(new ArrayList<>(ups));
        m.setProperties(p);
        clients.paho("pr-pass-pub", true, null).publish("pr/pass", m);

        PahoV5Client.Received r = sub.poll(5000);
        assertNotNull(r);
        MqttProperties got = r.props();
        assertTrue(got.getPayloadFormat(), "Payload Format Indicator [MQTT-3.3.2-4]");
        assertEquals("application/json", got.getContentType(), "Content Type [MQTT-3.3.2-20]");
        assertEquals("pr/reply/here", got.getResponseTopic(), "Response Topic");
        assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xFF}, got.getCorrelationData(), "Correlation Data");
        assertEquals(ups, got.getUserProperties(), "User Properties unchanged and in order [MQTT-3.3.2-17], [MQTT-3.3.2-18]");
        assertNull(got.getMessageExpiryInterval(), "no Message Expiry Interval when none was sent");
    }

    @Test
    void messageExpiryIntervalIsReducedByTheTimeTheMessageWasHeld() throws Exception {
        PahoV5Client sub = clients.paho("pr-exp-sub", true, 60L);
        sub.subscribe("pr/exp", 1);
        sub.disconnect();
        clients.paho("pr-exp-pub", true, null).publish("pr/exp", message("held", 1, false, 10L));
        Thread.sleep(2000); // the time the message is held for the offline session

        PahoV5Client again = clients.paho("pr-exp-sub", false, 60L);
        PahoV5Client.Received r = again.poll(5000);
        assertNotNull(r, "an unexpired queued message must be delivered");
        Long left = r.props().getMessageExpiryInterval();
        assertNotNull(left, "Message Expiry Interval must be forwarded [MQTT-3.3.2-6]");
        assertTrue(left >= 7 && left <= 9, "expiry sent must be 10 s minus about 2 s held, was " + left);
    }

    @Test
    void expiredQueuedMessageIsNotDelivered() throws Exception {
        PahoV5Client sub = clients.paho("pr-expired-sub", true, 60L);
        sub.subscribe("pr/expired", 1);
        sub.disconnect();
        PahoV5Client pub = clients.paho("pr-expired-pub", true, null);
        pub.publish("pr/expired", message("short-lived", 1, false, 1L));
        pub.publish("pr/expired", message("long-lived", 1, false, 60L));
        Thread.sleep(2000); // let the 1 s expiry run out

        PahoV5Client again = clients.paho("pr-expired-sub", false, 60L);
        PahoV5Client.Received r = again.poll(5000);
        assertNotNull(r, "the unexpired message must still arrive");
        assertEquals("long-lived", r.text(), "the expired message must be discarded [MQTT-3.3.2-5]");
        assertNull(again.poll(500));
    }

    @Test
    void messageExpiryAppliesToRetainedMessages() throws Exception {
        PahoV5Client pub = clients.paho("pr-rexp-pub", true, null);
        pub.publish("pr/rexp/short", message("retained-short", 1, true, 1L));
        pub.publish("pr/rexp/long", message("retained-long", 1, true, 60L));

        PahoV5Client early = clients.paho("pr-rexp-early", true, null);
        early.subscribe("pr/rexp/short", 1);
        PahoV5Client.Received r = early.poll(5000);
        assertNotNull(r, "retained message before it expires");
        assertEquals("retained-short", r.text());
        Long left = r.props().getMessageExpiryInterval();
        assertNotNull(left);
        assertTrue(left <= 1, "retained message carries what is left of its expiry, was " + left);

        Thread.sleep(2000);
        PahoV5Client late = clients.paho("pr-rexp-late", true, null);
        late.subscribe("pr/rexp/+", 1);
        PahoV5Client.Received l = late.poll(5000);
        assertNotNull(l);
        assertEquals("retained-long", l.text(), "an expired retained message must not be sent");
        Long longLeft = l.props().getMessageExpiryInterval();
        assertTrue(longLeft != null && longLeft <= 58 && longLeft >= 55, "expiry of retained message reduced, was " + longLeft);
        assertNull(late.poll(500), "the expired retained message must not be sent");
        pub.publish("pr/rexp/long", "", 1, true);
    }

    @Test
    void pubackSaysNoMatchingSubscribersWhenNobodySubscribed() throws Exception {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("pr-nomatch-pub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
        try {
            Mqtt5PublishResult res = c.publishWith().topic("pr/nomatch/nobody").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("x".getBytes(StandardCharsets.UTF_8)).send();
            assertTrue(res instanceof Mqtt5PublishResult.Mqtt5Qos1Result, res.toString());
            assertEquals(Mqtt5PubAckReasonCode.NO_MATCHING_SUBSCRIBERS,
                    ((Mqtt5PublishResult.Mqtt5Qos1Result) res).getPubAck().getReasonCode());

            clients.paho("pr-nomatch-sub", true, null).subscribe("pr/nomatch/somebody", 1);
            Mqtt5PublishResult ok = c.publishWith().topic("pr/nomatch/somebody").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("y".getBytes(StandardCharsets.UTF_8)).send();
            assertEquals(Mqtt5PubAckReasonCode.SUCCESS,
                    ((Mqtt5PublishResult.Mqtt5Qos1Result) ok).getPubAck().getReasonCode());
        } finally {
            c.disconnect();
        }
    }
    @Test
    void pubrecSaysNoMatchingSubscribersForQos2WhenNobodySubscribed() throws Exception {
        RawV5Client c = clients.raw("pr-nomatch-q2", true, null);
        c.publish("pr/nomatch/q2/nobody", 2, "z", null);
        io.starling.protocol.Ack rec = c.expect(io.starling.protocol.Ack.class);
        assertEquals(io.starling.protocol.PacketType.PUBREC, rec.type());
        assertEquals(0x10, rec.reasonCode(), "PUBREC 0x10 No matching subscribers");
        c.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBREL, rec.packetId(), 0));
        io.starling.protocol.Ack comp = c.expect(io.starling.protocol.Ack.class);
        assertEquals(io.starling.protocol.PacketType.PUBCOMP, comp.type());
        assertEquals(0, comp.reasonCode(), "the QoS 2 flow completes normally after a 0x10 PUBREC");
    }
}
