package io.starling.it;

import io.starling.Broker;
import io.starling.config.BrokerConfig;
import io.starling.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts one real node on a free loopback port for a test class ({@code @RegisterExtension static
 * BrokerFixture broker = new BrokerFixture()}), configured the way a user would: through the
 * environment-variable names of the configuration keys.
 */
public final class BrokerFixture implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> env = new HashMap<>();
    private Broker broker;

    public BrokerFixture() {
        env.put("STARLING_LISTENER_PORT", "0");
        env.put("STARLING_SYS_INTERVAL", "0");
    }

    /** metrics.port has no "pick a free one": the fixture picks one, unless the test set the key. */
    private void freeMetricsPort() throws java.io.IOException {
        if (!env.containsKey("STARLING_METRICS_PORT")) {
            env.put("STARLING_METRICS_PORT", String.valueOf(JarProcess.freeLoopbackPort()));
        }
    }

    /** Sets a configuration key, e.g. {@code with("mqtt.max-queued-messages", 10)}. */
    public BrokerFixture with(String key, Object value) {
        env.put(BrokerConfig.KEYS.get(key).envName(), String.valueOf(value));
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    public void start() throws Exception {
        freeMetricsPort();
        BrokerConfig config = ConfigLoader.load(null, env);
        broker = Broker.start(config).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
    }

    public void stop() throws Exception {
        if (broker != null) {
            broker.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            broker = null;
        }
    }

    public int port() {
        return broker.port();
    }

    /** The port of the listener of that kind (tls, ws, wss), or -1 when it is off. */
    public int port(io.starling.config.ListenerConfig.Kind kind) {
        return broker.port(kind);
    }

    /** Where /metrics and /health/* are served, e.g. {@code http://127.0.0.1:40123}. */
    public String httpUri() {
        return "http://127.0.0.1:" + broker.metricsPort();
    }

    /** As {@link #metric}, 0 for a series not exposed yet (a counter with labels appears on its first count). */
    public double metricOrZero(String series) throws Exception {
        try {
            return metric(series);
        } catch (AssertionError absent) {
            return 0;
        }
    }

    /** The value of one series on /metrics, e.g. {@code starling_messages_dropped_total{reason="queue_full"}}; fails if absent. */
    public double metric(String series) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(httpUri() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("not exposed on /metrics: " + series);
    }

    public String tcpUri() {
        return "tcp://127.0.0.1:" + port();
    }

    public Broker broker() {
        return broker;
    }

    static Path tempFile(String content) throws Exception {
        Path p = Files.createTempFile("starling", ".yaml");
        Files.writeString(p, content);
        p.toFile().deleteOnExit();
        return p;
    }
}
