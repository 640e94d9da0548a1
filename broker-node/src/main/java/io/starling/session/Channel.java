package io.starling.session;

import io.starling.metrics.DropReason;
import io.starling.protocol.Ack;
import io.starling.protocol.ConnAck;
import io.starling.protocol.Connect;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketType;
import io.starling.protocol.PingResp;
import io.starling.protocol.Properties;
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import io.starling.protocol.SubAck;
import io.starling.protocol.Subscribe;
import io.starling.protocol.UnsubAck;
import io.starling.protocol.Unsubscribe;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscription;
import io.starling.topic.InvalidTopicException;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol state machine of one network connection (CONNECT, then the session's packets,
 * then close). It decides what to send and hands packets to {@link Outbound}; it does no I/O of
 * its own, so version differences and every rule live here and in the codec, not in the
 * transport. Confined to the connection's context.
 */
public final class Channel {
    private static final Logger log = LoggerFactory.getLogger(Channel.class);

    /** What a CONNECT asks of the session registry. */
    record AttachRequest(String clientId, boolean cleanStart, long expirySeconds, Connect.Will will) {
    }

    private enum State { AWAIT_CONNECT, CONNECTING, CONNECTED, CLOSED }

    private final Outbound out;
    private final Services services;
    private final ContextInternal context;
    private final Runnable pauseInput;
    private final Runnable resumeInput;

    private State state = State.AWAIT_CONNECT;
    private MqttVersion version;
    private String clientId;
    private SessionRef ref;
    private Session session;
    private int keepAliveSeconds;
    private int clientReceiveMaximum = 65_535;
    private int clientTopicAliasMaximum;
    private long connectExpirySeconds;
    private long expirySeconds;
    private boolean publishWillOnClose = true;
    /** Topic aliases the client set [MQTT-3.3.2-10]; created with the first one (most clients set none). */
    private Map<Integer, String> inboundAliases;
    /** Packets that came between CONNECT and CONNACK (rare): smallest size, not ArrayDeque's 16 slots. */
    private final ArrayDeque<Packet> heldUntilAttached = new ArrayDeque<>(0);
    private final OrderedReplies replies;

    public Channel(Outbound out, Services services, ContextInternal context, Runnable pauseInput, Runnable resumeInput) {
        this.out = out;
        this.services = services;
        this.context = context;
        this.pauseInput = pauseInput;
        this.resumeInput = resumeInput;
        this.replies = new OrderedReplies(context);
    }

    // ---- accessors used by the session and the transport ----

    ContextInternal context() {
        return context;
    }

    Outbound outbound() {
        return out;
    }

    MqttVersion version() {
        return version;
    }

    int clientReceiveMaximum() {
        return clientReceiveMaximum;
    }

    int clientTopicAliasMaximum() {
        return clientTopicAliasMaximum;
    }

    public String clientId() {
        return clientId;
    }

    public boolean connected() {
        return state == State.CONNECTED;
    }

    public boolean awaitingConnect() {
        return state == State.AWAIT_CONNECT;
    }

    /** The keep-alive the broker enforces (at 1.5 times, [MQTT-3.1.2-24]); 0 means none. */
    public int keepAliveSeconds() {
        return keepAliveSeconds;
    }

    // ---- input from the transport ----

    public void onPacket(Packet p) {
        switch (state) {
            case AWAIT_CONNECT -> onConnect((Connect) p); // the decoder admits nothing else first [MQTT-3.1.0-1]
            case CONNECTING -> {
                heldUntilAttached.add(p);
                pauseInput.run();
            }
            case CONNECTED -> onSessionPacket(p);
            case CLOSED -> { }
        }
    }

    /**
     * A decoding error. {@code decoderVersion} is the version the decoder read from CONNECT, which
     * lets a CONNECT that fails after its protocol level be answered in the client's version.
     */
    public void onDecodingViolation(ProtocolViolation v, MqttVersion decoderVersion) {
        if (version == null) {
            version = decoderVersion;
        }
        onViolation(v);
    }

    /** The one path for a peer that broke a rule: log, count, answer as the version requires, close. */
    public void onViolation(ProtocolViolation v) {
        if (state == State.CLOSED) {
            return;
        }
        log.info("client {} ({}) broke [{}]: {}; closing with {}", clientId == null ? "<before CONNECT>" : clientId,
                out.remoteAddress(), v.rule(), v.getMessage(), ReasonCode.name(v.reasonCode()));
        services.metrics.protocolError(v.reasonCode());
        lastWord(v.reasonCode(), v.getMessage(), "[" + v.rule() + "] " + v.getMessage());
        close(true);
    }

