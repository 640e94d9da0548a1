package io.starling.transport;

import io.starling.config.BrokerConfig;
import io.starling.session.Services;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The MQTT TCP listener. One instance is deployed per event loop on the same port; Vert.x spreads
 * accepted connections over them, and each connection stays on its instance's event loop.
 */
public final class MqttListener extends VerticleBase {
    private final Services services;
    private final Set<MqttConnection> connections = new HashSet<>();
    private NetServer server;

    public MqttListener(Services services) {
        this.services = services;
    }

    @Override
    public Future<?> start() {
        BrokerConfig config = services.config();
        server = vertx.createNetServer(new NetServerOptions()
                .setHost(config.listenerHost())
                .setPort(config.listenerPort())
                .setTcpNoDelay(true)
                .setReuseAddress(true));
        server.connectHandler(socket -> {
            // Every packet used to be one write() system call: Vert.x flushes each write made outside
            // a read. Deliveries arrive from other connections' contexts, never inside this socket's
            // read, so a subscriber getting 1,000 messages made 1,000 calls. This coalesces the
            // flushes of one event-loop run into one, at no latency cost (the flush still happens
            // before the loop sleeps).
            ((io.vertx.core.internal.net.NetSocketInternal) socket).channelHandlerContext().pipeline()
                    .addFirst(new io.netty.handler.flush.FlushConsolidationHandler(256, true));
            MqttConnection c = new MqttConnection(socket, services, ContextInternal.current());
            connections.add(c);
            c.start(() -> connections.remove(c));
        });
        long connectTimeoutNanos = TimeUnit.SECONDS.toNanos(config.connectTimeoutSeconds());
        vertx.setPeriodic(500, t -> {
            long now = System.nanoTime();
            for (MqttConnection c : connections.toArray(new MqttConnection[0])) {
                c.checkTimers(now, connectTimeoutNanos);
            }
        });
        return server.listen();
    }

    public int actualPort() {
        return server.actualPort();
    }
}
