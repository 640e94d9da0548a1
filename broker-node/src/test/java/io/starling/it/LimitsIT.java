package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The node's limits as clients meet them, with Paho v5 over real sockets; each refusal counted. */
class LimitsIT {
    static BrokerFixture broker;

    @BeforeAll
    static void start() throws Exception {
        broker = new BrokerFixture().with("limits.max-topic-levels", 4).with("limits.max-topic-length", 40)
                .with("limits.max-subscriptions-per-client", 2).with("listener.tcp.max-connections", 3);
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
    }

    static PahoV5Client client(String id) throws Exception {
        return PahoV5Client.connect("tcp://127.0.0.1:" + broker.port(), id, null);
    }

    @Test
    void topicsTooDeepOrTooLongAreRefusedWithTheirReasonCodes() throws Exception {
        try (PahoV5Client c = client("limits-topics")) {
            assertEquals(0, AclIT.code(() -> c.publish("a/b/c/d", "ok", 1, false)));
            assertEquals(ReasonCode.TOPIC_NAME_INVALID, AclIT.code(() -> c.publish("a/b/c/d/e", "deep", 1, false)));
            assertEquals(ReasonCode.TOPIC_NAME_INVALID, AclIT.code(() -> c.publish("x".repeat(41), "long", 1, false)));
            int[] codes = c.subscribe(null, new MqttSubscription("a/+/c/#", 1), new MqttSubscription("a/b/c/d/#", 1),
                    new MqttSubscription("y".repeat(41), 1));
            assertArrayEquals(new int[] {1, ReasonCode.TOPIC_FILTER_INVALID, ReasonCode.TOPIC_FILTER_INVALID}, codes);
            assertTrue(c.client.isConnected(), "refusals do not cost the connection");
        }
        assertTrue(broker.metric("starling_limit_refusals_total{limit=\"max-topic-levels\"}") >= 2);
        assertTrue(broker.metric("starling_limit_refusals_total{limit=\"max-topic-length\"}") >= 2);
        assertTrue(broker.metric("starling_messages_dropped_total{reason=\"topic_limit\"}") >= 2);
    }

    /** The SUBACK's reason codes as the HiveMQ client reports them (it throws when one is a failure). */
    static List<Integer> subAck(com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient c, String... filters) {
        var b = com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe.builder();
        com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5SubscribeBuilder.Complete complete = null;
        for (String f : filters) {
            complete = (complete == null ? b : complete).addSubscription().topicFilter(f)
                    .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_MOST_ONCE).applySubscription();
        }
        com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck ack;
        try {
            ack = c.subscribe(complete.build());
        } catch (com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException e) {
            ack = e.getMqttMessage();
        }
        return ack.getReasonCodes().stream().map(r -> r.getCode()).toList();
    }

    @Test
    void subscriptionsPastThePerClientLimitGetQuotaExceeded() throws Exception {
        // The HiveMQ client: Paho v5 1.2.5 rejects a SUBACK with 0x97 as an "Invalid Return code",
        // though 0x97 Quota Exceeded is one of the SUBACK reason codes of MQTT 5.0 (3.9.3).
        var c = com.hivemq.client.mqtt.mqtt5.Mqtt5Client.builder().identifier("limits-subs").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
        try {
            assertEquals(List.of(0, 0, ReasonCode.QUOTA_EXCEEDED), subAck(c, "s/1", "s/2", "s/3"));
            assertEquals(List.of(0), subAck(c, "s/1"), "changing one it has is no new subscription");
            c.unsubscribeWith().topicFilter("s/2").send();
            assertEquals(List.of(0), subAck(c, "s/3"), "room again after an unsubscribe");
        } finally {
            c.disconnect();
        }
        assertTrue(broker.metric("starling_limit_refusals_total{limit=\"max-subscriptions-per-client\"}") >= 1);
    }

    @Test
    void aListenerHoldsAtMostItsMaxConnections() throws Exception {
        double before = broker.metricOrZero("starling_connections_refused_total{listener=\"tcp\",reason=\"listener.max-connections\"}");
        Thread.sleep(300); // the other tests' clients have closed by now
        List<PahoV5Client> open = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                open.add(client("limits-conn-" + i));
            }
            assertThrows(Exception.class, () -> client("limits-conn-over"));
            assertEquals(before + 1, broker.metric(
                    "starling_connections_refused_total{listener=\"tcp\",reason=\"listener.max-connections\"}"));
            open.remove(0).close();
            Thread.sleep(300); // the close reaches the listener's count
            open.add(client("limits-conn-again"));
        } finally {
            for (PahoV5Client c : open) {
                c.close();
            }
        }
    }
}