    /**
     * Handling this connection's input failed inside the broker (the transport logged it): the
     * client is told 0x83 (5.0) and the connection closes, as for a violation but counted as ours.
     */
    public void onInternalError(Throwable cause, MqttVersion decoderVersion) {
        if (version == null) {
            version = decoderVersion;
        }
        if (state == State.CLOSED) {
            return;
        }
        services.metrics.internalError();
        String why = "the broker failed handling this connection's input (" + cause.getClass().getSimpleName() + ")";
        lastWord(ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR, why, why);
        close(true);
    }

    /**
     * What the client hears before its connection is closed for {@code reasonCode}: before CONNACK
     * a refusing CONNACK (5.0, or 3.1.1 for an unsupported version [MQTT-3.1.2-2]), after it a
     * DISCONNECT (5.0 only; 3.1.1 has none from the server).
     */
    private void lastWord(int reasonCode, String connAckText, String disconnectText) {
        if (state == State.AWAIT_CONNECT || state == State.CONNECTING) {
            MqttVersion ver = version;
            if (reasonCode == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION) {
                // [MQTT-3.1.2-2] answer CONNACK 0x84 (5.0) / return code 1 (3.1.1), then close.
                out.send(new ConnAck(false, ver == null || !ver.isV5()
                        ? ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION : ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
                        Properties.EMPTY));
            } else if (ver != null && ver.isV5() && state == State.AWAIT_CONNECT) {
                out.send(new ConnAck(false, reasonCode, reasonString(connAckText)));
            }
        } else if (version.isV5()) {
            out.send(new Disconnect(reasonCode, reasonString(disconnectText)));
        }
    }

    public void onWritable() {
        if (session != null) {
            session.pump();
        }
    }

    public void onKeepAliveTimeout() {
        onViolation(new ProtocolViolation(ReasonCode.KEEP_ALIVE_TIMEOUT, "MQTT-3.1.2-24",
                "nothing received for 1.5 times the keep-alive of " + keepAliveSeconds + " s"));
    }

    public void onConnectTimeout() {
        log.info("connection {} sent no CONNECT within {} s; closing", out.remoteAddress(),
                services.config.connectTimeoutSeconds());
        services.metrics.protocolError(ReasonCode.MAXIMUM_CONNECT_TIME);
        close(true);
    }

    /** The socket closed, for whatever reason. */
    public void onClosed() {
        State was = state;
        state = State.CLOSED;
        replies.close();
        if (was == State.CONNECTED && session != null) {
            Session s = session;
            session = null;
            s.ref.connectionLost(this, publishWillOnClose, expirySeconds);
        }
    }

    // ---- CONNECT ----

