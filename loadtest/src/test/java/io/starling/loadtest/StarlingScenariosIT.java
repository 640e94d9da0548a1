package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.Broker;
import io.starling.config.BrokerConfig;
import io.starling.config.ConfigLoader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scenarios against a Starling node started in this JVM on a free loopback port. */
class StarlingScenariosIT extends ScenarioChecks {
    private static Broker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("STARLING_LISTENER_HOST", "127.0.0.1");
        env.put("STARLING_LISTENER_PORT", "0");
        env.put("STARLING_SYS_INTERVAL", "0");
        // A name of its own: this node must never meet another test's.
        env.put("STARLING_CLUSTER_NAME", "loadtest-it-" + ProcessHandle.current().pid());
        // Room for the short bursts of the as-fast-as-possible runs, so that a queue limit is not
        // what the assertions measure.
        env.put("STARLING_MQTT_MAX_QUEUED_MESSAGES", "100000");
        BrokerConfig config = ConfigLoader.load(null, env);
        broker = Broker.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Override
    String hostPort() {
        return "127.0.0.1:" + broker.port();
    }

    @Test
    void connectStormWarmUpIsAStormOfItsOwnThatTheResultLeavesOut() throws Exception {
        double before = connectionsAccepted();
        Result r = run("connect-storm", "--clients", "200", "--duration", "5", "--warmup", "5");
        assertEquals(200, r.connectsAttempted(), "only the measured storm is counted");
        assertEquals(200, r.connectsSucceeded());
        assertEquals(0, r.errors(), r.errorsByKindText());
        assertEquals(400, connectionsAccepted() - before, "the broker saw the warm-up storm as well");
    }

    private static double connectionsAccepted() {
        return broker.services().metrics().registry().get("starling_connections_accepted").counter().count();
    }

    @Test
    void crossNodeOnOneNodeListedTwice() throws Exception {
        // Both "nodes" are the same broker: checks the plumbing of the two-host form; the real
        // two-node run is in the README.
        Options o = Options.parse("cross-node", "--clients", "2", "--qos", "1", "--duration", "1",
                "--hosts", hostPort() + "," + hostPort());
        Result r = new LoadRun(o, System.err).run();
        assertExact(r);
        assertEquals(2 * r.sent(), r.expected(), "each message to the other node's subscriber and to the reference");
        assertEquals(r.latencyCount(), r.sameNodeLatencyCount(), "as many reference deliveries as cross-node ones");
        assertTrue(r.sameNodeLatencyP99Us() > 0);
    }

    @Test
    void inflightIsCappedByTheServersReceiveMaximum() throws Exception {
        // Starling announces Receive Maximum 100 (mqtt.receive-maximum) and disconnects a client that
        // exceeds it (0x93); asking for 1000 in flight must still run clean.
        Result r = run("p2p", "--clients", "2", "--qos", "1", "--inflight", "1000", "--duration", "1");
        assertExact(r);
    }

    @Test
    void setupFailureExitsNonZero() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(new String[]{"p2p", "--clients", "1", "--duration", "1", "--hosts", "127.0.0.1:" + closedPort},
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err, false);
        assertEquals(1, code);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("SETUP FAILED"));
    }

    @Test
    void usageErrorExitsTwo() {
        assertEquals(2, Main.run(new String[]{"p2p", "--duration", "0"}, System.out, new PrintStream(
                new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false));
    }
}
