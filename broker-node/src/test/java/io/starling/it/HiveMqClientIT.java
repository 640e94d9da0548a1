package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.protocol.Connect;
import io.starling.protocol.Properties;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Interoperability with the HiveMQ MQTT client (5.0 and 3.1.1 APIs), and the Will Delay Interval. */
class HiveMqClientIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    Mqtt5BlockingClient v5(String id) {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
        clients.atEnd(c::disconnect);
        return c;
    }

    Mqtt3BlockingClient v3(String id) {
        Mqtt3BlockingClient c = Mqtt3Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
        clients.atEnd(c::disconnect);
        return c;
    }

    @Test
    void mqtt5RoundTripAtQos0Qos1AndQos2() throws Exception {
        Mqtt5BlockingClient sub = v5("hq5-sub");
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("hq5/+").qos(MqttQos.EXACTLY_ONCE).send();
            Mqtt5BlockingClient pub = v5("hq5-pub");
            for (MqttQos qos : MqttQos.values()) {
                pub.publishWith().topic("hq5/" + qos.getCode()).qos(qos)
                        .payload(("hello " + qos).getBytes(StandardCharsets.UTF_8)).send();
                Optional<Mqtt5Publish> r = inbox.receive(5, TimeUnit.SECONDS);
                assertTrue(r.isPresent(), qos + " message not received");
                assertEquals("hq5/" + qos.getCode(), r.get().getTopic().toString());
                assertEquals("hello " + qos, new String(r.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
                assertEquals(qos, r.get().getQos());
            }
        }
    }

    @Test
    void mqtt3RoundTripAtQos0Qos1AndQos2() throws Exception {
        Mqtt3BlockingClient sub = v3("hq3-sub");
        try (Mqtt3BlockingClient.Mqtt3Publishes inbox = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("hq3/+").qos(MqttQos.EXACTLY_ONCE).send();
            Mqtt3BlockingClient pub = v3("hq3-pub");
            for (MqttQos qos : MqttQos.values()) {
                pub.publishWith().topic("hq3/" + qos.getCode()).qos(qos)
                        .payload(("hello " + qos).getBytes(StandardCharsets.UTF_8)).send();
                Optional<Mqtt3Publish> r = inbox.receive(5, TimeUnit.SECONDS);
                assertTrue(r.isPresent(), qos + " message not received");
                assertEquals("hq3/" + qos.getCode(), r.get().getTopic().toString());
                assertEquals("hello " + qos, new String(r.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
                assertEquals(qos, r.get().getQos());
            }
        }
    }

    static Connect.Will delayedWill(String topic, long delaySeconds) {
        Properties wp = new Properties();
        wp.willDelayInterval = delaySeconds;
        return new Connect.Will(topic, "gone".getBytes(StandardCharsets.UTF_8), 1, false, wp);
    }

    @Test
    void willWithDelayIntervalIsPublishedAfterTheDelayNotBefore() throws Exception {
        Mqtt5BlockingClient watcher = v5("hq-will-watch");
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            watcher.subscribeWith().topicFilter("hq/will/delayed").qos(MqttQos.AT_LEAST_ONCE).send();
            RawV5Client dying = RawV5Client.connect(broker.port(), "hq-will-dying", true, 60,
                    p -> p.sessionExpiryInterval = 60L, delayedWill("hq/will/delayed", 2));
            assertEquals(0, dying.connAck().reasonCode());
            long closedAt = System.nanoTime();
            dying.abort();

            Optional<Mqtt5Publish> early = inbox.receive(1500, TimeUnit.MILLISECONDS);
            assertFalse(early.isPresent(), "will published before its 2 s Will Delay Interval");
            Optional<Mqtt5Publish> will = inbox.receive(5, TimeUnit.SECONDS);
            long elapsedMs = (System.nanoTime() - closedAt) / 1_000_000;
            assertTrue(will.isPresent(), "will not published after its delay");
            assertEquals("gone", new String(will.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
            assertTrue(elapsedMs >= 1900, "will arrived after " + elapsedMs + " ms, before the 2 s delay");
        }
    }

    @Test
    void reconnectWithinTheWillDelayCancelsTheWill() throws Exception {
        Mqtt5BlockingClient watcher = v5("hq-will-cancel-watch");
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            watcher.subscribeWith().topicFilter("hq/will/cancel").qos(MqttQos.AT_LEAST_ONCE).send();
            RawV5Client dying = RawV5Client.connect(broker.port(), "hq-will-back", true, 60,
                    p -> p.sessionExpiryInterval = 60L, delayedWill("hq/will/cancel", 2));
            assertEquals(0, dying.connAck().reasonCode());
            dying.abort();

            RawV5Client back = RawV5Client.connect(broker.port(), "hq-will-back", false, 60,
                    p -> p.sessionExpiryInterval = 60L, null);
            clients.atEnd(back::disconnect);
            assertEquals(0, back.connAck().reasonCode());
            assertTrue(back.connAck().sessionPresent());
            Optional<Mqtt5Publish> will = inbox.receive(3500, TimeUnit.MILLISECONDS);
            assertFalse(will.isPresent(), "a reconnect within the Will Delay Interval must cancel the will "
                    + "[MQTT-3.1.3-9]");
        }
    }
    @Test
    void willIsPublishedWhenTheSessionExpiresBeforeTheWillDelay() throws Exception {
        Mqtt5BlockingClient watcher = v5("hq-will-expiry-watch");
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = watcher.publishes(MqttGlobalPublishFilter.ALL)) {
            watcher.subscribeWith().topicFilter("hq/will/expiry").qos(MqttQos.AT_LEAST_ONCE).send();
            RawV5Client dying = RawV5Client.connect(broker.port(), "hq-will-expiry", true, 60,
                    p -> p.sessionExpiryInterval = 1L, delayedWill("hq/will/expiry", 30));
            assertEquals(0, dying.connAck().reasonCode());
            long closedAt = System.nanoTime();
            dying.abort();
            Optional<Mqtt5Publish> will = inbox.receive(5, TimeUnit.SECONDS);
            long elapsedMs = (System.nanoTime() - closedAt) / 1_000_000;
            assertTrue(will.isPresent(), "the will goes out when the session ends, whichever comes first (spec 3.1.3.2.2)");
            assertTrue(elapsedMs >= 900, "will arrived after " + elapsedMs + " ms, before the 1 s session expiry");
        }
    }
}
