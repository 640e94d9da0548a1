package io.starling;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.config.BrokerConfig;
import io.starling.metrics.BrokerMetrics;
import io.starling.cluster.membership.ClusterMember;
import io.starling.cluster.membership.ClusterSettings;
import io.starling.retain.ReplicatedRetainedStore;
import io.starling.routing.Router;
import io.starling.session.Services;
import io.starling.sys.SysPublisher;
import io.starling.transport.MqttListener;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** One Starling node: wires the shared state, the router and the listeners, and starts them. */
public final class Broker {
    public static final String VERSION = "0.1.0";

    private final Vertx vertx;
    private final BrokerConfig config;
    private final Services services;
    private final SysPublisher sys;
    private final ClusterMember member;

    private Broker(Vertx vertx, BrokerConfig config, MeterRegistry registry, ClusterMember member) {
        this.vertx = vertx;
        this.config = config;
        this.member = member;
        BrokerMetrics metrics = new BrokerMetrics(registry);
        Router router = new Router(new ReplicatedRetainedStore(member.hazelcast().getMap("starling.retained")));
        this.services = new Services(vertx, config, router, metrics);
        this.sys = new SysPublisher(router, services.registry(), metrics, VERSION);
        metrics.gauge("starling_sessions", "sessions on this node, online and offline", () -> services.registry().size());
        metrics.gauge("starling_subscriptions", "subscriptions on this node", router::subscriptionCount);
        metrics.gauge("starling_retained_messages", "retained messages", () -> router.retained().size());
        metrics.gauge("starling_cluster_members", "members of the Hazelcast cluster", member::memberCount);
    }

    /** Starts a node; with listener.port 0 a free port is chosen first, then shared by every listener. */
    public static Future<Broker> start(BrokerConfig config) {
        BrokerConfig effective = config.listenerPort() == 0
                ? config.withListenerPort(freePort(config.listenerHost())) : config;
        // Blocking, before any event loop runs: a single node is a one-member cluster (ADR 0003).
        ClusterMember member = ClusterMember.start(new ClusterSettings(effective.clusterName(),
                effective.clusterBindHost(), effective.clusterPort(), effective.clusterMemberList()));
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(effective.eventLoops()));
        Broker broker = new Broker(vertx, effective, new SimpleMeterRegistry(), member);
        // The result is a plain promise: a failure must not wait for callbacks on a closing Vert.x.
        Promise<Broker> result = Promise.promise();
        vertx.deployVerticle(() -> new MqttListener(broker.services),
                        new DeploymentOptions().setInstances(effective.eventLoops()))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        if (effective.sysIntervalSeconds() > 0) {
                            broker.sys.publish();
                            vertx.setPeriodic(effective.sysIntervalSeconds() * 1000L, t -> broker.sys.publish());
                        }
                        result.complete(broker);
                    } else {
                        result.fail(ar.cause());
                        new Thread(() -> {
                            vertx.close();
                            member.close();
                        }, "starling-failed-start").start();
                    }
                });
        return result.future();
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return config.listenerPort();
    }

    public BrokerConfig config() {
        return config;
    }

    public Services services() {
        return services;
    }

    public SysPublisher sys() {
        return sys;
    }

    public Future<Void> close() {
        return vertx.close().andThen(r -> member.close());
    }
}