    private void onConnect(Connect c) {
        version = c.version();
        Properties p = c.properties() == null ? Properties.EMPTY : c.properties();
        if (version.isV5() && p.maximumPacketSize != null) {
            out.limitPacketSize(p.maximumPacketSize); // [MQTT-3.1.2-24]
        }
        if (services.leaving) {
            // This node is leaving the cluster: the client should connect to another one.
            refuse(ReasonCode.SERVER_UNAVAILABLE, "4.13", "this node is shutting down");
            return;
        }
        if (p.authenticationMethod != null) {
            refuse(ReasonCode.BAD_AUTHENTICATION_METHOD, "MQTT-4.12.0-1",
                    "enhanced authentication method '" + p.authenticationMethod + "' is not supported");
            return;
        }
        String id = c.clientId();
        Properties ack = new Properties();
        if (id.isEmpty()) {
            if (version == MqttVersion.V3_1 || (version == MqttVersion.V3_1_1 && !c.cleanStart())) {
                // [MQTT-3.1.3-8] an empty identifier needs Clean Session; 3.1 needs 1 to 23 characters.
                refuse(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "MQTT-3.1.3-8",
                        "empty client identifier without clean session");
                return;
            }
            id = "auto-" + UUID.randomUUID();
            if (version.isV5()) {
                ack.assignedClientIdentifier = id; // [MQTT-3.2.2-16]
            }
        }
        clientId = id;
        int cap = services.config.maxKeepAliveSeconds();
        keepAliveSeconds = c.keepAliveSeconds();
        if (version.isV5() && (keepAliveSeconds == 0 || keepAliveSeconds > cap)) {
            keepAliveSeconds = cap; // [MQTT-3.2.2-21] the client must use the Server Keep Alive
            ack.serverKeepAlive = cap;
        }
        long maxExpiry = services.config.maxSessionExpirySeconds();
        if (version.isV5()) {
            long requested = p.sessionExpiryInterval == null ? 0 : p.sessionExpiryInterval;
            connectExpirySeconds = Math.min(requested, maxExpiry);
            if (connectExpirySeconds != requested) {
                ack.sessionExpiryInterval = connectExpirySeconds;
            }
            clientReceiveMaximum = p.receiveMaximum == null ? 65_535 : p.receiveMaximum;
            clientTopicAliasMaximum = p.topicAliasMaximum == null ? 0 : p.topicAliasMaximum;
            ack.receiveMaximum = services.config.receiveMaximum();
            ack.maximumPacketSize = (long) services.config.maxPacketSize();
            if (services.config.topicAliasMaximum() > 0) {
                ack.topicAliasMaximum = services.config.topicAliasMaximum();
            }
        } else {
            // 3.1.1: Clean Session 0 keeps the session until the broker's cap.
            connectExpirySeconds = c.cleanStart() ? 0 : maxExpiry;
            clientReceiveMaximum = services.config.maxInflight();
        }
        expirySeconds = connectExpirySeconds;
        Connect.Will will = c.will();
        if (will != null) {
            try {
                TopicName.of(will.topic());
            } catch (InvalidTopicException e) {
                refuse(ReasonCode.TOPIC_NAME_INVALID, e.rule(), "will topic: " + e.getMessage());
                return;
            }
        }
        connAckProperties = ack;
        state = State.CONNECTING;
        pauseInput.run();
        services.registry.connect(this, new AttachRequest(id, c.cleanStart(), connectExpirySeconds, will));
    }

    private Properties connAckProperties;

    /**
     * Refuses a CONNECT: CONNACK with the reason (3.1.1: nearest return code), log, count, close.
     * A refusal for who the client is (e.g. 0x8C) counts as an authentication failure, not as a
     * protocol error: the two answer different questions on a dashboard.
     */
    private void refuse(int reasonCode, String rule, String why) {
        log.info("client {} ({}) refused [{}]: {}", clientId, out.remoteAddress(), rule, why);
        if (io.starling.metrics.BrokerMetrics.isAuthFailure(reasonCode)) {
            services.metrics.authFailure(reasonCode);
        } else {
            services.metrics.protocolError(reasonCode);
        }
        out.send(new ConnAck(false, version.isV5() ? reasonCode : ReasonCode.toV3ConnAck(reasonCode),
                version.isV5() ? reasonString(why) : Properties.EMPTY));
        close(true);
    }

    /** The registry attached the session to this connection; runs on this context. */
    void attached(SessionRef ref, Session s, boolean present) {
        this.ref = ref;
        if (state == State.CLOSED) {
            // The socket went while the session was being claimed: the session is simply offline again.
            s.channel = this;
            s.attaching = false;
            ref.connectionLost(this, true, expirySeconds);
            return;
        }
        session = s;
        state = State.CONNECTED;
        // [MQTT-3.2.2-1] Session Present is 0 for a clean start; 3.1 has no such flag.
        boolean sessionPresent = present && version != MqttVersion.V3_1;
        out.send(new ConnAck(sessionPresent, ReasonCode.SUCCESS, version.isV5() ? connAckProperties : Properties.EMPTY));
        connAckProperties = null; // sent: not kept for the life of the connection
        s.attach(this);
        while (!heldUntilAttached.isEmpty() && state == State.CONNECTED) {
            onSessionPacket(heldUntilAttached.poll());
        }
        resumeInput.run();
    }

    /**
     * A CONNECT that lost a race: another node claimed the identifier after this one, so that
     * connection wins [MQTT-3.1.4-3]. No CONNACK was sent; the connection is closed.
     */
    void superseded() {
        log.info("client {} ({}): a newer connection on another node took the client identifier", clientId,
                out.remoteAddress());
        state = State.CLOSED;
        replies.close();
        out.close();
    }

