package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes, each with its own `sync` store, all killed with SIGKILL at once (a power
 * cut of the whole cluster, every pod deleted) and started again: the offline persistent sessions
 * each node held come back, wherever their clients reconnect, with every message acknowledged to
 * the publisher, in order (issue 12, docs/adr/0016).
 */
class ClusterPersistenceIT {
    @TempDir
    Path tmp;

    private static final int MESSAGES = 300;

    @Test
    void aWholeClusterKilledAtOnceBringsBackEverySessionAndEveryAcknowledgedMessage() throws Exception {
        try (ClusterFixture cluster = new ClusterFixture(3)) {
            for (int i = 0; i < 3; i++) {
                cluster.withEnv(i, "STARLING_PERSISTENCE_MODE", "sync")
                        .withEnv(i, "STARLING_PERSISTENCE_DIR", tmp.resolve("node" + i).toString())
                        .withEnv(i, "STARLING_MQTT_MAX_QUEUED_MESSAGES", "10000");
            }
            cluster.start();
            // One persistent subscriber per node, then offline: each node holds one session.
            for (int i = 0; i < 3; i++) {
                MqttClient sub = client(cluster.uri(i), "whole-sub-" + i);
                MqttConnectOptions o = options();
                sub.connect(o);
                sub.subscribe("whole/#", 1);
                sub.disconnect();
                sub.close();
            }
            MqttClient pub = client(cluster.uri(0), "whole-pub");
            pub.connect(options());
            for (int n = 0; n < MESSAGES; n++) {
                pub.publish("whole/t", ("m" + n).getBytes(StandardCharsets.UTF_8), 1, false); // returns once PUBACK'd
            }
            pub.disconnect();
            pub.close();
            for (int i = 0; i < 3; i++) {
                cluster.kill(i);
            }
            cluster.restartDeadNodesAndAwait();
            int recovered = 0;
            for (int i = 0; i < 3; i++) {
                recovered += (int) cluster.output(i).lines().filter(l -> l.contains("recovered from")).count();
            }
            assertTrue(recovered >= 1, "no node said it recovered sessions");

            // Every client reconnects to another node than the one that held its session.
            for (int i = 0; i < 3; i++) {
                BlockingQueue<String> got = new LinkedBlockingQueue<>();
                MqttClient sub = client(cluster.uri((i + 1) % 3), "whole-sub-" + i);
                sub.setCallback(new MqttCallback() {
                    @Override
                    public void connectionLost(Throwable cause) {
                    }

                    @Override
                    public void messageArrived(String topic, MqttMessage message) {
                        got.add(new String(message.getPayload(), StandardCharsets.UTF_8));
                    }

                    @Override
                    public void deliveryComplete(IMqttDeliveryToken token) {
                    }
                });
                boolean present = sub.connectWithResult(options()).getSessionPresent();
                List<String> received = new ArrayList<>();
                long until = System.currentTimeMillis() + 30_000;
                while (new HashSet<>(received).size() < MESSAGES && System.currentTimeMillis() < until) {
                    String m = got.poll(1, TimeUnit.SECONDS);
                    if (m != null) {
                        received.add(m);
                    }
                }
                sub.disconnect();
                sub.close();
                System.out.printf("WHOLE CLUSTER subscriber %d: session present %s, %d of %d received (%d distinct)%n",
                        i, present, received.size(), MESSAGES, new HashSet<>(received).size());
                assertTrue(present, "subscriber " + i + "'s session did not come back");
                assertEquals(MESSAGES, new HashSet<>(received).size(), "subscriber " + i + " lost acknowledged messages");
                List<Integer> order = received.stream().map(m -> Integer.parseInt(m.substring(1))).distinct().toList();
                assertEquals(order.stream().sorted().toList(), order, "subscriber " + i + ": order (spec 4.6)");
            }
        }
    }

    private static MqttClient client(String uri, String id) throws Exception {
        return new MqttClient(uri, id, new MemoryPersistence());
    }

    private static MqttConnectOptions options() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        o.setConnectionTimeout(10);
        o.setMaxInflight(1000);
        return o;
    }
}
