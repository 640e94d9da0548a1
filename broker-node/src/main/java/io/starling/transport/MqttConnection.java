package io.starling.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.Ack;
import io.starling.protocol.Auth;
import io.starling.protocol.ConnAck;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.starling.protocol.SubAck;
import io.starling.protocol.UnsubAck;
import io.starling.session.MqttProtocol;
import io.starling.session.Outbound;
import io.starling.session.Services;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection: bytes in through the decoder to the protocol state machine, packets out through the
 * encoder. Backpressure is the socket's write buffer: while it is above Netty's high water mark
 * the session keeps its messages queued, and the writability change resumes them.
 *
 * <p>This is a Netty handler on the connection's own pipeline, not a Vert.x NetSocket: a NetSocket
 * carries a multi-producer write queue whose first 1,024-slot chunk alone is 4.1 KB per connection
 * (issue 4: memory per idle client). Every event is handed to the code through the connection's
 * Vert.x context ({@link ContextInternal#emit}), so the session logic runs on a Vert.x context as
 * before. Confined to the channel's event loop.
 */
final class MqttConnection extends ChannelInboundHandlerAdapter implements Outbound {
    private static final Logger log = LoggerFactory.getLogger(MqttConnection.class);

    private final io.netty.channel.Channel socket;
    /** The listener's name (tcp, tls, ws, wss), for logs and metric labels. */
    private final String listener;
    private final ContextInternal context;
    private final PacketDecoder decoder;
    private final MqttProtocol protocol;
    private final BrokerMetrics metrics;
    private final Runnable onClosed;
    private final long openedNanos = System.nanoTime();
    private long lastReceivedNanos = openedNanos;
    private long maxOutboundPacketSize = 268_435_455L + 5;
    private boolean inputBroken;
    /** False until the first bytes arrived: they are looked at for another protocol ({@link ForeignProtocol}). */
    private boolean readBefore;
    /** Nothing more is sent: a last packet went out, or the socket closed. */
    private boolean closed;
    /** Half-closed after a last packet: what the client still sends is read and discarded. */
    private boolean lingering;
    private io.netty.util.concurrent.ScheduledFuture<?> lingerTimer;
    /**
     * Writes are flushed once per batch, not one by one (a system call each): at the end of a read,
     * or, outside a read (deliveries), in a task queued behind the current one on the event loop.
     */
    private boolean reading;
    private boolean flushPending;
    private final Runnable flushTask = this::flush;

    MqttConnection(io.netty.channel.Channel socket, Services services, io.starling.config.ListenerConfig listener,
                   io.starling.auth.Authenticator authenticator, ContextInternal context, Runnable onClosed) {
        this.socket = socket;
        this.listener = listener.name();
        this.context = context;
        this.metrics = services.metrics();
        this.onClosed = onClosed;
        this.decoder = new PacketDecoder(services.config().maxPacketSize());
        this.protocol = new MqttProtocol(this, services, authenticator, listener.rates(), context,
                () -> setAutoRead(false), () -> setAutoRead(true));
        socket.remoteAddress(); // Netty keeps it from here on, also after the close, for the logs
        metrics.connectionOpened();
    }

    // ---- Netty events, each run on the connection's Vert.x context ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        context.emit((ByteBuf) msg, this::onData);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        reading = false;
        flush();
    }

    private void flush() {
        if (flushPending) {
            flushPending = false;
            socket.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (socket.isWritable()) {
            context.emit(v -> protocol.onWritable());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        context.emit(cause, t -> {
            if (t instanceof io.netty.handler.codec.haproxy.HAProxyProtocolException) {
                log.info("connection {}: no valid PROXY protocol header on the {} listener, which requires one "
                        + "(listener.{}.proxy-protocol): {}; closing", remoteAddress(), listener, listener, t.getMessage());
                metrics.connectionRefused(listener, "no_proxy_header");
            } else if (t instanceof io.netty.handler.codec.DecoderException
                    && t.getCause() instanceof io.netty.handler.ssl.NotSslRecordException) {
                // What ForeignProtocol sees on a plain port, the other way round.
                log.info("connection {}: not TLS on the {} listener (plain MQTT on a TLS port?); closing",
                        remoteAddress(), listener);
                metrics.foreignProtocol("plain");
            } else if (!(t instanceof io.netty.handler.codec.DecoderException
                    && t.getCause() instanceof javax.net.ssl.SSLException)) {
                // (A failed handshake was logged by userEventTriggered.)
                log.debug("connection {} ({}): {}", remoteAddress(), protocol.clientId(), t.toString());
            }
            socket.close();
        });
    }

    /** A TLS handshake that failed is logged with the reason the client was sent (expired, unknown CA, ...). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.ssl.SslHandshakeCompletionEvent e && !e.isSuccess()
                && !(e.cause() instanceof io.netty.handler.ssl.NotSslRecordException)) {
            context.emit(e.cause(), t -> {
                TlsFailure why = TlsFailure.of(t);
                log.info("connection {}: TLS handshake on the {} listener failed: {}{}", remoteAddress(), listener,
                        why == TlsFailure.OTHER ? "" : why.explanation + "; ", t.getMessage());
                metrics.tlsHandshakeFailed(listener, why.label());
            });
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public String proxiedCertificateCn() {
        return socket.attr(ProxyHeader.CERTIFICATE_CN).get();
    }

    @Override
    public java.security.cert.X509Certificate clientCertificate() {
        io.netty.handler.ssl.SslHandler ssl = socket.pipeline().get(io.netty.handler.ssl.SslHandler.class);
        if (ssl == null) {
            return null;
        }
        try {
            java.security.cert.Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate x ? x : null;
        } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
            return null; // client-auth optional, and it sent none
        }
    }

    /** Flow control's pauses end with the connection: a lingering one reads until the client's EOF. */
    private void setAutoRead(boolean on) {
        if (!lingering) {
            socket.config().setAutoRead(on);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        context.emit(v -> {
            if (lingerTimer != null) {
                lingerTimer.cancel(false);
            }
            closed = true;
            metrics.connectionClosed();
            protocol.onClosed();
            onClosed.run();
        });
    }

    private void onData(ByteBuf data) {
        try {
            if (inputBroken || lingering) {
                return; // after a violation or a last packet, input is read only to be discarded
            }
            lastReceivedNanos = System.nanoTime();
            metrics.bytesReceived(data.readableBytes());
            if (!readBefore) {
                readBefore = true;
                if (foreign(data)) {
                    return;
                }
            }
            // The decoder copies what it keeps (a packet that spans reads, payloads), so the
            // pooled read buffer goes back to the allocator at once: nothing is held between packets.
            Buffer bytes = BufferInternal.buffer(data.readerIndex() == 0 ? data : data.slice());
            decoder.feed(bytes, protocol::onPacket);
        } catch (ProtocolViolation v) {
            inputBroken = true; // the decoder cannot resynchronize after a bad packet
            protocol.onDecodingViolation(v, decoder.version());
        } catch (RuntimeException | StackOverflowError e) {
            // A bug of ours, not the client's: the decoder is unusable after it and the session may
            // be half-way through a packet, so the connection must not stay open (a zombie that
            // reads nothing more). Its client hears 0x83 and may reconnect; nothing else is touched.
            inputBroken = true;
            log.error("connection {} ({}): handling its input failed; closing it", remoteAddress(),
                    protocol.clientId(), e);
            metrics.internalError();
            protocol.onInternalError(e, decoder.version());
        } finally {
            data.release();
        }
    }

    /**
     * The first bytes are another protocol's: logged as what they are, counted, and the connection
     * closed without an MQTT answer (a TLS or HTTP client could not read one). Bytes that could
     * still be a CONNECT go to the decoder as usual.
     */
    private boolean foreign(ByteBuf data) {
        int n = Math.min(data.readableBytes(), 16);
        byte[] head = new byte[n];
        data.getBytes(data.readerIndex(), head);
        ForeignProtocol p = ForeignProtocol.of(head, n);
        if (p == null) {
            return false;
        }
        inputBroken = true;
        log.info("connection {}: {}; closing", remoteAddress(), p.explanation);
        metrics.foreignProtocol(p.name().toLowerCase(java.util.Locale.ROOT));
        socket.close();
        return true;
    }

    /** Called by the listener's sweep: connect timeout and keep-alive at 1.5 times [MQTT-3.1.2-24]. */
    void checkTimers(long nowNanos, long connectTimeoutNanos) {
        if (protocol.awaitingConnect()) {
            if (nowNanos - openedNanos > connectTimeoutNanos) {
                protocol.onConnectTimeout();
            }
            return;
        }
        int keepAlive = protocol.keepAliveSeconds();
        if (protocol.connected() && keepAlive > 0 && nowNanos - lastReceivedNanos > keepAlive * 1_500_000_000L) {
            protocol.onKeepAliveTimeout();
        }
    }

    /** The node is stopping: the connection closes like any other (its close runs the session's handling). */
    io.netty.channel.ChannelFuture closeNow() {
        return socket.close();
    }

    // ---- Outbound ----

    @Override
    public boolean send(Packet packet) {
        if (closed) {
            return true; // nobody to send to; the session keeps what is unacknowledged
        }
        MqttVersion version = decoder.version() == null ? MqttVersion.V3_1_1 : decoder.version();
        Buffer bytes = PacketEncoder.encode(packet, version);
        if (bytes.length() > maxOutboundPacketSize) {
            bytes = packet instanceof Publish ? null : withoutReason(packet, version);
            if (bytes == null || bytes.length() > maxOutboundPacketSize) {
                // [MQTT-3.1.2-24] nothing larger than the client's Maximum Packet Size is sent.
                log.debug("connection {} ({}): {} not sent: over the client's maximum packet size of {} bytes",
                        remoteAddress(), protocol.clientId(), packet.type(), maxOutboundPacketSize);
                return false;
            }
        }
        metrics.bytesSent(bytes.length());
        ByteBuf out = ((BufferInternal) bytes).getByteBuf();
        if (!socket.eventLoop().inEventLoop()) {
            socket.writeAndFlush(out, socket.voidPromise());
            return true;
        }
        socket.write(out, socket.voidPromise());
        if (!flushPending) {
            flushPending = true;
            if (!reading) {
                socket.eventLoop().execute(flushTask);
            }
        }
        return true;
    }

    @Override
    public boolean writable() {
        return !closed && socket.isWritable();
    }

    /**
     * The packet without its Reason String and User Properties, which the server leaves out
     * where they would take it over the client's Maximum Packet Size ([MQTT-3.2.2-19],
     * [MQTT-3.2.2-20], [MQTT-3.4.2-2], [MQTT-3.14.2-3] and the like for every packet); null when
     * it has none. Only PUBLISH properties are shared between packets, so these may be changed.
     */
    private static Buffer withoutReason(Packet packet, MqttVersion version) {
        Properties p = null;
        if (packet instanceof ConnAck c) {
            p = c.properties();
        } else if (packet instanceof Ack a) {
            p = a.properties();
        } else if (packet instanceof SubAck a) {
            p = a.properties();
        } else if (packet instanceof UnsubAck a) {
            p = a.properties();
        } else if (packet instanceof Disconnect d) {
            p = d.properties();
        } else if (packet instanceof Auth a) {
            p = a.properties();
        }
        if (p == null || p == Properties.EMPTY || (p.reasonString == null && p.userProperties == null)) {
            return null;
        }
        p.reasonString = null;
        p.userProperties = null;
        return PacketEncoder.encode(packet, version);
    }

    /**
     * Ends the connection so that its client reads the last packet (a refusing CONNACK, a
     * DISCONNECT with its reason): once that is written, the output is shut down (FIN), what the
     * client still sends is read and discarded, and the socket closes at the client's EOF or after
     * {@link #LINGER_MS}. Closing at once would leave unread input in the receive buffer, and the
     * kernel answers a close over unread input with a reset, which makes the client's stack throw
     * away the packet it had not read yet (it saw "connection reset", not the reason code).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        lingering = true;
        socket.config().setAutoRead(true); // a paused connection must be read to see its EOF
        lingerTimer = socket.eventLoop().schedule(() -> {
            socket.close();
        }, LINGER_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        socket.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess() && socket instanceof io.netty.channel.socket.DuplexChannel duplex) {
                duplex.shutdownOutput();
            } else {
                socket.close();
            }
        });
    }

    /** How long a connection that was given its last packet waits for its client to close. */
    static final long LINGER_MS = 2_000;

    /**
     * host:port of the client (from its PROXY header where the listener takes one), formatted when
     * a log line asks for it rather than kept per connection.
     */
    @Override
    public String remoteAddress() {
        String proxied = socket.attr(ProxyHeader.CLIENT).get();
        if (proxied != null) {
            return proxied;
        }
        SocketAddress a = socket.remoteAddress();
        if (a instanceof InetSocketAddress i) {
            return (i.getAddress() == null ? i.getHostString() : i.getAddress().getHostAddress()) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    @Override
    public void limitPacketSize(long bytes) {
        maxOutboundPacketSize = bytes;
    }
}
