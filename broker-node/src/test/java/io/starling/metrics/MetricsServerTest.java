package io.starling.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP endpoints on a real Vert.x server, with the readiness moved by hand through its states. */
class MetricsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private Vertx vertx;
    private PrometheusMeterRegistry registry;
    private Readiness readiness;
    private MetricsServer server;
    /** The event loop the server was started on, which serves its requests. */
    private ContextInternal serving;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        registry = RuntimeMetrics.newRegistry();
        new BrokerMetrics(registry).messageReceived(1);
        readiness = new Readiness();
        serving = ((VertxInternal) vertx).createEventLoopContext();
        int port = freePort();
        CompletableFuture<MetricsServer> started = new CompletableFuture<>();
        serving.runOnContext(v -> MetricsServer.start(vertx, "127.0.0.1", port, registry, readiness)
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        started.complete(ar.result());
                    } else {
                        started.completeExceptionally(ar.cause());
                    }
                }));
        server = started.get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readyOnlyBetweenStartAndLeaving() throws Exception {
        assertEquals(503, get("/health/ready").statusCode());
        assertEquals("starting\n", get("/health/ready").body());
        readiness.ready();
        assertEquals(200, get("/health/ready").statusCode());
        readiness.leaving();
        HttpResponse<String> leaving = get("/health/ready");
        assertEquals(503, leaving.statusCode());
        assertEquals("leaving\n", leaving.body());
        readiness.ready(); // a late "listeners bound" must not make a leaving node ready again
        assertEquals(503, get("/health/ready").statusCode());
    }

    @Test
    void liveWhileTheEventLoopsAnswerWhateverTheReadiness() throws Exception {
        assertEquals(200, get("/health/live").statusCode());
        readiness.leaving();
        assertEquals(200, get("/health/live").statusCode());
    }

    @Test
    void liveTurns503WhenAnEventLoopIsStuck() throws Exception {
        // Every event loop but the one serving HTTP is blocked: the request is answered, with 503.
        CountDownLatch release = new CountDownLatch(1);
        int blocked = 0;
        for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
            if (loop != serving.nettyEventLoop()) {
                blocked++;
                loop.execute(() -> {
                    try {
                        release.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
        assertTrue(blocked > 0, "Vert.x has one event loop only");
        try {
            HttpResponse<String> r = get("/health/live");
            assertEquals(503, r.statusCode(), r.body());
        } finally {
            release.countDown();
        }
        assertEquals(200, get("/health/live").statusCode());
    }

    @Test
    void metricsAreThePrometheusTextOfTheRegistry() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertEquals(MetricsServer.TEXT_FORMAT, r.headers().firstValue("Content-Type").orElse(""));
        assertTrue(r.body().contains("starling_messages_received_total{qos=\"1\"} 1.0"), r.body());
        assertEquals(404, get("/").statusCode());
    }

    @Test
    void aPortInUseFailsNamingTheKeys() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () ->
                    MetricsServer.start(vertx, "127.0.0.1", taken.getLocalPort(), registry, readiness)
                            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("metrics.port " + taken.getLocalPort()),
                    e.getCause().getMessage());
            assertTrue(e.getCause().getMessage().contains("metrics.enabled"), e.getCause().getMessage());
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }
}
