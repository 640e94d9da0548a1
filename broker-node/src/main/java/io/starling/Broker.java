package io.starling;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.starling.config.BrokerConfig;
import io.starling.metrics.BrokerMetrics;
import io.starling.metrics.MetricsServer;
import io.starling.metrics.Readiness;
import io.starling.metrics.RuntimeMetrics;
import io.starling.cluster.forwarding.LinkMembership;
import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.membership.ClusterMember;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.cluster.routes.LocalRoutes;
import io.starling.cluster.routes.RouteTable;
import io.starling.routing.Adoptions;
import io.starling.routing.Forwarder;
import io.starling.cluster.membership.ClusterSettings;
import io.starling.retain.ReplicatedRetainedStore;
import io.starling.routing.Router;
import io.starling.session.Services;
import io.starling.sys.SysPublisher;
import io.starling.transport.MqttListener;
import io.starling.transport.TlsContext;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** One Starling node: wires the shared state, the router and the listeners, and starts them. */
public final class Broker {
    /** How long after a partition heals the retained index is reloaded a second time (see the MERGED listener). */
    private static final long MERGE_SETTLE_MS = 3_000;
    /** How often retained tombstones and expired messages past their lifetime are forgotten (ADR 0009). */
    private static final long RETAINED_PRUNE_INTERVAL_MS = 60_000;

    public static final String VERSION = "0.1.0";
    /** Bytes of frames to one node that may wait while its link is down (QoS 0 beyond it is dropped and counted). */
    private static final long LINK_BUFFER_BYTES = 16L << 20;
    /** How long a SUBACK waits at most for every node to confirm a new route. */
    private static final long ROUTE_SETTLE_TIMEOUT_MS = 5_000;