    /** This node is leaving the cluster: 5.0 clients are told 0x8B (spec 4.13) and every client is closed. */
    void serverShuttingDown() {
        if (state == State.CLOSED) {
            return;
        }
        if (version.isV5()) {
            out.send(new Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, Properties.EMPTY));
        }
        session = null;
        state = State.CLOSED;
        replies.close();
        out.close();
    }

    /** Another connection took this client identifier; runs on this context. */
    void takenOver() {
        if (state == State.CLOSED) {
            return;
        }
        log.info("client {} ({}): session taken over by a new connection", clientId, out.remoteAddress());
        if (version.isV5()) {
            out.send(new Disconnect(ReasonCode.SESSION_TAKEN_OVER, Properties.EMPTY));
        }
        session = null;
        state = State.CLOSED;
        replies.close();
        out.close();
    }

    // ---- packets of a connected session ----

    private void onSessionPacket(Packet p) {
        switch (p.type()) {
            case PUBLISH -> onPublish((Publish) p);
            case PUBACK, PUBREC, PUBREL, PUBCOMP -> onAck((Ack) p);
            case SUBSCRIBE -> onSubscribe((Subscribe) p);
            case UNSUBSCRIBE -> onUnsubscribe((Unsubscribe) p);
            case PINGREQ -> out.send(PingResp.INSTANCE);
            case DISCONNECT -> onDisconnect((Disconnect) p);
            case CONNECT -> onViolation(ProtocolViolation.protocolError("MQTT-3.1.0-2", "second CONNECT"));
            case AUTH -> onViolation(ProtocolViolation.protocolError("MQTT-4.12.0-2",
                    "AUTH without an authentication method in CONNECT"));
            default -> onViolation(ProtocolViolation.protocolError("2.1.2",
                    p.type() + " is sent by servers only"));
        }
    }

    private void onPublish(Publish p) {
        services.metrics.messageReceived(p.qos());
        String topic = p.topic();
        Properties props = p.properties() == null ? Properties.EMPTY : p.properties();
        if (version.isV5() && props.topicAlias != null) {
            int alias = props.topicAlias;
            if (alias == 0 || alias > services.config.topicAliasMaximum()) {
                // [MQTT-3.3.2-8] alias 0, [MQTT-3.3.2-9] above our Topic Alias Maximum
                onViolation(new ProtocolViolation(ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-9",
                        "topic alias " + alias + " outside 1.." + services.config.topicAliasMaximum()));
                return;
            }
            if (topic.isEmpty()) {
                topic = inboundAliases == null ? null : inboundAliases.get(alias);
                if (topic == null) {
                    onViolation(ProtocolViolation.protocolError("3.3.2.3.4",
                            "topic alias " + alias + " used before it was set"));
                    return;
                }
            } else {
                if (inboundAliases == null) {
                    inboundAliases = new HashMap<>();
                }
                inboundAliases.put(alias, topic);
            }
        }
        TopicName name;
        try {
            name = TopicName.of(topic);
        } catch (InvalidTopicException e) {
            onViolation(new ProtocolViolation(ReasonCode.TOPIC_NAME_INVALID, e.rule(), e.getMessage()));
            return;
        }
        int qos = p.qos();
        if (qos == 2 && !session.inboundQos2Pending(p.packetId())
                && session.inboundQos2Count() >= services.config.receiveMaximum()) {
            onViolation(new ProtocolViolation(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "MQTT-3.3.4-9 (3.3.4)",
                    "more than Receive Maximum " + services.config.receiveMaximum() + " QoS 2 publishes unacknowledged"));
            return;
        }
        if (name.isSystem() && topic.startsWith("$SYS")) {
            // $SYS is the broker's; clients' publishes there are refused, not routed.
            log.debug("client {}: publish to {} refused", clientId, topic);
            services.metrics.dropped(DropReason.NOT_AUTHORIZED);
            replies.now(() -> acknowledge(p, ReasonCode.NOT_AUTHORIZED));
            return;
        }
        if (qos == 2 && !session.inboundQos2Begin(p.packetId())) {
            // [MQTT-4.3.3-10] a resend of a QoS 2 publish we have: answer PUBREC, do not route again.
            replies.now(() -> out.send(Ack.of(PacketType.PUBREC, p.packetId(), ReasonCode.SUCCESS)));
            return;
        }
        Long expiry = version.isV5() ? props.messageExpiryInterval : null;
        long now = expiry == null ? 0 : System.currentTimeMillis();
        Message m = new Message(topic, p.payload(), qos, p.retain(), Message.forwardedProperties(props),
                expiry == null ? 0 : now + expiry * 1000, clientId, System.nanoTime());
        if (qos == 0) {
            Congestion.clear(); // QoS 1/2 publishers are slowed by their held acknowledgements instead
        }
        Future<Integer> reached = services.router.publish(name, m);
        SessionRef congested = qos == 0 ? Congestion.signalled() : null;
        if (congested != null) {
            slowDown(congested);
        }
        if (qos == 2) {
            var keeper = session.inboundKeeper(p.packetId());
            if (keeper != null) {
                reached = reached.compose(keeper);
            }
        }
        if (qos > 0) {
            // The answer waits until every node the message went to has accepted it.
            replies.after(reached, n -> acknowledge(p, n != null && n == 0 && version.isV5()
                    ? ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS));
        }
    }

    /** True while reading from this client is paused because its QoS 0 messages fill a subscriber's backlog. */
    private boolean slowedDown;
    /** Tells a pause's ends (its turn came, the timer) from those of an earlier pause. */
    private long slowDownGeneration;
    private long slowDownTimer = -1;

    /**
     * Backpressure for QoS 0, which has no acknowledgement to hold back: stop reading from this
     * publisher until the subscriber it floods has drained its backlog and wakes it (one publisher
     * at a time), instead of reading, routing and then dropping what it sends. A paused publisher's
     * TCP window closes, so a client that writes flat out is held to what its subscribers take.
     * A subscriber that stops writing holds nobody back for more than a second (then its messages
     * are dropped, counted as queue_full), and the pause is re-checked every
     * {@link #SLOW_DOWN_CHECK_MILLIS}.
     */
    private void slowDown(SessionRef congested) {
        if (slowedDown || state != State.CONNECTED) {
            return;
        }
        slowedDown = true;
        long generation = ++slowDownGeneration;
        pauseInput.run();
        armSlowDownCheck(congested, generation);
        congested.whenDrained(() -> context.runOnContext(v -> endSlowDown(generation)));
    }

    private void armSlowDownCheck(SessionRef congested, long generation) {
        slowDownTimer = services.vertx.setTimer(SLOW_DOWN_CHECK_MILLIS, t -> {
            slowDownTimer = -1;
            if (slowedDown && generation == slowDownGeneration && congested.congested() && congested.holdsPublishers()) {
                armSlowDownCheck(congested, generation); // still its turn to wait
            } else {
                endSlowDown(generation);
            }
        });
    }

    private void endSlowDown(long generation) {
        if (!slowedDown || generation != slowDownGeneration) {
            return;
        }
        slowedDown = false;
        if (slowDownTimer >= 0) {
            services.vertx.cancelTimer(slowDownTimer);
            slowDownTimer = -1;
        }
        if (state == State.CONNECTED) {
            resumeInput.run();
        }
    }

    private static final long SLOW_DOWN_CHECK_MILLIS = 50;

    private void acknowledge(Publish p, int reasonCode) {
        if (p.qos() == 1) {
            out.send(Ack.of(PacketType.PUBACK, p.packetId(), reasonCode));
        } else if (p.qos() == 2) {
            if (reasonCode >= 0x80) {
                session.inboundQos2Release(p.packetId());
            }
            out.send(Ack.of(PacketType.PUBREC, p.packetId(), reasonCode));
        }
    }

    private void onAck(Ack a) {
        switch (a.type()) {
            case PUBACK -> session.onPuback(a.packetId());
            case PUBREC -> replies.after(session.onPubrec(a.packetId(), a.reasonCode()), rc -> {
                if (rc != null && rc >= 0) {
                    out.send(Ack.of(PacketType.PUBREL, a.packetId(), rc)); // [MQTT-4.6.0-4] in PUBREC order
                }
            });
            case PUBREL -> {
                boolean known = session.inboundQos2Release(a.packetId());
                replies.now(() -> out.send(Ack.of(PacketType.PUBCOMP, a.packetId(),
                        known ? ReasonCode.SUCCESS : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND)));
            }
            case PUBCOMP -> session.onPubcomp(a.packetId());
            default -> throw new IllegalStateException(a.type().toString());
        }
    }

    private void onSubscribe(Subscribe s) {
        Properties props = s.properties() == null ? Properties.EMPTY : s.properties();
        int subscriptionId = props.subscriptionIdentifiers == null || props.subscriptionIdentifiers.isEmpty()
                ? 0 : props.subscriptionIdentifiers.get(0);
        int[] codes = new int[s.requests().size()];
        List<Subscription> sendRetained = new ArrayList<>();
        for (int i = 0; i < codes.length; i++) {
            Subscribe.Request r = s.requests().get(i);
            TopicFilter filter;
            try {
                filter = TopicFilter.of(r.filter());
            } catch (InvalidTopicException e) {
                log.info("client {} ({}): invalid topic filter '{}' [{}]: {}", clientId, out.remoteAddress(),
                        r.filter(), e.rule(), e.getMessage());
                services.metrics.protocolError(ReasonCode.TOPIC_FILTER_INVALID);
                codes[i] = version.isV5() ? ReasonCode.TOPIC_FILTER_INVALID : 0x80;
                continue;
            }
            if (filter.isShared() && r.noLocal()) {
                onViolation(ProtocolViolation.protocolError("MQTT-3.8.3-4", "No Local on shared subscription "
                        + r.filter()));
                return;
            }
            Subscription sub = new Subscription(clientId, filter, Math.min(r.qos(), 2), r.noLocal(),
                    r.retainAsPublished(), r.retainHandling(), subscriptionId);
            boolean existed = session.subscribe(sub);
            codes[i] = sub.qos(); // [MQTT-3.8.4-8] the granted QoS
            // [MQTT-3.3.1-9..11] Retain Handling; never for shared subscriptions (spec 4.8.2).
            if (!filter.isShared() && (r.retainHandling() == 0 || (r.retainHandling() == 1 && !existed))) {
                sendRetained.add(sub);
            }
        }
        // The SUBACK waits until every node routes the new filters here, and the session's record
        // with them is backed up (issue 3).
        Future<Void> ready = session.recordWritten.isComplete() ? services.router.routesSettled()
                : Future.join(services.router.routesSettled(), session.recordWritten).mapEmpty();
        replies.after(ready, v -> {
            out.send(new SubAck(s.packetId(), Properties.EMPTY, codes));
            long now = System.currentTimeMillis();
            for (Subscription sub : sendRetained) {
                int[] ids = sub.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {sub.subscriptionId()};
                services.router.retained().match(sub.filter(), now, m ->
                        // [MQTT-3.3.1-8] retained messages sent on subscribe carry RETAIN=1. Its
                        // publish was long ago: no accept time, so no publish-to-delivery latency.
                        session.deliver(new Delivery(m.withoutAcceptTime(), Math.min(m.qos(), sub.qos()), true, ids,
                                null)));
            }
        });
    }

    private void onUnsubscribe(Unsubscribe u) {
        int[] codes = new int[u.filters().size()];
        for (int i = 0; i < codes.length; i++) {
            try {
                codes[i] = session.unsubscribe(TopicFilter.of(u.filters().get(i)))
                        ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED;
            } catch (InvalidTopicException e) {
                codes[i] = ReasonCode.TOPIC_FILTER_INVALID;
            }
        }
        replies.now(() -> out.send(new UnsubAck(u.packetId(), Properties.EMPTY, codes)));
    }

    private void onDisconnect(Disconnect d) {
        Properties props = d.properties() == null ? Properties.EMPTY : d.properties();
        if (props.sessionExpiryInterval != null) {
            if (connectExpirySeconds == 0 && props.sessionExpiryInterval != 0) {
                onViolation(ProtocolViolation.protocolError("MQTT-3.14.2-2",
                        "Session Expiry Interval set on DISCONNECT after 0 on CONNECT"));
                return;
            }
            expirySeconds = Math.min(props.sessionExpiryInterval, services.config.maxSessionExpirySeconds());
        }
        // [MQTT-3.14.4-3] a normal DISCONNECT discards the will; 0x04 asks for it to be published.
        publishWillOnClose = version.isV5() && d.reasonCode() == ReasonCode.DISCONNECT_WITH_WILL;
        close(false);
    }

    private void close(boolean abnormal) {
        if (abnormal) {
            publishWillOnClose = true;
        }
        out.close();
        onClosed();
    }

    private Properties reasonString(String text) {
        Properties p = new Properties();
        p.reasonString = text;
        return p;
    }

    /** For the $SYS and metrics views: this connection's session queue depth. */
    public int queued() {
        return session == null ? 0 : session.queued();
    }
}
