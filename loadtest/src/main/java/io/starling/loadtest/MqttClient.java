package io.starling.loadtest;

import io.starling.protocol.Ack;
import io.starling.protocol.ConnAck;
import io.starling.protocol.Connect;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.PacketType;
import io.starling.protocol.PingReq;
import io.starling.protocol.Properties;
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.starling.protocol.SubAck;
import io.starling.protocol.Subscribe;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * One MQTT client connection for load generation, speaking 3.1.1 or 5.0 with the
 * starling-protocol codec over a Vert.x {@link NetSocket}. Every method must run on the client's
 * {@link #context()} (one event loop), so the state needs no locks.
 *
 * <p>Cheap per connection: no thread, no per-message map; the QoS state is two bitmaps of packet
 * identifiers allocated only once the client publishes or receives at QoS 1/2. Outgoing packets
 * are gathered into one buffer and written once per handler run (a burst of publishes, or all the
 * acknowledgements for one read), which saves a flush and a syscall per packet.
 *
 * <p>Quality of service, as a client of a clean session must (no resend is ever needed since the
 * session is not resumed): outgoing QoS 1 waits for PUBACK, QoS 2 for PUBREC, answers PUBREL and
 * waits for PUBCOMP; incoming QoS 1 gets PUBACK, QoS 2 gets PUBREC and, on PUBREL, PUBCOMP, and a
 * QoS 2 PUBLISH whose identifier still awaits PUBREL is not delivered twice.
 */
public final class MqttClient {

    /** What the owner of the connection (a publisher, a subscriber) hears about. */
    public interface Listener {
        /** An application message arrived; nowNanos is System.nanoTime() at receipt. */
        default void onMessage(Publish publish, long nowNanos) {
        }

        /** A QoS 1/2 publish completed, or the socket's write queue drained: more may be sent. */
        default void onCanSend() {
        }

        /** The connection closed, for whatever reason. */
        default void onClosed() {
        }
    }

    static final long CONNACK_TIMEOUT_MS = 10_000;
    static final long SUBACK_TIMEOUT_MS = 10_000;
    private static final int MAX_PACKET_ID = 65_535;

    private final Vertx vertx;
    private final Context context;
    private final NetClient net;
    private final Options.HostPort host;
    private final String clientId;
    private final MqttVersion version;
    private final int keepAliveSeconds;
    private final int configuredWindow;
    private final Stats stats;
    private Listener listener = new Listener() { };

    private NetSocket socket;
    private PacketDecoder decoder;
    private Buffer pending;
    private boolean inHandler;
    private boolean closing;
    private boolean closed;

    private Promise<Void> connectPromise;
    private long connectAttemptNanos;
    private long connAckTimer = -1;
    private Promise<Void> subscribePromise;
    private int subscribePacketId;
    private long subAckTimer = -1;
    private long keepAliveTimer = -1;
    private boolean wroteSinceTick;
    private int pingsUnanswered;
    private Promise<Void> closePromise;

    /** Outgoing QoS 1/2: identifiers in flight, and (QoS 2) those past PUBREC awaiting PUBCOMP. */
    private BitSet outInflight;
    private BitSet outAwaitingComp;
    private int outInflightCount;
    private int nextPacketId = 1;
    private int window;
    /** Incoming QoS 2: identifiers PUBREC'd and awaiting PUBREL. */
    private BitSet inAwaitingRel;
    private long maxPacketSize = Long.MAX_VALUE;
    private String username;
    private byte[] password;

    public MqttClient(Vertx vertx, Context context, NetClient net, Options.HostPort host, String clientId,
                      Options options, Stats stats) {
        this.vertx = vertx;
        this.context = context;
        this.net = net;
        this.host = host;
        this.clientId = clientId;
        this.version = options.v5 ? MqttVersion.V5 : MqttVersion.V3_1_1;
        this.keepAliveSeconds = options.keepAliveSeconds;
        this.configuredWindow = options.inflight;
        this.window = options.inflight;
        this.stats = stats;
    }

    public Context context() {
        return context;
    }

    /** The username and password its CONNECT gives (none unless set, before connect). */
    public void credentials(String user, byte[] pass) {
        this.username = user;
        this.password = pass;
    }

    public String clientId() {
        return clientId;
    }

    public void listener(Listener listener) {
        this.listener = listener;
    }

    public boolean isConnected() {
        return socket != null && !closed && connectPromise != null && connectPromise.future().succeeded();
    }

    /** Opens TCP, sends CONNECT (clean session) and completes on a successful CONNACK. */
    public Future<Void> connect() {
        connectPromise = Promise.promise();
        connectAttemptNanos = System.nanoTime();
        stats.connectAttempt(connectAttemptNanos);
        net.connect(host.port(), host.host()).onComplete(ar -> {
            if (ar.failed()) {
                String msg = String.valueOf(ar.cause().getMessage()).toLowerCase();
                closed = true;
                boolean tls = ar.cause() instanceof javax.net.ssl.SSLException
                        || ar.cause().getCause() instanceof javax.net.ssl.SSLException;
                failConnect(tls ? "tls-handshake-failed" : msg.contains("timed out") || msg.contains("timeout")
                        ? "tcp-connect-timeout" : "tcp-connect-failed", ar.cause().toString());
                return;
            }
            onSocket(ar.result());
        });
        return connectPromise.future();
    }

    /**
     * Fails the connect once, counting it under this kind first (listeners of the promise read the
     * counters as soon as it completes); false when the connect had already ended.
     */
    private boolean failConnect(String kind, String why) {
        if (connectPromise.future().isComplete()) {
            return false;
        }
        stats.connectFailed(kind);
        connectPromise.fail(why);
        return true;
    }

    private void onSocket(NetSocket s) {
        socket = s;
        if (s.isSsl()) {
            stats.tlsSession(s.sslSession());
        }
        stats.openConnections.incrementAndGet();
        decoder = new PacketDecoder(Integer.MAX_VALUE);
        Connect connect = new Connect(version, clientId, true, keepAliveSeconds, Properties.EMPTY, null, username, password);
        Buffer bytes = PacketEncoder.encode(connect, version);
        try {
            // The decoder is written for the server side and learns the version from the first
            // CONNECT it decodes; show it ours, then it decodes what the server sends.
            decoder.feed(bytes.copy(), p -> { });
        } catch (ProtocolViolation e) {
            throw new IllegalStateException("our own CONNECT does not decode", e);
        }
        s.handler(this::onData);
        s.closeHandler(v -> onClose());
        s.exceptionHandler(e -> {
            // The close handler follows; count the cause only when we did not close on purpose.
            if (!closing) {
                stats.error("socket-exception");
            }
        });
        s.drainHandler(v -> listener.onCanSend());
        s.write(bytes);
        connAckTimer = vertx.setTimer(CONNACK_TIMEOUT_MS, t -> {
            connAckTimer = -1;
            if (failConnect("connack-timeout", "no CONNACK within " + CONNACK_TIMEOUT_MS + " ms")) {
                abort();
            }
        });
    }

    private void onData(Buffer data) {
        inHandler = true;
        try {
            decoder.feed(data, this::onPacket);
        } catch (ProtocolViolation | RuntimeException e) {
            stats.error("protocol-error");
            failConnect("protocol-error-before-connack", e.toString());
            abort();
        } finally {
            inHandler = false;
            flush();
        }
    }

    private void onPacket(Packet p) {
        switch (p.type()) {
            case CONNACK -> onConnAck((ConnAck) p);
            case PUBLISH -> onPublish((Publish) p);
            case PUBACK -> onPubAck((Ack) p);
            case PUBREC -> onPubRec((Ack) p);
            case PUBREL -> onPubRel((Ack) p);
            case PUBCOMP -> onPubComp((Ack) p);
            case SUBACK -> onSubAck((SubAck) p);
            case PINGRESP -> pingsUnanswered = 0;
            case DISCONNECT -> {
                stats.error(String.format("server-disconnect-0x%02x", ((Disconnect) p).reasonCode()));
                abort();
            }
            case CONNECT -> { } // our own, fed to the decoder at the start
            default -> stats.error("unexpected-" + p.type().name().toLowerCase());
        }
    }

    private void onConnAck(ConnAck ack) {
        cancel(connAckTimer);
        connAckTimer = -1;
        if (ack.reasonCode() != 0) {
            failConnect(String.format("connack-refused-0x%02x", ack.reasonCode()), "CONNACK refused");
            abort();
            return;
        }
        int keepAlive = keepAliveSeconds;
        Properties props = ack.properties();
        if (version.isV5() && props != null) {
            if (props.receiveMaximum != null) {
                // MQTT-3.3.4-7: never more unacknowledged QoS 1/2 PUBLISHes than the server's Receive Maximum.
                window = Math.min(configuredWindow, props.receiveMaximum);
            }
            if (props.serverKeepAlive != null) {
                keepAlive = props.serverKeepAlive; // MQTT-3.2.2-21: the server's value replaces ours
            }
            if (props.maximumPacketSize != null) {
                maxPacketSize = props.maximumPacketSize;
            }
        }
        if (!connectPromise.future().isComplete()) {
            // Counted before the promise completes: its listeners (the run's connect phase) read the counters.
            stats.connectSucceeded(connectAttemptNanos, System.nanoTime());
            connectPromise.complete();
            startKeepAlive(keepAlive);
        }
    }

    /** Sends PINGREQ when nothing else was written for half the keep-alive; bounded by the connection. */
    private void startKeepAlive(int seconds) {
        if (seconds <= 0) {
            return;
        }
        long halfMs = Math.max(500, seconds * 500L);
        keepAliveTimer = vertx.setPeriodic(halfMs, halfMs, t -> {
            if (closed) {
                return;
            }
            if (pingsUnanswered >= 2) {
                stats.error("ping-timeout");
                abort();
                return;
            }
            if (!wroteSinceTick) {
                pingsUnanswered++;
                send(PingReq.INSTANCE);
                flush();
            }
            wroteSinceTick = false;
        });
    }

    /** SUBSCRIBE to the filters at one QoS; completes when SUBACK grants every one. */
    public Future<Void> subscribe(List<String> filters, int qos) {
        subscribePromise = Promise.promise();
        if (!isConnected()) {
            subscribePromise.fail("not connected");
            return subscribePromise.future();
        }
        List<Subscribe.Request> requests = new ArrayList<>(filters.size());
        for (String f : filters) {
            requests.add(new Subscribe.Request(f, qos, false, false, 0));
        }
        subscribePacketId = 1;
        send(new Subscribe(subscribePacketId, Properties.EMPTY, requests));
        flush();
        subAckTimer = vertx.setTimer(SUBACK_TIMEOUT_MS, t -> {
            subAckTimer = -1;
            if (!subscribePromise.future().isComplete()) {
                stats.error("suback-timeout");
                subscribePromise.fail("no SUBACK within " + SUBACK_TIMEOUT_MS + " ms");
            }
        });
        return subscribePromise.future();
    }

    private void onSubAck(SubAck ack) {
        cancel(subAckTimer);
        subAckTimer = -1;
        if (subscribePromise == null || ack.packetId() != subscribePacketId) {
            stats.error("unexpected-suback");
            return;
        }
        for (int code : ack.reasonCodes()) {
            if (code >= 0x80) {
                if (!subscribePromise.future().isComplete()) {
                    stats.error(String.format("suback-refused-0x%02x", code));
                    subscribePromise.fail(String.format("SUBACK refused a filter: 0x%02x", code));
                }
                return;
            }
        }
        subscribePromise.tryComplete();
    }

    /**
     * True when one more publish at this QoS may go now: for QoS 1/2 while fewer than the window
     * (--inflight, capped by the server's Receive Maximum) are unacknowledged; for QoS 0 while the
     * socket's write queue is below its high-water mark.
     */
    public boolean canPublish(int qos) {
        if (!isConnected() || closing) {
            return false;
        }
        if (qos > 0) {
            return outInflightCount < window && outInflightCount < MAX_PACKET_ID;
        }
        return !socket.writeQueueFull();
    }

    public int inflight() {
        return outInflightCount;
    }

    /**
     * Queues a PUBLISH (written by the next {@link #flush()}, or at the end of the current read).
     * The caller checked {@link #canPublish(int)}.
     */
    public void publish(String topic, int qos, byte[] payload) {
        int packetId = 0;
        if (qos > 0) {
            if (outInflight == null) {
                outInflight = new BitSet(MAX_PACKET_ID + 1);
                outAwaitingComp = new BitSet(MAX_PACKET_ID + 1);
            }
            packetId = allocatePacketId();
            outInflight.set(packetId);
            outInflightCount++;
            stats.inflight.incrementAndGet();
        }
        Publish p = new Publish(qos, false, false, topic, packetId, Properties.EMPTY, payload);
        Buffer bytes = PacketEncoder.encode(p, version);
        if (bytes.length() > maxPacketSize) {
            stats.error("publish-exceeds-server-maximum-packet-size");
            if (packetId != 0) {
                complete(packetId);
            }
            return;
        }
        append(bytes);
    }

    /** The next identifier not in flight, cycling 1..65535 (the caller keeps the count below 65535). */
    private int allocatePacketId() {
        int id = nextPacketId;
        while (outInflight.get(id)) {
            id = id == MAX_PACKET_ID ? 1 : id + 1;
        }
        nextPacketId = id == MAX_PACKET_ID ? 1 : id + 1;
        return id;
    }

    private void onPubAck(Ack ack) {
        int id = ack.packetId();
        if (outInflight == null || !outInflight.get(id) || outAwaitingComp.get(id)) {
            stats.error("unexpected-puback");
            return;
        }
        if (ack.reasonCode() >= 0x80) {
            stats.error(String.format("publish-refused-0x%02x", ack.reasonCode()));
        }
        complete(id);
        listener.onCanSend();
    }

    private void onPubRec(Ack ack) {
        int id = ack.packetId();
        if (outInflight == null || !outInflight.get(id)) {
            // MQTT-4.3.3: answer with PUBREL anyway (5.0: reason 0x92, identifier not found) so the server can finish.
            stats.error("unexpected-pubrec");
            send(new Ack(PacketType.PUBREL, id, version.isV5() ? 0x92 : 0, Properties.EMPTY));
            return;
        }
        if (ack.reasonCode() >= 0x80) {
            // A PUBREC with a failure reason ends the flow (MQTT 5.0 4.3.3): no PUBREL.
            stats.error(String.format("publish-refused-0x%02x", ack.reasonCode()));
            complete(id);
            listener.onCanSend();
            return;
        }
        outAwaitingComp.set(id);
        send(Ack.of(PacketType.PUBREL, id, 0));
    }

    private void onPubComp(Ack ack) {
        int id = ack.packetId();
        if (outInflight == null || !outAwaitingComp.get(id)) {
            stats.error("unexpected-pubcomp");
            return;
        }
        complete(id);
        listener.onCanSend();
    }

    private void complete(int id) {
        outInflight.clear(id);
        outAwaitingComp.clear(id);
        outInflightCount--;
        stats.inflight.decrementAndGet();
    }

    private void onPublish(Publish p) {
        long now = System.nanoTime();
        switch (p.qos()) {
            case 0 -> listener.onMessage(p, now);
            case 1 -> {
                listener.onMessage(p, now);
                send(Ack.of(PacketType.PUBACK, p.packetId(), 0));
            }
            default -> {
                if (inAwaitingRel == null) {
                    inAwaitingRel = new BitSet(MAX_PACKET_ID + 1);
                }
                // A resent PUBLISH for an identifier still awaiting PUBREL is the same message (MQTT-4.3.3-10).
                if (!inAwaitingRel.get(p.packetId())) {
                    inAwaitingRel.set(p.packetId());
                    listener.onMessage(p, now);
                }
                send(Ack.of(PacketType.PUBREC, p.packetId(), 0));
            }
        }
    }

    private void onPubRel(Ack ack) {
        if (inAwaitingRel == null || !inAwaitingRel.get(ack.packetId())) {
            stats.error("unexpected-pubrel");
            send(new Ack(PacketType.PUBCOMP, ack.packetId(), version.isV5() ? 0x92 : 0, Properties.EMPTY));
            return;
        }
        inAwaitingRel.clear(ack.packetId());
        send(Ack.of(PacketType.PUBCOMP, ack.packetId(), 0));
    }

    private void send(Packet p) {
        append(PacketEncoder.encode(p, version));
    }

    private void append(Buffer bytes) {
        if (closed) {
            return;
        }
        if (pending == null) {
            // Vert.x buffers grow on append, so the first packet's buffer gathers the ones after it.
            pending = bytes;
        } else {
            pending.appendBuffer(bytes);
        }
        wroteSinceTick = true;
        if (pending.length() >= 65_536) {
            flush();
        }
    }

    /** Writes what was queued, unless inside a read, which flushes once at its end. */
    public void flush() {
        if (pending == null || closed) {
            pending = null;
            return;
        }
        if (inHandler && pending.length() < 65_536) {
            return; // onData flushes once when the read is processed
        }
        Buffer b = pending;
        pending = null;
        socket.write(b);
    }

    /** Sends DISCONNECT and closes; completes when the socket closed (at most 2 s later). */
    public Future<Void> disconnect() {
        if (closed || socket == null) {
            return Future.succeededFuture();
        }
        if (closePromise != null) {
            return closePromise.future();
        }
        closing = true;
        closePromise = Promise.promise();
        send(new Disconnect(0, Properties.EMPTY));
        flush();
        socket.end();
        vertx.setTimer(2_000, t -> {
            if (!closed) {
                socket.close();
            }
        });
        return closePromise.future();
    }

    /** Closes at once, without DISCONNECT (after an error). */
    public void abort() {
        closing = true;
        if (socket != null && !closed) {
            socket.close();
        }
    }

    private void onClose() {
        if (!closing) {
            stats.error("connection-lost");
        }
        closed = true;
        pending = null;
        stats.openConnections.decrementAndGet();
        cancel(connAckTimer);
        cancel(subAckTimer);
        cancel(keepAliveTimer);
        if (connectPromise != null) {
            failConnect("closed-before-connack", "connection closed before CONNACK");
        }
        if (subscribePromise != null) {
            subscribePromise.tryFail("connection closed before SUBACK");
        }
        // What was in flight will never complete on this connection: take it out of the gauge.
        stats.inflight.addAndGet(-outInflightCount);
        outInflightCount = 0;
        if (closePromise != null) {
            closePromise.tryComplete();
        }
        listener.onClosed();
    }

    private void cancel(long timer) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }
}
