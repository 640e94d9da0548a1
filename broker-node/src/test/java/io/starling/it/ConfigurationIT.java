package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable jar as a user starts it: {@code java -jar target/starling-broker.jar}, configured
 * through the environment and {@code --config} ({@link JarProcess}); skipped when the jar is not built.
 */
class ConfigurationIT {
    @TempDir
    Path dir;

    private final List<JarProcess> processes = new ArrayList<>();

    @BeforeEach
    void requireJar() {
        JarProcess.assumeBuilt();
    }

    @AfterEach
    void stopProcesses() throws InterruptedException {
        for (JarProcess p : processes) {
            p.close();
        }
    }

    JarProcess start(Map<String, String> env, String... args) throws IOException {
        JarProcess p = JarProcess.start(env, args);
        processes.add(p);
        return p;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    Path yaml(String text) throws IOException {
        Path p = dir.resolve("starling.yaml");
        Files.writeString(p, text);
        return p;
    }

    /** A Paho 3.1.1 client connects, subscribes and gets its own message back. */
    static void roundTrip(int port) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, "jar-check", new MemoryPersistence());
        BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setConnectionTimeout(10);
        c.connect(o);
        try {
            c.subscribe("jar/t", 1, (topic, m) -> inbox.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
            MqttMessage m = new MqttMessage("from the jar".getBytes(StandardCharsets.UTF_8));
            m.setQos(1);
            c.publish("jar/t", m);
            assertEquals("from the jar", inbox.poll(5, TimeUnit.SECONDS));
        } finally {
            c.disconnect(1000);
            c.close();
        }
    }

    @Test
    void jarStartsWithoutAConfigFileOnThePortFromTheEnvironment() throws Exception {
        int port = freePort();
        JarProcess node = start(Map.of("STARLING_LISTENER_PORT", String.valueOf(port), "STARLING_SYS_INTERVAL", "0"));
        String line = node.await("listening for MQTT", 30);
        assertTrue(line.contains("127.0.0.1:" + port), "log line should name the loopback address and port: " + line);
        roundTrip(port);
        node.process().destroy(); // SIGTERM: the shutdown hook closes the node
        assertTrue(node.process().waitFor(15, TimeUnit.SECONDS), "the broker did not stop on SIGTERM:\n" + node.output());
    }

    @Test
    void environmentVariableWinsOverTheConfigFile() throws Exception {
        int filePort = freePort();
        int envPort = freePort();
        Path f = yaml("listener:\n  port: " + filePort + "\nsys:\n  interval: 0\n");
        JarProcess node = start(Map.of("STARLING_LISTENER_PORT", String.valueOf(envPort)), "--config", f.toString());
        String line = node.await("listening for MQTT", 30);
        assertTrue(line.contains(":" + envPort), "the environment's port should win: " + line);
        roundTrip(envPort);
    }

    @Test
    void portOutOfRangeInTheFileExitsWith2NamingTheKey() throws Exception {
        Path f = yaml("listener:\n  port: 70000\n");
        JarProcess node = start(Map.of(), "--config", f.toString());
        assertEquals(2, node.exitCode(30), node.output());
        assertTrue(node.output().contains("listener.port"), "stderr should name listener.port:\n" + node.output());
        assertTrue(!node.output().contains("listening for MQTT"), node.output());
    }

    @Test
    void unknownKeyInTheFileExitsWith2NamingTheKey() throws Exception {
        Path f = yaml("mqtt:\n  max-packet-sise: 2048\n");
        JarProcess node = start(Map.of(), "--config", f.toString());
        assertEquals(2, node.exitCode(30), node.output());
        assertTrue(node.output().contains("mqtt.max-packet-sise"), "stderr should name the unknown key:\n" + node.output());
    }

    @Test
    void nonNumberInTheEnvironmentExitsWith2NamingTheKey() throws Exception {
        JarProcess node = start(Map.of("STARLING_MQTT_MAX_PACKET_SIZE", "lots"));
        assertEquals(2, node.exitCode(30), node.output());
        assertTrue(node.output().contains("mqtt.max-packet-size"), node.output());
        assertTrue(node.output().contains("STARLING_MQTT_MAX_PACKET_SIZE"), node.output());
    }

    @Test
    void nonLoopbackHostWithoutAllowAnonymousExitsWith2() throws Exception {
        JarProcess node = start(Map.of("STARLING_LISTENER_HOST", "0.0.0.0", "STARLING_LISTENER_PORT", String.valueOf(freePort())));
        assertEquals(2, node.exitCode(30), node.output());
        assertTrue(node.output().contains("listener.tcp.allow-anonymous"), node.output());
    }

    @Test
    void unknownArgumentExitsWith2() throws Exception {
        JarProcess node = start(Map.of(), "--port", "1884");
        assertEquals(2, node.exitCode(30), node.output());
        assertTrue(node.output().contains("--port"), node.output());
    }

    @Test
    void helpListsEveryKeyAndItsVariable() throws Exception {
        JarProcess node = start(Map.of(), "--help");
        assertEquals(0, node.exitCode(30), node.output());
        for (var key : io.starling.config.BrokerConfig.KEYS.values()) {
            assertTrue(node.output().contains(key.name()), "--help lacks " + key.name() + ":\n" + node.output());
            assertTrue(node.output().contains(key.envName()), "--help lacks " + key.envName());
        }
    }

    @Test
    void portAlreadyInUseFailsStartUpPromptlyWithTheCause() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();
            JarProcess node = start(Map.of("STARLING_LISTENER_PORT", String.valueOf(port)));
            // A bind failure is known within milliseconds; start-up must fail with it, not hang.
            int code = node.exitCode(20);
            assertTrue(code != 0, "a node that cannot bind must not exit 0:\n" + node.output());
            assertTrue(!node.output().contains("listening for MQTT"), node.output());
            assertTrue(node.output().contains("failed to start") && node.output().toLowerCase().contains("in use"),
                    "the log should say why start-up failed (address in use):\n" + node.output());
        }
    }
}
