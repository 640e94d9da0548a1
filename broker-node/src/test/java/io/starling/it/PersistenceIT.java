package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A single node with a durable store (issue 12, docs/adr/0016), as a real process killed with
 * SIGKILL while a publisher's QoS 1 and QoS 2 messages queue for an offline persistent session:
 * after the restart the session is there (Session Present) and every message the publisher had
 * acknowledged arrives, in order. Without a store the same restart loses the session, so the test
 * shows what the store does. A damaged store stops the start instead of serving an empty broker.
 */
class PersistenceIT {
    @TempDir
    Path tmp;

    @BeforeEach
    void needsTheJar() {
        JarProcess.assumeBuilt();
    }

    private Map<String, String> env(String mode, int mqtt) throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("STARLING_LISTENER_PORT", String.valueOf(mqtt));
        env.put("STARLING_METRICS_PORT", String.valueOf(JarProcess.freeLoopbackPort()));
        env.put("STARLING_CLUSTER_PORT", String.valueOf(JarProcess.freeLoopbackPort()));
        env.put("STARLING_CLUSTER_LINK_PORT", String.valueOf(JarProcess.freeLoopbackPort()));
        env.put("STARLING_CLUSTER_NAME", "persistence-it-" + ProcessHandle.current().pid() + "-" + mqtt);
        env.put("STARLING_MQTT_MAX_QUEUED_MESSAGES", "100000");
        env.put("STARLING_PERSISTENCE_MODE", mode);
        if (!mode.equals("none")) {
            env.put("STARLING_PERSISTENCE_DIR", tmp.resolve("store").toString());
        }
        return env;
    }

    private static JarProcess startNode(Map<String, String> env) throws Exception {
        JarProcess node = JarProcess.start(env);
        node.await("listening for MQTT", 60);
        return node;
    }

    private static MqttClient connect(int port, String id, boolean cleanSession) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(cleanSession);
        o.setConnectionTimeout(10);
        o.setMaxInflight(1000);
        c.connect(o);
        return c;
    }

    /**
     * Both levels keep what was acknowledged across a process kill: interval's writes reach the
     * operating system before the acknowledgement (a power cut is what it may lose), sync's the disk.
     */
    @ParameterizedTest
    @ValueSource(strings = {"sync", "interval"})
    void storeKeepsEveryAcknowledgedMessageOfAnOfflineSessionAcrossSigkill(String mode) throws Exception {
        int port = JarProcess.freeLoopbackPort();
        Map<String, String> env = env(mode, port);
        List<String> acknowledged = new ArrayList<>();
        try (JarProcess node = startNode(env)) {
            subscribeAndGo(port, "durable-sub", "dur/#", 2);
            // The publisher goes on until the node is killed under it: what it had acknowledged counts.
            MqttClient pub = connect(port, "durable-pub", true);
            AtomicInteger sent = new AtomicInteger();
            Thread publisher = new Thread(() -> {
                try {
                    for (int i = 0; i < 100_000; i++) {
                        String text = (i % 2 == 0 ? "q1-" : "q2-") + i;
                        pub.publish(i % 2 == 0 ? "dur/q1" : "dur/q2", text.getBytes(StandardCharsets.UTF_8), i % 2 == 0 ? 1 : 2, false);
                        synchronized (acknowledged) {
                            acknowledged.add(text);
                        }
                        sent.incrementAndGet();
                    }
                } catch (MqttException e) {
                    // the node died under the publisher: expected
                }
            }, "durable-publisher");
            publisher.start();
            long deadline = System.currentTimeMillis() + 30_000;
            while (sent.get() < 600 && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(sent.get() >= 600, "the publisher made too little progress: " + sent.get() + "\n" + node.output());
            node.kill();
            publisher.join(30_000);
            pub.close(true);
        }
        List<String> expected;
        synchronized (acknowledged) {
            expected = List.copyOf(acknowledged);
        }
        try (JarProcess node = startNode(env)) {
            assertTrue(node.output().contains("sessions with") && node.output().contains("recovered from"),
                    "the node says what it recovered:\n" + node.output());
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + port, "durable-sub", new MemoryPersistence());
            sub.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                    got.add(new String(message.getPayload(), StandardCharsets.UTF_8));
                }

                @Override
                public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
                }
            });
            IMqttToken t = sub.connectWithResult(resume());
            assertTrue(t.getSessionPresent(), "the persistent session came back from the store");
            List<String> received = new ArrayList<>();
            long until = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < until) {
                String m = got.poll(2, TimeUnit.SECONDS);
                if (m == null) {
                    if (new java.util.HashSet<>(received).containsAll(expected)) {
                        break;
                    }
                    continue;
                }
                received.add(m);
            }
            sub.disconnect();
            sub.close();
            System.out.printf("PERSISTENCE " + mode + ", SIGKILL: %d acknowledged before the kill, %d received after the restart "
                    + "(%d distinct); %s%n", expected.size(), received.size(), new java.util.HashSet<>(received).size(),
                    node.lines().stream().filter(l -> l.contains("recovered from")).findFirst().orElse("?"));
            List<String> missing = new ArrayList<>(expected);
            missing.removeAll(received);
            assertEquals(List.of(), missing.subList(0, Math.min(10, missing.size())), missing.size() + " of "
                    + expected.size() + " acknowledged messages lost across the SIGKILL");
            for (String topic : List.of("q1-", "q2-")) {
                List<Integer> order = received.stream().filter(m -> m.startsWith(topic))
                        .map(m -> Integer.parseInt(m.substring(3))).distinct().toList();
                List<Integer> sorted = order.stream().sorted().toList();
                assertEquals(sorted, order, "per-topic order (spec 4.6) of " + topic);
            }
        }
    }

    /** A persistent session subscribed, then offline: what it is sent meanwhile queues for it. */
    private static void subscribeAndGo(int port, String id, String filter, int qos) throws MqttException {
        MqttClient sub = connect(port, id, false);
        sub.subscribe(filter, qos);
        sub.disconnect();
        sub.close();
    }

    private static MqttConnectOptions resume() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        return o;
    }

    @Test
    void withoutAStoreTheSameRestartLosesTheSession() throws Exception {
        int port = JarProcess.freeLoopbackPort();
        Map<String, String> env = env("none", port);
        try (JarProcess node = startNode(env)) {
            subscribeAndGo(port, "volatile-sub", "vol/#", 1);
            node.kill();
        }
        try (JarProcess node = startNode(env)) {
            MqttClient sub = new MqttClient("tcp://127.0.0.1:" + port, "volatile-sub", new MemoryPersistence());
            assertFalse(sub.connectWithResult(resume()).getSessionPresent(), "persistence.mode none keeps nothing");
            sub.disconnect();
            sub.close();
        }
    }

    @Test
    void aDamagedStoreStopsTheStartSayingWhere() throws Exception {
        int port = JarProcess.freeLoopbackPort();
        Map<String, String> env = env("sync", port);
        try (JarProcess node = startNode(env)) {
            subscribeAndGo(port, "damaged-sub", "dmg/#", 1);
            MqttClient pub = connect(port, "damaged-pub", true);
            byte[] payload = new byte[512];
            for (int i = 0; i < 2000; i++) {
                pub.publish("dmg/x", payload, 1, false);
            }
            pub.disconnect();
            node.stop(60); // SIGTERM: the store is flushed into table files on close
        }
        Path store = tmp.resolve("store");
        io.starling.persistence.StoreDamage.flipBytesInLargestTable(store, 7, 256);
        try (JarProcess node = JarProcess.start(env)) {
            int code = node.exitCode(60);
            assertNotEquals(0, code, "a node started on a damaged store:\n" + node.output());
            assertTrue(node.output().contains(store.toString()), "the refusal names the store:\n" + node.output());
            assertFalse(node.output().contains("listening for MQTT"), node.output());
        }
    }
}
