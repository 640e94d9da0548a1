package io.starling.transport;

import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.starling.session.Channel;
import io.starling.session.Outbound;
import io.starling.session.Services;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection: bytes in through the decoder to the channel, packets out through the
 * encoder. Backpressure is the socket's write queue: while it is full the session keeps its
 * messages queued, and the drain handler resumes them. Confined to the socket's context.
 */
final class MqttConnection implements Outbound {
    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);

    private final NetSocket socket;
    private final PacketDecoder decoder;
    private final Channel channel;
    private final BrokerMetrics metrics;
    private final String remote;
    private final long openedNanos = System.nanoTime();
    private long lastReceivedNanos = openedNanos;
    private long maxOutboundPacketSize = 268_435_455L + 5;
    private boolean inputBroken;
    private boolean closed;

    MqttConnection(NetSocket socket, Services services, ContextInternal context) {
        this.socket = socket;
        this.metrics = services.metrics();
        this.decoder = new PacketDecoder(services.config().maxPacketSize());
        this.remote = String.valueOf(socket.remoteAddress());
        this.channel = new Channel(this, services, context, socket::pause, socket::resume);
    }

    void start(Runnable onClosed) {
        metrics.connectionOpened();
        socket.handler(this::onData);
        socket.drainHandler(v -> channel.onWritable());
        socket.exceptionHandler(t -> {
            log.debug("connection {} ({}): {}", remote, channel.clientId(), t.toString());
            socket.close();
        });
        socket.closeHandler(v -> {
            closed = true;
            metrics.connectionClosed();
            channel.onClosed();
            onClosed.run();
        });
    }

    private void onData(Buffer data) {
        if (inputBroken) {
            return;
        }
        lastReceivedNanos = System.nanoTime();
        metrics.bytesReceived(data.length());
        try {
            decoder.feed(data, channel::onPacket);
        } catch (ProtocolViolation v) {
            inputBroken = true; // the decoder cannot resynchronize after a bad packet
            channel.onDecodingViolation(v, decoder.version());
        }
    }

    /** Called by the listener's sweep: connect timeout and keep-alive at 1.5 times [MQTT-3.1.2-24]. */
    void checkTimers(long nowNanos, long connectTimeoutNanos) {
        if (channel.awaitingConnect()) {
            if (nowNanos - openedNanos > connectTimeoutNanos) {
                channel.onConnectTimeout();
            }
            return;
        }
        int keepAlive = channel.keepAliveSeconds();
        if (channel.connected() && keepAlive > 0 && nowNanos - lastReceivedNanos > keepAlive * 1_500_000_000L) {
            channel.onKeepAliveTimeout();
        }
    }

    @Override
    public boolean send(Packet packet) {
        if (closed) {
            return true; // nobody to send to; the session keeps what is unacknowledged
        }
        MqttVersion version = decoder.version() == null ? MqttVersion.V3_1_1 : decoder.version();
        Buffer bytes = PacketEncoder.encode(packet, version);
        if (bytes.length() > maxOutboundPacketSize && packet instanceof Publish) {
            return false;
        }
        metrics.bytesSent(bytes.length());
        socket.write(bytes);
        return true;
    }

    @Override
    public boolean writable() {
        return !closed && !socket.writeQueueFull();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            socket.close();
        }
    }

    @Override
    public String remoteAddress() {
        return remote;
    }

    @Override
    public void limitPacketSize(long bytes) {
        maxOutboundPacketSize = bytes;
    }
}
