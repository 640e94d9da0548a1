package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.Broker;
import io.starling.config.ConfigLoader;
import io.starling.metrics.Readiness;
import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Properties;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The node's HTTP endpoints as Prometheus and Kubernetes use them: real client traffic (Paho 5.0
 * at QoS 0, 1 and 2, a raw malformed packet, a refused CONNECT, an offline session that queues),
 * then {@code GET /metrics} and checks of the exposed values, then {@code promtool check metrics}
 * on the text when promtool is installed (Debian's {@code prometheus}; skipped, not passed, without).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final long WAIT_MS = 10_000;

    @Test
    @Order(1)
    void metricsCountTheTrafficOfRealClients() throws Exception {
        Map<String, Double> before = scrape();

        // A persistent session that goes offline: what QoS 1/2 brings it is queued, QoS 0 dropped.
        PahoV5Client offline = clients.paho("metrics-offline", false, 300L);
        offline.subscribe("metrics/#", 1);
        offline.disconnect();
        PahoV5Client sub = clients.paho("metrics-sub");
        sub.subscribe("metrics/#", 2);
        PahoV5Client pub = clients.paho("metrics-pub");
        for (int i = 0; i < 3; i++) {
            pub.publish("metrics/q0", "zero " + i, 0, false);
        }
        pub.publish("metrics/q1", "one", 1, false);
        pub.publish("metrics/retained", "kept", 1, true);
        pub.publish("metrics/q2", "two", 2, false);
        for (int i = 0; i < 6; i++) {
            assertNotNull(sub.poll(WAIT_MS), "message " + (i + 1) + " of 6 not delivered");
        }
        pub.publish("$SYS/not-yours", "refused", 0, false); // not routed: dropped as not_authorized

        // A protocol error as raw bytes: 3.1.1 PUBACK with a leftover byte is a Malformed Packet.
        try (RawClient raw = RawClient.connect(broker.port())) {
            raw.connectV311("metrics-raw", 30, null, null, 0);
            raw.sendHex("40 03 00 01 00");
            assertTrue(raw.closedByBroker(), "malformed PUBACK did not close the connection");
        }
        // A refused CONNECT: enhanced authentication is not supported (CONNACK 0x8C).
        try (RawClient raw = RawClient.connect(broker.port())) {
            Properties p = new Properties();
            p.authenticationMethod = "SCRAM-SHA-1";
            raw.send(new Connect(MqttVersion.V5, "metrics-auth", true, 30, p, null, null, null), MqttVersion.V5);
            byte[] connack = raw.readPacket();
            assertNotNull(connack, "no CONNACK");
            assertEquals(0x8C, connack[3] & 0xFF, "CONNACK reason: " + RawClient.toHex(connack));
        }

        // Gauges and counters that settle after the last packet (closes, acknowledgements) are awaited.
        awaitValue("starling_connections", 2);
        awaitValue("starling_messages_inflight", 0);
        awaitValue("starling_sessions{state=\"offline\"}", 1); // the raw clients' clean sessions end
        Map<String, Double> after = awaitDelta(before, "starling_messages_dropped_total{reason=\"not_authorized\"}", 1);

        assertDelta(before, after, "starling_messages_received_total{qos=\"0\"}", 4); // 3 + the $SYS one
        assertDelta(before, after, "starling_messages_received_total{qos=\"1\"}", 2);
        assertDelta(before, after, "starling_messages_received_total{qos=\"2\"}", 1);
        assertDelta(before, after, "starling_messages_sent_total{qos=\"0\"}", 3);
        assertDelta(before, after, "starling_messages_sent_total{qos=\"1\"}", 2);
        assertDelta(before, after, "starling_messages_sent_total{qos=\"2\"}", 1);
        assertDelta(before, after, "starling_messages_dropped_total{reason=\"offline_qos0\"}", 3);
        assertDelta(before, after, "starling_connections_accepted_total", 5);
        assertDelta(before, after, "starling_protocol_errors_total{reason=\"malformed_packet\"}", 1);
        assertDelta(before, after, "starling_auth_failures_total{reason=\"bad_authentication_method\"}", 1);
        assertDelta(before, after, "starling_delivery_latency_seconds_count", 6);
        assertDelta(before, after, "starling_delivery_latency_seconds_bucket{le=\"+Inf\"}", 6);
        assertTrue(value(after, "starling_delivery_latency_seconds_sum") > value(before, "starling_delivery_latency_seconds_sum"));
        assertTrue(after.containsKey("starling_delivery_latency_seconds_bucket{le=\"1.0E-4\"}"), "100 µs bucket");
        assertTrue(after.containsKey("starling_delivery_latency_seconds_bucket{le=\"10.0\"}"), "10 s bucket");
        assertTrue(value(after, "starling_received_bytes_total") > value(before, "starling_received_bytes_total"));
        assertTrue(value(after, "starling_sent_bytes_total") > value(before, "starling_sent_bytes_total"));

        assertEquals(2, value(after, "starling_connections"), "sub and pub");
        assertEquals(2, value(after, "starling_sessions{state=\"online\"}"));
        assertEquals(1, value(after, "starling_sessions{state=\"offline\"}"));
        assertEquals(2, value(after, "starling_subscriptions"));
        assertEquals(1, value(after, "starling_retained_messages"));
        assertEquals(3, value(after, "starling_messages_queued"), "QoS 1, retained QoS 1, QoS 2 for the offline session");
        assertEquals(0, value(after, "starling_messages_inflight"));
        assertEquals(1, value(after, "starling_cluster_members"));
        assertEquals(1, value(after, "starling_cluster_safe"), "a one-member cluster has nothing to rebuild");
        assertEquals(0, value(after, "starling_messages_forwarded_total{direction=\"out\"}"), "one node forwards nothing");
        assertTrue(after.containsKey("starling_forwards_failed_total"));
        assertTrue(after.containsKey("starling_wills_published_total"));

        // The runtime binders are there too.
        for (String prefix : new String[] {"jvm_memory_used_bytes", "jvm_gc_", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
            "process_cpu_usage", "process_cpu_seconds_total", "process_uptime_seconds", "process_files_open_files",
            "netty_eventexecutor_tasks_pending", "netty_allocator_memory_used"}) {
            assertTrue(after.keySet().stream().anyMatch(k -> k.startsWith(prefix)), prefix + " missing");
        }

        // The session ends: its queue leaves the gauge with it.
        clients.paho("metrics-offline", true, 0L).disconnect();
        awaitValue("starling_messages_queued", 0);
    }

    @Test
    @Order(2)
    void healthEndpointsAnswer() throws Exception {
        HttpResponse<String> live = get("/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertEquals("live\n", live.body());
        HttpResponse<String> ready = get("/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertEquals("ready\n", ready.body());
        assertEquals(Readiness.State.READY, broker.broker().readiness().state());
        assertEquals(404, get("/nothing-here").statusCode());
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create(broker.httpUri() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                metrics.headers().toString());
    }

    @Test
    @Order(3)
    void promtoolAcceptsTheExposition() throws Exception {
        // Some traffic of its own, so that the histogram has observations whatever ran before.
        PahoV5Client c = clients.paho("metrics-lint");
        c.subscribe("lint/t", 1);
        c.publish("lint/t", "x", 1, false);
        assertNotNull(c.poll(WAIT_MS));
        String text = get("/metrics").body();
        Path promtool = promtool();
        Assumptions.assumeTrue(promtool != null, "promtool not installed (Debian package prometheus)");
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out);
    }

    @Test
    @Order(4)
    void aGracefulLeaveMakesTheNodeNotReadyAtOnce() throws Exception {
        // A node of its own, since leaving closes it; the answer on the wire is MetricsServerTest's.
        int metricsPort = JarProcess.freeLoopbackPort();
        Broker node = Broker.start(ConfigLoader.load(null, Map.of("STARLING_LISTENER_PORT", "0",
                "STARLING_SYS_INTERVAL", "0", "STARLING_METRICS_PORT", String.valueOf(metricsPort))))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(metricsPort, node.metricsPort());
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort
                + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        var left = node.leave(5_000);
        // Before anything is handed over: a load balancer must stop sending clients here now.
        assertEquals(Readiness.State.LEAVING, node.readiness().state());
        left.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static Path promtool() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "promtool");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(broker.httpUri() + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The samples of one scrape, by series (name and labels as exposed), e.g. {@code a_total{qos="0"}}. */
    static Map<String, Double> scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Double> samples = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return samples;
    }

    private static double value(Map<String, Double> samples, String series) {
        Double v = samples.get(series);
        assertNotNull(v, () -> series + " not exposed; exposed starling_ series: "
                + samples.keySet().stream().filter(k -> k.startsWith("starling_")).sorted().toList());
        return v;
    }

    private static void assertDelta(Map<String, Double> before, Map<String, Double> after, String series, double delta) {
        assertEquals(delta, value(after, series) - before.getOrDefault(series, 0.0), series);
    }

    private static void awaitValue(String series, double expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        Map<String, Double> s = scrape();
        while (value(s, series) != expected && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = scrape();
        }
        assertEquals(expected, value(s, series), series);
    }

    private static Map<String, Double> awaitDelta(Map<String, Double> before, String series, double delta)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        Map<String, Double> s = scrape();
        while (value(s, series) - before.getOrDefault(series, 0.0) < delta && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = scrape();
        }
        assertDelta(before, s, series, delta);
        return s;
    }
}
