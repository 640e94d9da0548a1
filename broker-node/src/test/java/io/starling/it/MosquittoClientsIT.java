package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Interoperability with Debian's {@code mosquitto_pub} and {@code mosquitto_sub} (package
 * mosquitto-clients), run as processes with bounded run times. Skipped, never passed, when the
 * binaries are not on the PATH.
 */
class MosquittoClientsIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    private static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void requireMosquittoClients() {
        Assumptions.assumeTrue(onPath("mosquitto_pub") && onPath("mosquitto_sub"),
                "mosquitto_pub/mosquitto_sub not on the PATH (apt-get install mosquitto-clients)");
    }

    static boolean onPath(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, binary);
            if (f.isFile() && f.canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** A running mosquitto_sub; its stdout is read in full once it exits. */
    record Sub(Process process, File out, File err) {
        /** Waits for exit (it is bounded by -C and -W); returns the lines it printed. */
        List<String> lines() throws Exception {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("mosquitto_sub did not exit");
            }
            String text = java.nio.file.Files.readString(out.toPath(), StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>();
            for (String l : text.split("\n")) {
                if (!l.isEmpty()) {
                    lines.add(l);
                }
            }
            return lines;
        }

        String stderr() throws IOException {
            return java.nio.file.Files.readString(err.toPath(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Starts {@code mosquitto_sub -C count -W seconds} printing "topic|qos|retain|payload" per message
     * and, when asked, waits until the broker holds its subscription, so that a publish after this
     * returns reaches it. (Its stdout goes to a file, so it is block-buffered and cannot signal readiness;
     * every test here leaves no subscription behind, so the broker's count goes from 0 to 1.)
     */
    static Sub subscribe(String version, String topic, int qos, int count, int seconds, boolean awaitSubscription)
            throws Exception {
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (broker.broker().services().router().subscriptionCount() > 0 && System.nanoTime() < settle) {
            Thread.sleep(20); // the previous test's clean sessions are being removed
        }
        int subsBefore = broker.broker().services().router().subscriptionCount();
        File out = File.createTempFile("mosquitto_sub", ".out");
        File err = File.createTempFile("mosquitto_sub", ".err");
        out.deleteOnExit();
        err.deleteOnExit();
        Process p = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", String.valueOf(broker.port()),
                "-V", version, "-i", "msub-" + SEQ.incrementAndGet(), "-t", topic, "-q", String.valueOf(qos),
                "-C", String.valueOf(count), "-W", String.valueOf(seconds), "-F", "%t|%q|%r|%p")
                .redirectOutput(out).redirectError(err).start();
        Sub sub = new Sub(p, out, err);
        if (awaitSubscription) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (broker.broker().services().router().subscriptionCount() <= subsBefore) {
                if (!p.isAlive()) {
                    fail("mosquitto_sub exited early (" + p.exitValue() + "): " + sub.stderr());
                }
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    fail("mosquitto_sub's subscription did not reach the broker within 10 s: " + sub.stderr());
                }
                Thread.sleep(20);
            }
        }
        return sub;
    }

    /** Runs mosquitto_pub to completion; requires exit code 0. */
    static void publish(String version, String topic, String payload, int qos, boolean retain) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
                String.valueOf(broker.port()), "-V", version, "-i", "mpub-" + SEQ.incrementAndGet(),
                "-t", topic, "-m", payload, "-q", String.valueOf(qos)));
        if (retain) {
            cmd.add("-r");
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("mosquitto_pub did not finish: " + cmd);
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "mosquitto_pub " + cmd + " failed: " + output);
    }

    @ParameterizedTest(name = "mosquitto_pub {0} QoS {1} -> mosquitto_sub {0} QoS {1}")
    @CsvSource({
        "mqttv311, 0", "mqttv311, 1", "mqttv311, 2",
        "mqttv5, 0", "mqttv5, 1", "mqttv5, 2",
    })
    void mosquittoPubToMosquittoSub(String version, int qos) throws Exception {
        String topic = "mosq/" + version + "/q" + qos;
        Sub sub = subscribe(version, topic, qos, 1, 10, true);
        publish(version, topic, "hello " + qos, qos, false);
        List<String> lines = sub.lines();
        assertEquals(List.of(topic + "|" + qos + "|0|hello " + qos), lines, "mosquitto_sub stderr: " + sub.stderr());
        assertEquals(0, sub.process().exitValue(), "mosquitto_sub exit code: " + sub.stderr());
    }

    @ParameterizedTest(name = "mosquitto_pub {0} -> mosquitto_sub {1}, QoS 2 published, QoS 1 subscribed")
    @CsvSource({"mqttv311, mqttv5", "mqttv5, mqttv311"})
    void acrossVersionsAtTheMinimumQos(String pubVersion, String subVersion) throws Exception {
        String topic = "mosq/cross/" + pubVersion + "-" + subVersion;
        Sub sub = subscribe(subVersion, "mosq/cross/+", 1, 1, 10, true);
        publish(pubVersion, topic, "across", 2, false);
        assertEquals(List.of(topic + "|1|0|across"), sub.lines(), "mosquitto_sub stderr: " + sub.stderr());
    }

    @ParameterizedTest(name = "retained with -r, {0}")
    @CsvSource({"mqttv311", "mqttv5"})
    void retainedMessageReachesALaterSubscriber(String version) throws Exception {
        String topic = "mosq/retained/" + version;
        publish(version, topic, "kept", 1, true);
        // Subscribes after the publish: the retained message arrives with RETAIN=1 ([MQTT-3.3.1-8]).
        Sub sub = subscribe(version, topic, 1, 1, 10, false);
        assertEquals(List.of(topic + "|1|1|kept"), sub.lines(), "mosquitto_sub stderr: " + sub.stderr());
        // Clear it again ([MQTT-3.3.1-10] empty retained payload removes the retained message).
        publish(version, topic, "", 1, true);
    }

    @Test
    void mosquittoSubReceivesWhatPahoV3Publishes() throws Exception {
        Sub sub = subscribe("mqttv311", "mosq/paho3/#", 2, 3, 10, true);
        MqttClient paho = new MqttClient(broker.tcpUri(), "paho3-to-mosquitto", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        paho.connect(o);
        try {
            for (int qos = 0; qos <= 2; qos++) {
                MqttMessage m = new MqttMessage(("paho " + qos).getBytes(StandardCharsets.UTF_8));
                m.setQos(qos);
                paho.publish("mosq/paho3/q" + qos, m);
            }
        } finally {
            paho.disconnect(1000);
            paho.close();
        }
        assertEquals(List.of("mosq/paho3/q0|0|0|paho 0", "mosq/paho3/q1|1|0|paho 1", "mosq/paho3/q2|2|0|paho 2"),
                sub.lines(), "mosquitto_sub stderr: " + sub.stderr());
    }

    @Test
    void mosquittoSubV5ReceivesWhatPahoV5Publishes() throws Exception {
        Sub sub = subscribe("mqttv5", "mosq/paho5/t", 2, 1, 10, true);
        org.eclipse.paho.mqttv5.client.MqttClient paho = new org.eclipse.paho.mqttv5.client.MqttClient(
                broker.tcpUri(), "paho5-to-mosquitto", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        paho.connect(new MqttConnectionOptions());
        try {
            org.eclipse.paho.mqttv5.common.MqttMessage m =
                    new org.eclipse.paho.mqttv5.common.MqttMessage("paho five".getBytes(StandardCharsets.UTF_8));
            m.setQos(2);
            paho.publish("mosq/paho5/t", m);
        } finally {
            paho.disconnect(1000);
            paho.close();
        }
        assertEquals(List.of("mosq/paho5/t|2|0|paho five"), sub.lines(), "mosquitto_sub stderr: " + sub.stderr());
    }

    @Test
    void mosquittoSubTimesOutCleanlyWhenNothingArrives() throws Exception {
        // -W bounds the run: with nothing published the client gives up (exit code 27 in mosquitto 2.x).
        long start = System.nanoTime();
        Sub sub = subscribe("mqttv5", "mosq/nothing/here", 0, 1, 2, true);
        assertTrue(sub.lines().isEmpty());
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(seconds < 8, "mosquitto_sub -W 2 ran for " + seconds + " s");
    }
}
