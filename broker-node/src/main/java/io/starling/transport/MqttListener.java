package io.starling.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.starling.config.BrokerConfig;
import io.starling.config.ListenerConfig;
import io.starling.session.Services;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One MQTT listener (plain TCP, TLS, WebSocket or WebSocket over TLS, as its {@link
 * ListenerConfig} says): a Netty server on Vert.x's acceptor and event loops (deployed once). Each
 * accepted connection stays on the event loop Netty registered it on, and runs on one Vert.x
 * context per event loop, which also sweeps its connections' timers.
 *
 * <p>Netty directly rather than a Vert.x NetServer: a NetSocket costs about 5 KB of heap per
 * connection (mostly a write queue that MQTT, writing only from the connection's own event loop,
 * does not need), more than the whole budget of issue 4 for an idle client.
 */
public final class MqttListener extends VerticleBase {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MqttListener.class);
    private final Services services;
    private final ListenerConfig listener;
    /** Null for a listener without TLS. */
    private final TlsContext tls;
    private final io.starling.auth.Authenticator authenticator;
    /** The node's limits, shared by its listeners. */
    private final Admission admission;
    /** listener.*.connect-rate, taken before the node's. */
    private final ConnectRate connectRate;
    /** Connections open now, for listener.*.max-connections; touched from every event loop. */
    private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();
    /** One per event loop that has had a connection. */
    private final Map<EventLoop, Loop> loops = new ConcurrentHashMap<>();
    private io.netty.channel.Channel server;
    private int actualPort;

    /** The connections of one event loop and the context they run on; touched only on that loop. */
    private final class Loop {
        final ContextInternal context;
        final Set<MqttConnection> connections = new HashSet<>();

        Loop(EventLoop eventLoop) {
            context = ((VertxInternal) vertx).contextBuilder().withEventLoop(eventLoop).build();
            long connectTimeoutNanos = TimeUnit.SECONDS.toNanos(services.config().connectTimeoutSeconds());
            context.runOnContext(v -> context.setPeriodic(500, t -> {
                long now = System.nanoTime();
                for (MqttConnection c : connections.toArray(new MqttConnection[0])) {
                    c.checkTimers(now, connectTimeoutNanos);
                }
            }));
        }
    }

    public MqttListener(Services services, ListenerConfig listener, TlsContext tls, Admission admission) {
        this.services = services;
        this.admission = admission;
        this.connectRate = new ConnectRate(listener.rates().connectRate());
        this.listener = listener;
        this.tls = tls;
        this.authenticator = services.authenticatorFor(listener);
    }

    public ListenerConfig listener() {
        return listener;
    }

    @Override
    public Future<?> start() {
        BrokerConfig config = services.config();
        VertxInternal vx = (VertxInternal) vertx;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(vx.acceptorEventLoopGroup(), vx.nettyEventLoopGroup())
                .channelFactory(vx.transport().serverChannelFactory(false))
                .childHandler(new ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                        // Runs on the event loop the connection was registered on.
                        if (!admit(ch)) {
                            return;
                        }
                        Loop loop = loops.computeIfAbsent(ch.eventLoop(), Loop::new);
                        MqttConnection[] self = new MqttConnection[1];
                        self[0] = new MqttConnection(ch, services, listener, authenticator, loop.context, () -> {
                            loop.connections.remove(self[0]);
                            open.decrementAndGet();
                            admission.closed();
                        });
                        loop.connections.add(self[0]);
                        layers(ch.pipeline());
                        ch.pipeline().addLast(self[0]);
                    }
                });
        // The socket options the Vert.x NetServer had (SO_REUSEADDR, TCP_NODELAY, ...), applied as it did.
        vx.transport().configure(new NetServerOptions().setTcpNoDelay(true).setReuseAddress(true), false, bootstrap);
        // One read per connection per pass of the event loop (Netty's default is up to 16, 1 MB):
        // with hundreds of publishers writing flat out, a pass that read 16 times from each took
        // so long that the subscribers they flooded were written to a few times a second.
        bootstrap.childOption(io.netty.channel.ChannelOption.RCVBUF_ALLOCATOR,
                new io.netty.channel.AdaptiveRecvByteBufAllocator().maxMessagesPerRead(1));
        Promise<Void> bound = Promise.promise();
        ChannelFuture f = bootstrap.bind(listener.host(), listener.port());
        f.addListener(r -> {
            if (r.isSuccess()) {
                server = f.channel();
                actualPort = ((java.net.InetSocketAddress) server.localAddress()).getPort();
                bound.complete();
            } else {
                bound.fail(r.cause());
            }
        });
        return bound.future();
    }

    /**
     * Under listener.*.max-connections, listener.*.connect-rate and the node's limits (limits.max-connections,
     * limits.connect-rate): counted; over one, closed at once (before any byte is read, so it
     * costs no TLS handshake), logged and counted.
     */
    private boolean admit(io.netty.channel.Channel ch) {
        int n = open.incrementAndGet();
        long now = System.nanoTime();
        String refused = listener.maxConnections() > 0 && n > listener.maxConnections() ? "listener.max-connections"
                : !connectRate.take(now) ? "listener.connect-rate" : null;
        if (refused == null) {
            String node = admission.admit(now);
            refused = node == null ? null : "limits." + node;
        }
        if (refused == null) {
            return true;
        }
        open.decrementAndGet();
        services.metrics().connectionRefused(listener.name(), refused);
        String key = refused.startsWith("listener.") ? "listener." + listener.name() + refused.substring(8) : refused;
        // At DEBUG after the first: a storm of refusals must not become a storm of log lines.
        if (refusalsLogged++ < 1 || refusalsLogged % 1000 == 0) {
            log.warn("{} listener: connection from {} refused: {} reached ({} refused so far on this listener)",
                    listener.name(), ch.remoteAddress(), key, refusalsLogged);
        } else {
            log.debug("{} listener: connection from {} refused: {} reached", listener.name(), ch.remoteAddress(), key);
        }
        ch.close();
        return false;
    }

    /** Refusals so far; racy across event loops, which costs at most a log line more or less. */
    private volatile int refusalsLogged;

    /** What lies between the socket and MQTT on this listener: a PROXY header, TLS, then the WebSocket upgrade and frames. */
    private void layers(io.netty.channel.ChannelPipeline p) {
        BrokerConfig config = services.config();
        long timeoutMillis = TimeUnit.SECONDS.toMillis(config.connectTimeoutSeconds());
        if (listener.proxyProtocol()) {
            // Before TLS: a balancer passing TLS through writes the header in the clear.
            p.addLast(new io.netty.handler.codec.haproxy.HAProxyMessageDecoder(), new ProxyHeader());
        }
        if (tls != null) {
            io.netty.handler.ssl.SslHandler ssl = tls.current().newHandler(p.channel().alloc());
            ssl.setHandshakeTimeoutMillis(timeoutMillis);
            p.addLast(ssl);
        }
        if (listener.kind().webSocket) {
            p.addLast(new io.netty.handler.codec.http.HttpServerCodec(),
                    new io.netty.handler.codec.http.HttpObjectAggregator(8192),
                    WebSocketFrames.upgrade(listener.path(), config.maxPacketSize(), timeoutMillis),
                    new WebSocketFrames());
        }
    }

    /** Stops accepting, then closes every connection, each on its own event loop as for any close. */
    @Override
    public Future<?> stop() {
        List<Future<Void>> closed = new ArrayList<>();
        if (server != null) {
            closed.add(future(server.close()));
        }
        for (Loop loop : loops.values()) {
            Promise<Void> done = Promise.promise();
            closed.add(done.future());
            loop.context.runOnContext(v -> {
                List<Future<Void>> each = new ArrayList<>();
                for (MqttConnection c : loop.connections.toArray(new MqttConnection[0])) {
                    each.add(future(c.closeNow()));
                }
                Future.join(each).onComplete(ar -> done.complete());
            });
        }
        return Future.join(closed);
    }

    private static Future<Void> future(ChannelFuture f) {
        Promise<Void> p = Promise.promise();
        f.addListener(r -> p.tryComplete());
        return p.future();
    }

    public int actualPort() {
        return actualPort;
    }
}