    private final Vertx vertx;
    private final BrokerConfig config;
    private final Services services;
    private final SysPublisher sys;
    private final ClusterMember member;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Broker.class);
    private final NodeLinks links;
    /** The node's durable store and its writer, or null with persistence.mode none (docs/adr/0016). */
    private final Durability durability;
    private final ClientRegistry clients;
    private final Monitoring monitoring;
    /** Files reloaded while the node runs (the password file), on change and on SIGHUP. */
    private final io.starling.config.WatchedFiles watchedFiles;
    private final Map<io.starling.config.ListenerConfig.Kind, TlsContext> tlsContexts =
            new java.util.EnumMap<>(io.starling.config.ListenerConfig.Kind.class);

    /** What a node exposes about itself: its registry's binders, readiness, and the HTTP server (or null). */
    private record Monitoring(BrokerMetrics metrics, RuntimeMetrics runtime, Readiness readiness, MetricsServer http) {
    }

    private Broker(Vertx vertx, BrokerConfig config, Monitoring monitoring, ClusterMember member, NodeLinks links,
            Durability durability) {
        this.vertx = vertx;
        this.durability = durability;
        this.config = config;
        this.member = member;
        this.links = links;
        this.monitoring = monitoring;
        BrokerMetrics metrics = monitoring.metrics();
        RouteTable routes = new RouteTable(links.localNode());
        Adoptions adoptions = new Adoptions(vertx, links);
        LocalRoutes localRoutes = new LocalRoutes(vertx, links, routes, ROUTE_SETTLE_TIMEOUT_MS);
        ReplicatedRetainedStore retainedStore = new ReplicatedRetainedStore(member.hazelcast().getMap("starling.retained"),
                () -> !links.peers().isEmpty());
        Router router = new Router(retainedStore, routes, localRoutes, new Forwarder(links, metrics));
        this.clients = new ClientRegistry(member.hazelcast().getMap(ClientRegistry.MAP), links.localNode(),
                () -> !links.peers().isEmpty());
        this.services = new Services(vertx, config, router, metrics, links, clients, member.hazelcast(),
                durability == null ? null : durability.commit());
        // Tombstones and expired retained messages are kept for a bounded time only (ADR 0009).
        vertx.setPeriodic(RETAINED_PRUNE_INTERVAL_MS, t -> vertx.executeBlocking(() -> {
            retainedStore.prune();
            return null;
        }, true));
        // A healed partition merged this member's cluster into the other side's: reload the index
        // (newer stamps from the map) and give back what this side holds newer than the map.
        member.hazelcast().getLifecycleService().addLifecycleListener(event -> {
            if (event.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED) {
                vertx.executeBlocking(() -> {
                    retainedStore.reloadAfterMerge();
                    services.registry().nodeJoined(); // sessions check who owns them now
                    return null;
                }, false);
                // This side's entries go back into the merged map by asynchronous merge operations
                // that may still run when MERGED fires, and they raise no entry event here (Hazelcast
                // 5.7): a retained message set on this side during the split was missing from this
                // node's index in one CI run. Reload once more after they have had time to finish.
                vertx.setTimer(MERGE_SETTLE_MS, t -> vertx.executeBlocking(() -> {
                    retainedStore.reloadAfterMerge();
                    return null;
                }, false));
            }
        });
        // Links follow membership from here on: a node that leaves takes its routes with it.
        LinkMembership.follow(member.hazelcast(), links, joined -> {
            services.registry().nodeJoined();
            vertx.executeBlocking(() -> {
                retainedStore.shareAll();
                return null;
            }, false);
        }, left -> {
            services.peerLeft(left);
            // Recovery from a node that left without handing its sessions over (docs/adr/0010): its
            // routes stay until every survivor adopted its share, so what still matches them waits
            // for the adopters instead of finding no route; then each survivor republishes what the
            // node did not confirm, in order, and hands each session recovered from it its share
            // (Forwarder#replay) before that session takes what its new routes brought meanwhile.
            adoptions.nodeLeft(left);
            adoptions.awaitAdopted(left).onComplete(v -> {
                router.nodeGone(left); // its routes go there, with the republish
            });
            services.registry().nodeLeft(left).onComplete(ar -> router.routesSettled()
                    .onComplete(v -> adoptions.adopted(left)));
        });
        this.watchedFiles = new io.starling.config.WatchedFiles(vertx);
        if (services.authorization().path() != null) {
            watchedFiles.watch(services.authorization().path(), "ACL file", file -> {
                services.authorization().reload();
                services.registry().recheckAuthentication(); // each client's rules are compiled anew
            });
        }
        for (io.starling.config.ListenerConfig l : config.listeners()) {
            if (l.tls() != null) {
                TlsContext tls = new TlsContext(l.name(), l.tls());
                tlsContexts.put(l.kind(), tls);
                for (String f : l.tls().files()) {
                    watchedFiles.watch(java.nio.file.Path.of(f), l.name() + " listener's TLS file", file -> tls.reload());
                }
            }
        }
        io.starling.config.BrokerConfig.LinkTlsFiles linkTls = config.clusterLinkTls();
        if (linkTls.enabled()) {
            log.info("node links: mutual TLS, presenting {}", io.starling.transport.LinkTlsFiles.subject(linkTls));
            for (String f : java.util.List.of(linkTls.certFile(), linkTls.keyFile(), linkTls.caFile())) {
                watchedFiles.watch(java.nio.file.Path.of(f), "node links' TLS file", file -> reloadLinkTls(linkTls));
            }
        }
        io.starling.auth.Authenticator nodeAuth = services.authenticator();
        if (nodeAuth instanceof io.starling.auth.HttpAuthenticator http) {
            nodeAuth = http.fallback(); // the hook's answers do not reload; the files behind it do
        }
        if (nodeAuth instanceof io.starling.auth.JwtAuthenticator jwt) {
            watchedFiles.watch(jwt.jwksFile(), "JWKS file", file -> {
                try {
                    jwt.replace(io.starling.auth.JwtAuthenticator.read(file));
                    log.info("JWKS file {} reloaded", file);
                } catch (java.io.IOException | java.text.ParseException e) {
                    log.error("JWKS file {} changed but cannot be used ({}); the old keys stay in force", file, e.getMessage());
                    return;
                }
                services.registry().recheckAuthentication(); // a client whose key is gone goes
            });
            nodeAuth = jwt.fallback();
        }
        if (nodeAuth instanceof io.starling.auth.PasswordFileAuthenticator passwords) {
            watchedFiles.watch(java.nio.file.Path.of(config.authPasswordFile()), "password file", file -> {
                passwords.replace(io.starling.auth.Authentication.read(file));
                services.registry().recheckAuthentication(); // Mosquitto 2.0 does so too on reload
            });
        }
        this.sys = new SysPublisher(router, services.registry(), metrics, VERSION, member.hazelcast(),
                config.sysIntervalSeconds());
        // online() reads one volatile flag per session (no session state, so no context to be on):
        // cheap for a scrape every few seconds even with many sessions.
        metrics.gauge("starling_sessions", "state", "online", "sessions on this node, by whether a client is connected",
                () -> services.registry().online());
        metrics.gauge("starling_sessions", "state", "offline", "sessions on this node, by whether a client is connected",
                () -> Math.max(0, services.registry().size() - services.registry().online()));
        metrics.gauge("starling_subscriptions", "subscriptions on this node", router::subscriptionCount);
        metrics.gauge("starling_retained_messages", "retained messages", () -> router.retained().size());
        metrics.gauge("starling_cluster_members", "members of the Hazelcast cluster, as this node sees it",
                () -> member.hazelcast().getLifecycleService().isRunning() ? member.memberCount() : 0);
        // What an operator (or a rolling restart) waits for before taking the next node away: with
        // cluster.backup-count 1, a second node lost before the first one's backups are rebuilt
        // takes the only copy of some sessions and messages with it.
        metrics.gauge("starling_cluster_safe", "1 while every partition of the shared state has its configured "
                        + "backups, 0 while they are being rebuilt after a member joined or left",
                () -> member.hazelcast().getLifecycleService().isRunning()
                        && member.hazelcast().getPartitionService().isClusterSafe() ? 1 : 0);
    }

    /**
     * Starts a node: its link server first (its port is advertised to the cluster), then its
     * Hazelcast member, which joins the cluster, then the MQTT listeners. A listener with port 0 has
     * a free port chosen first, so that the configuration the node runs with names its real ports.
     */
    public static Future<Broker> start(BrokerConfig config) {
        BrokerConfig effective = config.withListeners(config.listeners().stream()
                .map(l -> l.port() == 0 ? l.withPort(freePort(l.host())) : l).toList());
        io.starling.cluster.forwarding.LinkTls linkTls = null;
        if (effective.clusterLinkTls().enabled()) {
            try {
                linkTls = io.starling.transport.LinkTlsFiles.read(effective.clusterLinkTls());
            } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                return Future.failedFuture(new io.starling.config.ConfigException(
                        "cluster.link-tls.* do not make a TLS context for the node links: " + e.getMessage()));
            }
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(effective.eventLoops()));
        PrometheusMeterRegistry registry = RuntimeMetrics.newRegistry();
        BrokerMetrics metrics = new BrokerMetrics(registry);
        RuntimeMetrics runtime = RuntimeMetrics.bind(registry, vertx);
        Readiness readiness = new Readiness();
        NodeLinks links = new NodeLinks(vertx, "node-" + UUID.randomUUID().toString().substring(0, 8), LINK_BUFFER_BYTES,
                linkTls);
        // The result is a plain promise: a failure must not wait for callbacks on a closing Vert.x.
        Promise<Broker> result = Promise.promise();
        // The health endpoints come first, so that a probe sees "not ready" while the node joins.
        Future<MetricsServer> http = effective.metricsEnabled()
                ? MetricsServer.start(vertx, effective.metricsHost(), effective.metricsPort(), registry, readiness)
                : Future.succeededFuture(null);
        http.compose(server -> links.listen(effective.clusterBindHost(), effective.clusterLinkPort())
                .compose(linkPort -> vertx.executeBlocking(() -> {
                    // The store first: one that cannot be used stops the start before the node joins.
                    Durability durability = Durability.open(effective.persistence(), registry);
                    // A single node is a one-member cluster (ADR 0003).
                    ClusterMember member = ClusterMember.start(new ClusterSettings(effective.clusterName(),
                            effective.clusterBindHost(), effective.clusterPort(), effective.clusterMemberList(),
                            effective.clusterKubernetesServiceDns(), effective.clusterBackupCount(),
                            Map.of(LinkMembership.NODE, links.localNode(),
                                    LinkMembership.LINK_PORT, String.valueOf(linkPort))),
                            ReplicatedRetainedStore::configure);
                    return new Broker(vertx, effective, new Monitoring(metrics, runtime, readiness, server), member,
                            links, durability);
                })))
                .compose(broker -> broker.recover().map(broker))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        deployListeners(ar.result(), result);
                    } else {
                        result.fail(ar.cause());
                        runtime.close();
                        new Thread(vertx::close, "starling-failed-start").start();
                    }
                });
        return result.future();
    }

    private static void deployListeners(Broker broker, Promise<Broker> result) {
        Vertx vertx = broker.vertx;
        BrokerConfig effective = broker.config;
        ClusterMember member = broker.member;
        // One verticle per listener: each spreads its connections over every event loop itself.
        List<Future<String>> deployed = new ArrayList<>();
        io.starling.transport.Admission admission = new io.starling.transport.Admission(effective.limits());
        for (io.starling.config.ListenerConfig l : effective.listeners()) {
            deployed.add(vertx.deployVerticle(() -> new MqttListener(broker.services, l, broker.tlsContexts.get(l.kind()),
                    admission), new DeploymentOptions()));
        }
        Future.all(deployed)
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        if (effective.sysIntervalSeconds() > 0) {
                            // $SYS reads cluster totals from Hazelcast: off the event loop, one at a time.
                            vertx.executeBlocking(() -> {
                                broker.sys.publish();
                                return null;
                            }, true);
                            vertx.setPeriodic(effective.sysIntervalSeconds() * 1000L, t -> vertx.executeBlocking(() -> {
                                broker.sys.publish();
                                return null;
                            }, true));
                        }
                        // Listeners bound, cluster joined (the member started before): ready.
                        broker.monitoring.readiness().ready();
                        result.complete(broker);
                    } else {
                        result.fail(ar.cause());
                        broker.monitoring.runtime().close();
                        new Thread(() -> {
                            vertx.close();
                            member.close();
                        }, "starling-failed-start").start();
                    }
                });
    }

    private static int freePort(String host) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The plain TCP listener's port, or -1 when it is off. */
    public int port() {
        return port(io.starling.config.ListenerConfig.Kind.TCP);
    }

    /** The port of the listener of that kind, or -1 when it is off. */
    public int port(io.starling.config.ListenerConfig.Kind kind) {
        return config.listener(kind).map(io.starling.config.ListenerConfig::port).orElse(-1);
    }

    /** The TLS context of the listener of that kind (its certificate now), or null. */
    /** Renewed link certificates serve the links made from now on; files that do not fit are logged and the old ones kept. */
    private void reloadLinkTls(io.starling.config.BrokerConfig.LinkTlsFiles files) {
        io.starling.cluster.forwarding.LinkTls renewed;
        try {
            renewed = io.starling.transport.LinkTlsFiles.read(files);
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            log.error("node links: TLS files changed but cannot be used ({}); new links keep the old certificate", e.getMessage());
            return;
        }
        links.updateTls(renewed).onComplete(ar -> {
            if (ar.succeeded()) {
                log.info("node links: TLS certificate reloaded; new links present {}", io.starling.transport.LinkTlsFiles.subject(files));
            } else {
                log.error("node links: renewed TLS certificate not taken: {}", ar.cause().toString());
            }
        });
    }

    public TlsContext tls(io.starling.config.ListenerConfig.Kind kind) {
        return tlsContexts.get(kind);
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

    public String nodeId() {
        return links.localNode();
    }

    /** This node's Hazelcast member (for views of the shared state, e.g. its map statistics). */
    public com.hazelcast.core.HazelcastInstance hazelcast() {
        return member.hazelcast();
    }

    public Readiness readiness() {
        return monitoring.readiness();
    }

    /** The port /metrics and /health/* are served on, or -1 with metrics.enabled false. */
    public int metricsPort() {
        return monitoring.http() == null ? -1 : monitoring.http().port();
    }

    /**
     * Leaves the cluster gracefully (SIGTERM, issue 3): clients are disconnected with 0x8B, sessions
     * and their queued messages go to the other nodes, and once those route them, this node closes.
     * Bounded: after {@code timeoutMs} it closes whatever is left.
     */
    public Future<Void> leave(long timeoutMs) {
        monitoring.readiness().leaving(); // first: the load balancer stops sending clients here
        long deadline = System.currentTimeMillis() + timeoutMs;
        org.slf4j.LoggerFactory.getLogger(Broker.class).info("leaving the cluster: handing {} sessions to {} other nodes",
                services.registry().size(), links.peers().size());
        List<String> peers = new ArrayList<>(links.peers());
        Promise<Void> handed = Promise.promise();
        services.registry().handOverAll(peers).onComplete(ar -> handed.tryComplete());
        vertx.setTimer(Math.max(1, timeoutMs / 2), t -> handed.tryComplete());
        Promise<Void> released = Promise.promise();
        handed.future().onComplete(ar -> vertx.setPeriodic(50, t -> {
            if (services.registry().stillRelaying() == 0 || System.currentTimeMillis() > deadline) {
                vertx.cancelTimer(t);
                released.tryComplete();
            }
        }));
        // Once the other nodes have dropped the routes to this one, nothing is routed here any more.
        return released.future().compose(v -> services.router().routesSettled()).eventually(this::close);
    }

    public io.starling.config.WatchedFiles watchedFiles() {
        return watchedFiles;
    }

    public Future<Void> close() {
        monitoring.readiness().leaving();
        watchedFiles.close();
        return links.close().eventually(() -> vertx.close()).andThen(r -> {
            if (durability != null) {
                durability.close(); // what the sessions wrote last is on disk before the process ends
            }
            member.close();
            monitoring.runtime().close();
        });
    }

    /** The sessions of the store, adopted before the listeners open (readiness stays 503 meanwhile). */
    private Future<Void> recover() {
        if (durability == null) {
            return Future.succeededFuture();
        }
        return io.starling.session.SessionRecovery.recover(services, clients, durability.store(), links.localNode())
                .mapEmpty();
    }
}
