package io.starling.session;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.config.BrokerConfig;
import io.starling.metrics.BrokerMetrics;
import io.starling.routing.Router;
import io.vertx.core.Vertx;

/** What sessions and connections of one node share. Built once at start-up by the broker. */
public final class Services {
    final Vertx vertx;
    final BrokerConfig config;
    final Router router;
    final BrokerMetrics metrics;
    final SessionRegistry registry;
    final SessionTransfer transfer;
    final SessionStore store;
    /** The node's password check, or null without a password file. */
    final io.starling.auth.Authenticator authenticator;
    final io.starling.auth.Authorization authorization;
    /** The HTTP hook's topic checks, or null without auth.http.authorize-url. */
    final io.starling.auth.HttpAuthorization httpAuthorization;
    /** The node's durable store's writer (docs/adr/0016), or null with persistence.mode none. */
    final io.starling.persistence.GroupCommit disk;
    /** Set when the node starts leaving: new connections are refused. */
    volatile boolean leaving;

    public Services(Vertx vertx, BrokerConfig config, Router router, BrokerMetrics metrics, NodeLinks links,
                    ClientRegistry clients, com.hazelcast.core.HazelcastInstance hazelcast) {
        this(vertx, config, router, metrics, links, clients, hazelcast, null);
    }

    public Services(Vertx vertx, BrokerConfig config, Router router, BrokerMetrics metrics, NodeLinks links,
                    ClientRegistry clients, com.hazelcast.core.HazelcastInstance hazelcast,
                    io.starling.persistence.GroupCommit disk) {
        this.vertx = vertx;
        this.disk = disk;
        this.config = config;
        this.router = router;
        this.metrics = metrics;
        io.starling.auth.HttpHook hook = io.starling.auth.Authentication.hook(config, vertx, metrics);
        this.authenticator = io.starling.auth.Authentication.forConfig(config, hook);
        this.httpAuthorization = config.authHttp().authorizes() ? new io.starling.auth.HttpAuthorization(hook) : null;
        this.authorization = config.authAclFile().isEmpty() ? io.starling.auth.Authorization.none()
                : io.starling.auth.Authorization.of(java.nio.file.Path.of(config.authAclFile()));
        this.registry = new SessionRegistry(this);
        this.transfer = new SessionTransfer(links, clients, registry);
        this.store = new SessionStore(hazelcast.getMap(SessionStore.SESSIONS), hazelcast.getMap(SessionStore.QUEUE),
                () -> config.clusterBackupCount() > 0 && !links.peers().isEmpty(),
                task -> vertx.executeBlocking(() -> {
                    task.run();
                    return null;
                }, false));
    }

    public Vertx vertx() {
        return vertx;
    }

    public io.starling.auth.Authenticator authenticator() {
        return authenticator;
    }

    public io.starling.auth.Authorization authorization() {
        return authorization;
    }

    /** What clients of {@code listener} must prove: its own rules in front of the node's password check. */
    public io.starling.auth.Authenticator authenticatorFor(io.starling.config.ListenerConfig listener) {
        return new io.starling.auth.ListenerAuthenticator(listener, authenticator);
    }

    public SessionRegistry registry() {
        return registry;
    }

    public Router router() {
        return router;
    }

    public BrokerMetrics metrics() {
        return metrics;
    }

    public BrokerConfig config() {
        return config;
    }

    /** A peer left: fences it would have answered are not waited for. */
    public void peerLeft(String node) {
        transfer.peerLeft(node);
    }
}
