package io.starling.metrics;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP endpoints, on their own port ({@code metrics.host}, {@code metrics.port}):
 * <ul>
 *   <li>{@code GET /metrics}: the registry in Prometheus' text format (0.0.4);</li>
 *   <li>{@code GET /health/live}: 200 when every Vert.x event loop runs a task within
 *       {@value #LIVE_TIMEOUT_MS} ms, 503 otherwise (a stuck loop stalls every client on it);</li>
 *   <li>{@code GET /health/ready}: 200 once the node serves (see {@link Readiness}), 503 before
 *       and from the start of a graceful leave.</li>
 * </ul>
 * A plain Vert.x HTTP server, no web framework: three fixed paths need no router.
 */
public final class MetricsServer {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
    static final long LIVE_TIMEOUT_MS = 2_000;
    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

    private final Vertx vertx;
    private final PrometheusMeterRegistry registry;
    private final Readiness readiness;
    private HttpServer server;

    private MetricsServer(Vertx vertx, PrometheusMeterRegistry registry, Readiness readiness) {
        this.vertx = vertx;
        this.registry = registry;
        this.readiness = readiness;
    }

    /** Binds the server; fails with a message naming the configuration keys when it cannot. */
    public static Future<MetricsServer> start(Vertx vertx, String host, int port, PrometheusMeterRegistry registry,
                                              Readiness readiness) {
        MetricsServer s = new MetricsServer(vertx, registry, readiness);
        s.server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
                .setReuseAddress(true).setIdleTimeout(60))
                .requestHandler(s::handle);
        return s.server.listen().transform(ar -> {
            if (ar.failed()) {
                return Future.failedFuture(new IllegalStateException("metrics.host " + host + " / metrics.port " + port
                        + ": cannot serve metrics there (" + ar.cause().getMessage()
                        + "); choose another metrics.port, or set metrics.enabled: false", ar.cause()));
            }
            log.info("metrics and health on http://{}:{} (/metrics, /health/live, /health/ready)", host,
                    s.server.actualPort());
            return Future.succeededFuture(s);
        });
    }

    public int port() {
        return server.actualPort();
    }

    public Future<Void> close() {
        return server.close();
    }

    private void handle(HttpServerRequest req) {
        if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
            req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
            return;
        }
        switch (req.path()) {
            case "/metrics" -> scrape(req);
            case "/health/live" -> live(req);
            case "/health/ready" -> {
                Readiness.State state = readiness.state();
                text(req, state == Readiness.State.READY ? 200 : 503, state.name().toLowerCase() + "\n");
            }
            default -> text(req, 404, "not found: try /metrics, /health/live or /health/ready\n");
        }
    }

    /** Gauges may read Hazelcast or walk the session registry: the scrape runs off the event loop. */
    private void scrape(HttpServerRequest req) {
        vertx.executeBlocking(registry::scrape, false).onComplete(ar -> {
            if (ar.succeeded()) {
                req.response().putHeader("Content-Type", TEXT_FORMAT).end(ar.result());
            } else {
                log.warn("metrics scrape failed: {}", ar.cause().toString());
                text(req, 500, "scrape failed: " + ar.cause() + "\n");
            }
        });
    }

    /** Sends every event loop a no-op task; live when all have run it in time. */
    private void live(HttpServerRequest req) {
        ContextInternal here = (ContextInternal) vertx.getOrCreateContext();
        List<Future<Void>> pings = new ArrayList<>();
        for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
            Promise<Void> answered = here.promise(); // its callbacks run back on this context
            loop.execute(answered::tryComplete);
            pings.add(answered.future());
        }
        Future.all(pings).timeout(LIVE_TIMEOUT_MS, TimeUnit.MILLISECONDS).onComplete(ar ->
                text(req, ar.succeeded() ? 200 : 503, ar.succeeded() ? "live\n"
                        : "an event loop did not answer within " + LIVE_TIMEOUT_MS + " ms\n"));
    }

    private static void text(HttpServerRequest req, int status, String body) {
        req.response().setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8").end(body);
    }
}
