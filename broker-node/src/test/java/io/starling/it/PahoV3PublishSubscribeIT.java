package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 3.1.1 publish/subscribe with the Eclipse Paho v3 client over real sockets. */
class PahoV3PublishSubscribeIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    private final List<MqttClient> clients = new ArrayList<>();

    /** A received message with its topic. */
    record Received(String topic, MqttMessage message) {
        String text() {
            return new String(message.getPayload(), StandardCharsets.UTF_8);
        }
    }

    MqttClient client(String id, boolean cleanSession, BlockingQueue<Received> inbox) throws MqttException {
        MqttClient c = new MqttClient(broker.tcpUri(), id, new MemoryPersistence());
        if (inbox != null) {
            c.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    inbox.add(new Received(topic, message));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
        }
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(cleanSession);
        o.setAutomaticReconnect(false);
        c.connect(o);
        clients.add(c);
        return c;
    }

    @AfterEach
    void closeClients() {
        for (MqttClient c : clients) {
            try {
                if (c.isConnected()) {
                    c.disconnect(1000);
                }
                c.close(true);
            } catch (MqttException ignored) {
                // already gone
            }
        }
    }

    static MqttMessage msg(String text, int qos, boolean retained) {
        MqttMessage m = new MqttMessage(text.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retained);
        return m;
    }

    @Test
    void messageReachesSubscriberAtEachQos() throws Exception {
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient sub = client("v3-sub-qos", true, inbox);
        sub.subscribe("qos/+", 2);
        MqttClient pub = client("v3-pub-qos", true, null);
        for (int qos = 0; qos <= 2; qos++) {
            pub.publish("qos/" + qos, msg("hello " + qos, qos, false));
            Received r = inbox.poll(5, TimeUnit.SECONDS);
            assertNotNull(r, "QoS " + qos + " message not received");
            assertEquals("qos/" + qos, r.topic());
            assertEquals("hello " + qos, r.text());
            assertEquals(qos, r.message().getQos());
        }
    }

    @Test
    void deliveryQosIsMinimumOfPublishAndSubscription() throws Exception {
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        client("v3-sub-min", true, inbox).subscribe("min/t", 1);
        client("v3-pub-min", true, null).publish("min/t", msg("x", 2, false));
        Received r = inbox.poll(5, TimeUnit.SECONDS);
        assertNotNull(r);
        assertEquals(1, r.message().getQos());
    }

    @Test
    void messagesFromOnePublisherArriveInOrder() throws Exception {
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        client("v3-sub-order", true, inbox).subscribe("order/t", 1);
        MqttClient pub = client("v3-pub-order", true, null);
        int n = 500;
        for (int i = 0; i < n; i++) {
            pub.publish("order/t", msg(Integer.toString(i), i % 3 == 0 ? 0 : 1, false));
        }
        for (int i = 0; i < n; i++) {
            Received r = inbox.poll(5, TimeUnit.SECONDS);
            assertNotNull(r, "message " + i + " missing");
            assertEquals(Integer.toString(i), r.text(), "out of order");
        }
    }

    @Test
    void retainedMessageIsSentOnSubscribeAndClearedByEmptyPayload() throws Exception {
        MqttClient pub = client("v3-pub-retain", true, null);
        pub.publish("retain/a", msg("kept", 1, true));
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient sub = client("v3-sub-retain", true, inbox);
        sub.subscribe("retain/#", 1);
        Received r = inbox.poll(5, TimeUnit.SECONDS);
        assertNotNull(r);
        assertEquals("kept", r.text());
        assertTrue(r.message().isRetained(), "retained message sent on subscribe has RETAIN=1");

        pub.publish("retain/a", msg("", 1, true));
        Received clear = inbox.poll(5, TimeUnit.SECONDS); // live delivery of the clearing message
        assertNotNull(clear);
        BlockingQueue<Received> later = new LinkedBlockingQueue<>();
        client("v3-sub-retain2", true, later).subscribe("retain/#", 1);
        assertNull(later.poll(500, TimeUnit.MILLISECONDS), "retained message was not cleared");
    }

    @Test
    void persistentSessionKeepsSubscriptionsAndQueuedMessages() throws Exception {
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient sub = client("v3-persistent", false, inbox);
        sub.subscribe("offline/t", 1);
        sub.disconnect();
        sub.close();
        clients.remove(sub);
        MqttClient pub = client("v3-pub-offline", true, null);
        for (int i = 0; i < 5; i++) {
            pub.publish("offline/t", msg("q" + i, 1, false));
        }
        pub.publish("offline/t", msg("dropped-qos0", 0, false));
        MqttClient again = new MqttClient(broker.tcpUri(), "v3-persistent", new MemoryPersistence());
        BlockingQueue<Received> inbox2 = new LinkedBlockingQueue<>();
        again.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox2.add(new Received(topic, message));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        again.connect(o);
        clients.add(again);
        for (int i = 0; i < 5; i++) {
            Received r = inbox2.poll(5, TimeUnit.SECONDS);
            assertNotNull(r, "queued message " + i + " lost");
            assertEquals("q" + i, r.text());
        }
        assertNull(inbox2.poll(300, TimeUnit.MILLISECONDS), "QoS 0 is not queued for offline clients");
    }

    @Test
    void cleanSessionDiscardsPreviousSession() throws Exception {
        MqttClient first = client("v3-clean", false, null);
        first.subscribe("clean/t", 1);
        first.disconnect();
        first.close();
        clients.remove(first);
        client("v3-clean-pub", true, null).publish("clean/t", msg("queued-for-old-session", 1, false));
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        MqttClient second = client("v3-clean", true, inbox);
        client("v3-clean-pub2", true, null).publish("clean/t", msg("after", 1, false));
        assertNull(inbox.poll(500, TimeUnit.MILLISECONDS),
                "a clean session neither resumes the old queue nor keeps the old subscription");
        assertTrue(second.isConnected());
    }

    @Test
    void willIsPublishedWhenConnectionDropsButNotAfterDisconnect() throws Exception {
        BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
        client("v3-will-watch", true, inbox).subscribe("will/#", 1);

        MqttClient polite = new MqttClient(broker.tcpUri(), "v3-will-polite", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setWill("will/polite", "gone".getBytes(StandardCharsets.UTF_8), 1, false);
        polite.connect(o);
        polite.disconnect();
        polite.close();
        assertNull(inbox.poll(500, TimeUnit.MILLISECONDS), "will sent after a normal DISCONNECT");

        try (RawClient raw = RawClient.connect(broker.port())) {
            raw.connectV311("v3-will-rude", 60, "will/rude", "gone", 1);
        }
        Received r = inbox.poll(5, TimeUnit.SECONDS);
        assertNotNull(r, "will not published on abnormal close");
        assertEquals("will/rude", r.topic());
        assertArrayEquals("gone".getBytes(StandardCharsets.UTF_8), r.message().getPayload());
    }
}
