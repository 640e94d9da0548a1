package io.starling.session;

import io.starling.auth.Acl;
import io.starling.auth.Authenticator;
import io.starling.metrics.BrokerMetrics;
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
import io.starling.routing.PublishRefused;
import io.starling.routing.Subscription;
import io.starling.topic.InvalidTopicException;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT protocol state machine of one network connection (CONNECT, then the session's
 * packets, then close). It decides what to send and hands packets to {@link Outbound}; it does no
 * I/O of its own, so version differences and every rule live here and in the codec, not in the
 * transport. Confined to the connection's context.
 */
public final class MqttProtocol {
    private static final Logger log = LoggerFactory.getLogger(MqttProtocol.class);

    /** What a CONNECT asks of the session registry. */
    record AttachRequest(String clientId, boolean cleanStart, long expirySeconds, Connect.Will will) {
    }

    private enum State { AWAIT_CONNECT, CONNECTING, CONNECTED, CLOSED }

    private final Outbound out;
    private final Services services;
    /** The listener's: what this connection's client must prove, and how. */
    private final Authenticator authenticator;
    private final ContextInternal context;
    private final InputGate input;
    /** Who the authenticator let in (null: anonymous) and on what grounds, checked again on reload. */
    private String authUser;
    private String authGrant;
    /** What the ACL file (and its proof's rights) let this client do; compiled at CONNECT and again when the file is reloaded. */
    private Acl acl = Acl.ALLOW_ALL;
    /** Rights that came with the client's proof (a token's acl claim, the hook's answer), or null. */
    private Acl authRights;
    /** The timer that ends the connection when its credentials run out (a token's exp), or -1. */
    private long expiryTimer = -1;
    /** The HTTP hook's answers for this client's topics, or null without auth.http.authorize-url. */
    private io.starling.auth.HttpAuthorization.Grants hookGrants;
    private final AuthorizationWait authorizationWait;
    /** Denials are logged once per connection at INFO (then at DEBUG) and counted every time. */
    private boolean denialLogged;
    private final QosZeroPause qosZeroPause;
    /** The listener's per-client rates; null when it has none. */
    private final RatePause ratePause;
    private boolean throttleLogged;
    private final OrderedReplies replies;

    private State state = State.AWAIT_CONNECT;
    private MqttVersion version;
    private String clientId;
    private SessionRef ref;
    private int keepAliveSeconds;
    private int clientReceiveMaximum = 65_535;
    private int clientTopicAliasMaximum;
    private long connectExpirySeconds;
    private long expirySeconds;
    private boolean publishWillOnClose = true;
    private Properties connAckProperties;
    /**
     * QoS 1 publishes received whose PUBACK has not gone out: with the QoS 2 ones not yet
     * completed, what Receive Maximum bounds [MQTT-3.3.4-9].
     */
    private int qos1Unacknowledged;
    /** QoS 2 publishes received and routed whose PUBREC has not gone out. */
    private int qos2Unreceived;
    private final InboundAliases inboundAliases;
    private final OrderedQos2Routing qos2Routing;
    /** Packets that came between CONNECT and CONNACK: smallest size, not ArrayDeque's 16 slots. */
    private final ArrayDeque<Packet> heldUntilAttached = new ArrayDeque<>(0);

    public MqttProtocol(Outbound out, Services services, Authenticator authenticator,
                        io.starling.config.ListenerConfig.Rates rates, ContextInternal context,
                        Runnable pauseInput, Runnable resumeInput) {
        this.out = out;
        this.services = services;
        this.authenticator = authenticator;
        this.context = context;
        this.input = new InputGate(pauseInput, resumeInput);
        this.qosZeroPause = new QosZeroPause(services.vertx, context, input);
        this.ratePause = RatePause.of(rates, services.vertx, input, this::overRate);
        this.authorizationWait = new AuthorizationWait(input, this::onThisContext);
        this.replies = new OrderedReplies(context);
        this.inboundAliases = new InboundAliases(services.config.topicAliasMaximum());
        this.qos2Routing = new OrderedQos2Routing(task -> onContext(() -> {
            task.run();
            return Future.succeededFuture();
        }));
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
            case CONNECTING -> heldUntilAttached.add(p); // input is paused: at most one read's worth
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
        if (state != State.AWAIT_CONNECT && !ReasonCode.isDisconnectCode(v.reasonCode())) {
            // A rule only a CONNECT breaks (0x84 for an unknown protocol level, say), after the first
            // CONNECT: it is the second CONNECT's, a Protocol Error [MQTT-3.1.0-2]; and DISCONNECT
            // carries only its own reason codes [MQTT-3.14.2-1].
            v = ProtocolViolation.protocolError("MQTT-3.1.0-2",
                    "second CONNECT ([" + v.rule() + "] " + v.getMessage() + ")");
        }
        log.info("client {} ({}) broke [{}]: {}; closing with {}", clientId == null ? "<before CONNECT>" : clientId,
                out.remoteAddress(), v.rule(), v.getMessage(), ReasonCode.name(v.reasonCode()));
        services.metrics.protocolError(v.reasonCode());
        lastWord(v.reasonCode(), v.getMessage(), "[" + v.rule() + "] " + v.getMessage());
        close(true);
    }

    /**
     * Handling this connection's input failed inside the broker (logged where it was caught): the
     * client is told 0x83 (5.0) and the connection closes, as for a violation. The failure is
     * counted where it was caught, once, whether or not a connection was still open to close.
     */
    public void onInternalError(Throwable cause, MqttVersion decoderVersion) {
        if (version == null) {
            version = decoderVersion;
        }
        if (state == State.CLOSED) {
            return;
        }
        String why = "the broker failed handling this connection (" + cause.getClass().getSimpleName() + ")";
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
        } else if (version != null && version.isV5()) {
            out.send(new Disconnect(reasonCode, reasonString(disconnectText)));
        }
    }

    public void onWritable() {
        if (ref != null && ref.session != null && ref.attached == this) {
            ref.session.pump();
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
        released();
        if (was == State.CONNECTED && ref != null) {
            ref.connectionLost(this, publishWillOnClose, expirySeconds);
        }
    }

    /** The connection is over: what it held (ordered replies, the rate's timer, the credentials' expiry) goes. */
    private void released() {
        replies.close();
        if (ratePause != null) {
            ratePause.close();
        }
        if (expiryTimer >= 0) {
            services.vertx.cancelTimer(expiryTimer);
            expiryTimer = -1;
        }
        authorizationWait.clear();
    }

    // ---- CONNECT ----

    private void onConnect(Connect c) {
        version = c.version();
        Properties p = c.properties() == null ? Properties.EMPTY : c.properties();
        if (version.isV5() && p.maximumPacketSize != null) {
            out.limitPacketSize(p.maximumPacketSize); // [MQTT-3.1.2-24], refusals included
        }
        Object decided = ConnectTerms.negotiate(c, services.config, services.leaving);
        if (decided instanceof ConnectTerms.Refusal r) {
            clientId = c.clientId().isEmpty() ? null : c.clientId();
            refuse(r);
            return;
        }
        ConnectTerms terms = (ConnectTerms) decided;
        clientId = terms.clientId();
        keepAliveSeconds = terms.keepAliveSeconds();
        connectExpirySeconds = terms.expirySeconds();
        expirySeconds = connectExpirySeconds;
        clientReceiveMaximum = terms.clientReceiveMaximum();
        clientTopicAliasMaximum = terms.clientTopicAliasMaximum();
        connAckProperties = terms.connAck();
        state = State.CONNECTING;
        input.close(InputGate.CONNECTING);
        AttachRequest req = new AttachRequest(clientId, terms.cleanStart(), connectExpirySeconds, terms.will());
        String username = c.username();
        Future<Authenticator.Decision> verdict = authenticator.authenticate(new Authenticator.Credentials(
                clientId, c.username(), c.password(), out.remoteAddress(), out.clientCertificate(),
                out.proxiedCertificateCn()));
        if (verdict.isComplete()) {
            authenticated(verdict, req, username); // no slow check: the session attaches in this task, as before
        } else {
            verdict.onComplete(ar -> context().runOnContext(v -> authenticated(ar, req, username)));
        }
    }

    /** The authenticator answered: the session attaches, or the client hears why not (0x86, 0x87, ...). */
    private void authenticated(io.vertx.core.AsyncResult<Authenticator.Decision> ar, AttachRequest req,
                               String username) {
        if (state != State.CONNECTING) {
            return; // the connection went while its credentials were checked
        }
        Authenticator.Decision d = ar.succeeded() ? ar.result() : Authenticator.Decision.refuse(
                ReasonCode.UNSPECIFIED_ERROR, "authentication", "the check failed: " + ar.cause());
        if (!d.allowed()) {
            refuse(new ConnectTerms.Refusal(d.reasonCode(), d.rule(), d.why()));
            return;
        }
        authUser = d.username() != null ? d.username() : username;
        authGrant = d.grant();
        authRights = d.rights();
        if (d.username() != null) {
            log.debug("client {} ({}) is {} [{}]", clientId, out.remoteAddress(), authUser, d.rule());
        }
        if (d.expiresAtMillis() > 0) {
            long left = d.expiresAtMillis() - System.currentTimeMillis();
            if (left <= 0) {
                refuse(new ConnectTerms.Refusal(ReasonCode.NOT_AUTHORIZED, d.rule(), "the credentials have run out"));
                return;
            }
            expiryTimer = services.vertx.setTimer(left, t -> credentialsExpired(d.rule()));
        }
        acl = services.authorization.forClient(authUser, clientId).and(authRights);
        if (services.httpAuthorization != null) {
            hookGrants = services.httpAuthorization.forClient(clientId, authUser, out.remoteAddress(), this::onThisContext);
        }
        if (req.will() != null) {
            // The will is a publish of this client's: it must be one it may make (as Mosquitto 2.0 checks at CONNECT).
            Acl.Verdict v = acl.publish(req.will().topic());
            if (!v.allowed()) {
                willDenied(req, v);
                return;
            }
            if (hookGrants != null) {
                hookGrants.ask(io.starling.auth.HttpAuthorization.Action.PUBLISH, req.will().topic()).onComplete(answer -> {
                    if (state != State.CONNECTING) {
                        return;
                    }
                    if (!answer.result().allowed()) {
                        willDenied(req, answer.result());
                    } else {
                        services.registry.connect(this, req);
                    }
                });
                return;
            }
        }
        services.registry.connect(this, req);
    }

    private void willDenied(AttachRequest req, Acl.Verdict v) {
        services.metrics.authorizationDenied("will");
        refuse(new ConnectTerms.Refusal(ReasonCode.NOT_AUTHORIZED, v.rule(),
                "the will topic '" + req.will().topic() + "' is not one " + who() + " may publish to"));
    }

    /** The client's credentials ran out while it was connected (a token's exp, the hook's expire_at). */
    private void credentialsExpired(String rule) {
        expiryTimer = -1;
        if (state != State.CONNECTED) {
            return;
        }
        log.info("client {} ({}): its credentials ran out [{}]; disconnecting", clientId, out.remoteAddress(), rule);
        services.metrics.credentialsExpired();
        lastWord(ReasonCode.MAXIMUM_CONNECT_TIME, "", "the credentials have run out");
        close(true);
    }

    private void onThisContext(Runnable task) {
        if (context.nettyEventLoop().inEventLoop()) {
            task.run();
        } else {
            context.runOnContext(v -> task.run());
        }
    }

    /**
     * The authenticator's files were reloaded: a client no longer allowed (its user removed, its
     * password changed) is disconnected, 5.0 with 0x87, as Mosquitto 2.0 does on reload. Runs on
     * this connection's context.
     */
    void recheckAuthentication() {
        if (state == State.CONNECTED) {
            // the ACL file may be the one that changed
            acl = services.authorization.forClient(authUser, clientId).and(authRights);
        }
        if (state != State.CONNECTED || authenticator.stillAllowed(authUser, authGrant)) {
            return;
        }
        log.info("client {} ({}) refused [{}]: user {} is no longer allowed after a reload; disconnecting", clientId,
                out.remoteAddress(), authGrant != null && authGrant.startsWith("jwt:") ? "auth.jwt.jwks-file" : "auth.password-file",
                authUser == null ? "<anonymous>" : "'" + authUser + "'");
        services.metrics.authFailure(ReasonCode.NOT_AUTHORIZED);
        lastWord(ReasonCode.NOT_AUTHORIZED, "", "no longer authorized");
        close(true);
    }

    /** Whether a message on {@code topic} may go to this client (its read rights); checked for every delivery. */
    boolean mayRead(String topic) {
        if (acl.allowsAll()) {
            return true;
        }
        Acl.Verdict v = acl.read(topic);
        if (!v.allowed()) {
            denied("delivery of a message on '" + topic + "'", v, "read");
        }
        return v.allowed();
    }

    private void denied(String what, Acl.Verdict v, String action) {
        services.metrics.authorizationDenied(action);
        String text = "client {} ({}): {} denied to {} [{}]";
        if (!denialLogged) {
            denialLogged = true;
            log.info(text, clientId, out.remoteAddress(), what, who(), v.rule());
        } else {
            log.debug(text, clientId, out.remoteAddress(), what, who(), v.rule());
        }
    }

    private String who() {
        return authUser == null ? "anonymous clients" : "user '" + authUser + "'";
    }

    /**
     * Refuses a CONNECT: CONNACK with the reason (3.1.1: nearest return code), log, count, close.
     * A refusal for who the client is (e.g. 0x8C) counts as an authentication failure, not as a
     * protocol error: the two answer different questions on a dashboard.
     */
    private void refuse(ConnectTerms.Refusal r) {
        log.info("client {} ({}) refused [{}]: {}", clientId, out.remoteAddress(), r.rule(), r.why());
        if (BrokerMetrics.isAuthFailure(r.reasonCode())) {
            services.metrics.authFailure(r.reasonCode());
        } else {
            services.metrics.protocolError(r.reasonCode());
        }
        out.send(new ConnAck(false, version.isV5() ? r.reasonCode() : ReasonCode.toV3ConnAck(r.reasonCode()),
                version.isV5() ? reasonString(r.why()) : Properties.EMPTY));
        close(true);
    }

    /** The session is this connection's now (runs on this context): CONNACK, then what the client pipelined. */
    void attached(SessionRef ref, boolean present) {
        this.ref = ref;
        if (state == State.CLOSED) {
            // The socket went while the session was being claimed: the session is simply offline again.
            ref.attached = this;
            ref.session.attaching = false;
            ref.connectionLost(this, true, expirySeconds);
            return;
        }
        state = State.CONNECTED;
        // [MQTT-3.2.2-1] Session Present is 0 for a clean start; 3.1 has no such flag.
        boolean sessionPresent = present && version != MqttVersion.V3_1;
        boolean told = out.send(new ConnAck(sessionPresent, ReasonCode.SUCCESS,
                version.isV5() ? connAckProperties : Properties.EMPTY));
        connAckProperties = null; // sent: not kept for the life of the connection
        if (!told) {
            // [MQTT-3.1.2-24] over the client's Maximum Packet Size even without a Reason String, and
            // nothing may go before a CONNACK [MQTT-3.2.0-1]: the client cannot be served. The
            // session is offline again, as when the socket goes while it is claimed.
            log.info("client {} ({}): its Maximum Packet Size is too small for the CONNACK; closing", clientId,
                    out.remoteAddress());
            services.metrics.protocolError(ReasonCode.PACKET_TOO_LARGE);
            state = State.CLOSED;
            released();
            out.close();
            ref.attached = this;
            ref.session.attaching = false;
            ref.connectionLost(this, true, expirySeconds);
            return;
        }
        ref.attach(this);
        while (!heldUntilAttached.isEmpty() && state == State.CONNECTED) {
            onSessionPacket(heldUntilAttached.poll());
        }
        input.open(InputGate.CONNECTING);
    }

    /**
     * A CONNECT that lost a race: another node claimed the identifier after this one, so that
     * connection wins [MQTT-3.1.4-3]. No CONNACK was sent; the connection is closed.
     */
    void superseded() {
        log.info("client {} ({}): a newer connection on another node took the client identifier", clientId,
                out.remoteAddress());
        state = State.CLOSED;
        released();
        out.close();
    }

    /** This node is leaving the cluster: 5.0 clients are told 0x8B (spec 4.13) and every client is closed. */
    void serverShuttingDown() {
        endedByServer(ReasonCode.SERVER_SHUTTING_DOWN, null);
    }

    /** Another connection took this client identifier; runs on this context. */
    void takenOver() {
        endedByServer(ReasonCode.SESSION_TAKEN_OVER, "session taken over by a new connection");
    }

    private void endedByServer(int reasonCode, String logText) {
        if (state == State.CLOSED) {
            return;
        }
        if (logText != null) {
            log.info("client {} ({}): {}", clientId, out.remoteAddress(), logText);
        }
        if (version.isV5()) {
            out.send(new Disconnect(reasonCode, Properties.EMPTY));
        }
        ref = null; // the session has been detached from this connection already
        state = State.CLOSED;
        released();
        out.close();
    }

    // ---- packets of a connected session ----

    private void onSessionPacket(Packet p) {
        if (authorizationWait.holds(p)) {
            return;
        }
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

    private Session session() {
        return ref.session;
    }

    /** {@code p} needs the HTTP hook's answer: it and what follows wait ({@link AuthorizationWait}). */
    private void awaitAuthorization(Packet p, Future<?> answered) {
        authorizationWait.await(p, answered, this::onSessionPacket, () -> state == State.CONNECTED);
    }

    private void onPublish(Publish p) {
        boolean again = authorizationWait.again(p);
        if (!again) {
            services.metrics.messageReceived(p.qos());
        }
        Properties props = p.properties() == null ? Properties.EMPTY : p.properties();
        String topic;
        TopicName name;
        try {
            topic = version.isV5() ? inboundAliases.resolve(p.topic(), props.topicAlias) : p.topic();
            name = TopicName.of(topic);
        } catch (ProtocolViolation v) {
            onViolation(v);
            return;
        } catch (InvalidTopicException e) {
            onViolation(new ProtocolViolation(ReasonCode.TOPIC_NAME_INVALID, e.rule(), e.getMessage()));
            return;
        }
        int qos = p.qos();
        Session session = session();
        boolean newFlow = qos == 1 || (qos == 2 && !session.inbound.pending(p.packetId()));
        if (newFlow && qos1Unacknowledged + session.inbound.count() >= services.config.receiveMaximum()) {
            if (version.isV5()) {
                // [MQTT-3.3.4-9] QoS 1 and 2 count alike: a client past the Receive Maximum it was given is cut off.
                onViolation(new ProtocolViolation(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "MQTT-3.3.4-9 (3.3.4)",
                        "more than Receive Maximum " + services.config.receiveMaximum()
                                + " QoS 1 and 2 publishes unacknowledged"));
                return;
            }
        }
        if (!again && ratePause != null && !ratePause.take(topic.length() + p.payload().length, qos > 0)) {
            // Read while the client already owed more than a second's worth: one socket read's
            // tail at most, since its input stopped being read when it began to owe.
            limitReached("publish faster than its rate", ratePause.over().key);
            refusePublish(p, ReasonCode.QUOTA_EXCEEDED, DropReason.RATE_LIMIT);
            return;
        }
        if (name.isSystem() && topic.startsWith("$SYS")) {
            // $SYS is the broker's; clients' publishes there are refused, not routed.
            log.debug("client {}: publish to {} refused", clientId, topic);
            refusePublish(p, ReasonCode.NOT_AUTHORIZED, DropReason.NOT_AUTHORIZED);
            return;
        }
        String tooBig = overTopicLimits(topic);
        if (tooBig != null) {
            limitReached("publish to a topic " + tooBig, tooBig.startsWith("longer") ? "max-topic-length" : "max-topic-levels");
            refusePublish(p, ReasonCode.TOPIC_NAME_INVALID, DropReason.TOPIC_LIMIT);
            return;
        }
        Acl.Verdict allowed = acl.allowsAll() ? null : acl.publish(topic);
        if (allowed != null && !allowed.allowed()) {
            // 5.0 hears 0x87 in its PUBACK/PUBREC; 3.1.1 has no such code and gets the positive
            // acknowledgement [MQTT-3.3.5-2] allows; QoS 0 is dropped. Counted either way.
            denied("publish to '" + topic + "'", allowed, "publish");
            refusePublish(p, ReasonCode.NOT_AUTHORIZED, DropReason.NOT_AUTHORIZED);
            return;
        }
        if (hookGrants != null) {
            Acl.Verdict hook = hookGrants.known(io.starling.auth.HttpAuthorization.Action.PUBLISH, topic);
            if (hook == null) {
                awaitAuthorization(p, hookGrants.ask(io.starling.auth.HttpAuthorization.Action.PUBLISH, topic));
                return;
            }
            if (!hook.allowed()) {
                denied("publish to '" + topic + "'", hook, "publish");
                refusePublish(p, ReasonCode.NOT_AUTHORIZED, DropReason.NOT_AUTHORIZED);
                return;
            }
        }
        InboundQos2.Flow known = qos == 2 ? session.inbound.get(p.packetId()) : null;
        if (known != null && (known.accepted || known.routing != null)) {
            // [MQTT-4.3.3-10] a resend of a QoS 2 publish we have: answer PUBREC once its first
            // routing is accepted; do not route it again.
            Future<Integer> first = known.accepted ? Future.succeededFuture(1) : known.routing;
            replies.after(first, (n, failure) -> out.send(Ack.of(PacketType.PUBREC, p.packetId(),
                    failure == null ? ReasonCode.SUCCESS : PublishRefused.reasonCodeOf(failure))));
            return;
        }
        Long expiry = version.isV5() ? props.messageExpiryInterval : null;
        long now = expiry == null ? 0 : System.currentTimeMillis();
        long expiresAt = expiry == null ? 0 : now + expiry * 1000;
        // A QoS 2 message whose node died while routing it (known, not accepted) goes again under
        // the id it had, so that the nodes that have it already take it once.
        Message m = known != null
                ? new Message(topic, p.payload(), qos, p.retain(), Message.forwardedProperties(props), expiresAt,
                        clientId, System.nanoTime(), known.messageId)
                : new Message(topic, p.payload(), qos, p.retain(), Message.forwardedProperties(props), expiresAt,
                        clientId, System.nanoTime());
        if (qos == 0) {
            io.starling.routing.Congestion.clear(); // QoS 1/2 publishers are slowed by their held acknowledgements instead
            services.router.publish(name, m);
            io.starling.routing.Backlog congested = io.starling.routing.Congestion.signalled();
            if (congested != null && state == State.CONNECTED) {
                qosZeroPause.pauseFor(congested);
            }
            return;
        }
        Future<Integer> reached;
        if (qos == 1) {
            qos1Unacknowledged++;
            reached = services.router.publish(name, m);
        } else {
            qos2Unreceived++;
            Future<Void> recorded = known == null ? session.inboundBegin(p.packetId(), m.id()) : null;
            reached = qos2Routing.route(recorded, () -> services.router.publish(name, m));
            InboundQos2.Flow flow = session.inbound.get(p.packetId());
            flow.routing = reached;
            // Accepted, and that journaled, before the PUBREC (see InboundQos2#accepted).
            reached = reached.compose(n -> onContext(() -> {
                Future<Void> kept = session.inbound.accepted(p.packetId());
                return kept == null ? Future.succeededFuture(n) : kept.map(n);
            }));
        }
        unacknowledgedChanged();
        if (ratePause != null) {
            // Over its rate, a client hears of its publish once it has paid for it (issue 10).
            Future<Void> paid = ratePause.paid();
            reached = reached.compose(n -> paid.map(n));
        }
        // The answer waits until every node the message went to has accepted it.
        replies.after(reached, (n, failure) -> {
            if (failure != null) {
                refusePublish(p, failure);
            } else {
                acknowledge(p, n == 0 && version.isV5() ? ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS);
            }
        });
    }

    /** Runs {@code step} on this connection's context (a journal's or another node's answer arrives elsewhere). */
    private <T> Future<T> onContext(java.util.function.Supplier<Future<T>> step) {
        if (context.nettyEventLoop().inEventLoop()) {
            return step.get();
        }
        io.vertx.core.Promise<T> done = io.vertx.core.Promise.promise();
        context.runOnContext(v -> step.get().onComplete(done));
        return done.future();
    }

    /**
     * A 3.1.1 client has no Receive Maximum to obey, so the broker's holds for it: at that many
     * QoS 1/2 publishes that the broker has not yet answered (PUBACK, PUBREC) its input is not read
     * until answers go out, and a publisher that ignores flow control cannot grow the broker's
     * memory (issue 9). QoS 2 publishes awaiting their PUBREL do not count here: the PUBRELs that
     * end them are in that very input.
     */
    private void unacknowledgedChanged() {
        if (version.isV5()) {
            return;
        }
        if (qos1Unacknowledged + qos2Unreceived >= services.config.receiveMaximum()) {
            input.close(InputGate.UNACKNOWLEDGED);
        } else {
            input.open(InputGate.UNACKNOWLEDGED);
        }
    }

    /**
     * A publish the broker will not take from this client ($SYS, the ACL file, a topic limit): not
     * routed, counted, answered with {@code reasonCode} in its turn (3.1.1, which has no codes:
     * the positive acknowledgement [MQTT-3.3.5-2] allows; QoS 0: dropped).
     */
    private void refusePublish(Publish p, int reasonCode, DropReason why) {
        services.metrics.dropped(why);
        if (p.qos() == 1) {
            qos1Unacknowledged++;
        } else if (p.qos() == 2) {
            qos2Unreceived++;
        }
        replies.now(() -> acknowledge(p, reasonCode));
    }

    /** Why a topic name or filter is over limits.max-topic-length / max-topic-levels, or null. */
    private String overTopicLimits(String topic) {
        io.starling.config.BrokerConfig.Limits l = services.config.limits();
        if (topic.length() > l.maxTopicLength() / 3) { // a char is at most 3 UTF-8 bytes (a pair 4 for 2 chars)
            int bytes = topic.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (bytes > l.maxTopicLength()) {
                return "longer than limits.max-topic-length (" + bytes + " > " + l.maxTopicLength() + " bytes)";
            }
        }
        if (l.maxTopicLevels() > 0) {
            int levels = 1;
            for (int i = 0; i < topic.length(); i++) {
                if (topic.charAt(i) == '/') {
                    levels++;
                }
            }
            if (levels > l.maxTopicLevels()) {
                return "deeper than limits.max-topic-levels (" + levels + " > " + l.maxTopicLevels() + " levels)";
            }
        }
        return null;
    }

    /** A limit refused something: logged once per connection at INFO (then DEBUG), counted always. */
    /** The client began to owe: its input is paused until it has paid; counted, logged once per connection. */
    private void overRate(InboundRate.Limit limit) {
        services.metrics.throttled(limit.key);
        String text = "client {} ({}): publishing faster than limits.{} (or its listener's): not read until within it, "
                + "QoS 1/2 acknowledged late";
        if (!throttleLogged) {
            throttleLogged = true;
            log.info(text, clientId, out.remoteAddress(), limit.key);
        } else {
            log.debug(text, clientId, out.remoteAddress(), limit.key);
        }
    }

    private void limitReached(String what, String limit) {
        services.metrics.limitReached(limit);
        String text = "client {} ({}): {} refused [limits.{}]";
        if (!denialLogged) {
            denialLogged = true;
            log.info(text, clientId, out.remoteAddress(), what, limit);
        } else {
            log.debug(text, clientId, out.remoteAddress(), what, limit);
        }
    }

    private void acknowledge(Publish p, int reasonCode) {
        if (p.qos() == 1) {
            qos1Unacknowledged--;
            out.send(Ack.of(PacketType.PUBACK, p.packetId(), reasonCode));
        } else if (p.qos() == 2) {
            qos2Unreceived--;
            if (reasonCode >= 0x80) {
                session().inbound.release(p.packetId()); // the flow ends: a resend is a new message
            }
            out.send(Ack.of(PacketType.PUBREC, p.packetId(), reasonCode));
        }
        unacknowledgedChanged();
    }

    /**
     * The broker could not take a publish for every session it matched (issue 9): 5.0 hears the
     * reason code in its PUBACK/PUBREC; 3.1.1 has no way to hear it, so its connection is closed
     * without an acknowledgement and it resends the message when it reconnects. Its will is not
     * published for this: the client did nothing wrong and is not gone.
     */
    private void refusePublish(Publish p, Throwable failure) {
        int reasonCode = PublishRefused.reasonCodeOf(failure);
        log.warn("client {} ({}): publish {} on {} could not be taken ({}): {}", clientId, out.remoteAddress(),
                p.packetId(), p.topic(), ReasonCode.name(reasonCode), failure.getMessage());
        services.metrics.publishRefused(reasonCode);
        if (version.isV5()) {
            acknowledge(p, reasonCode);
            return;
        }
        if (p.qos() == 2) {
            // Its resend is routed again under the same message id: where it did arrive, it is taken once.
            InboundQos2.Flow flow = session().inbound.get(p.packetId());
            if (flow != null) {
                flow.routing = null;
            }
        }
        publishWillOnClose = false;
        out.close();
        onClosed();
    }

    private void onAck(Ack a) {
        Session session = session();
        switch (a.type()) {
            case PUBACK -> session.onPuback(a.packetId());
            case PUBREC -> replies.after(session.onPubrec(a.packetId(), a.reasonCode()), (rc, failure) -> {
                if (failure != null) {
                    // The PUBREC could not be journaled: the flow goes on here; only a node's loss now
                    // would resend the PUBLISH instead of the PUBREL.
                    log.warn("client {}: PUBREC {} not backed up: {}", clientId, a.packetId(), failure.toString());
                    rc = ReasonCode.SUCCESS;
                }
                if (rc >= 0) {
                    out.send(Ack.of(PacketType.PUBREL, a.packetId(), rc)); // [MQTT-4.6.0-4] in PUBREC order
                }
                for (int id : session.pubrelsDue()) {
                    out.send(Ack.of(PacketType.PUBREL, id, ReasonCode.SUCCESS));
                }
            });
            case PUBREL -> {
                boolean known = session.inbound.release(a.packetId());
                replies.now(() -> {
                    out.send(Ack.of(PacketType.PUBCOMP, a.packetId(),
                            known ? ReasonCode.SUCCESS : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND));
                    unacknowledgedChanged();
                });
            }
            case PUBCOMP -> session.onPubcomp(a.packetId());
            default -> throw new IllegalStateException(a.type().toString());
        }
    }

    private void onSubscribe(Subscribe s) {
        authorizationWait.again(s);
        if (hookGrants != null) {
            Future<?> answers = askHook(s);
            if (answers != null) {
                awaitAuthorization(s, answers);
                return;
            }
        }
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
            String tooBig = overTopicLimits(r.filter());
            if (tooBig != null) {
                limitReached("subscription to a filter " + tooBig, tooBig.startsWith("longer") ? "max-topic-length"
                        : "max-topic-levels");
                codes[i] = version.isV5() ? ReasonCode.TOPIC_FILTER_INVALID : 0x80;
                continue;
            }
            int maxSubscriptions = services.config.limits().maxSubscriptionsPerClient();
            if (maxSubscriptions > 0 && session().subscriptions.size() >= maxSubscriptions
                    && !session().subscriptions.containsKey(filter.value())) {
                limitReached("subscription to '" + r.filter() + "' (already " + session().subscriptions.size()
                        + ")", "max-subscriptions-per-client");
                codes[i] = version.isV5() ? ReasonCode.QUOTA_EXCEEDED : 0x80;
                continue;
            }
            Acl.Verdict allowed = acl.subscribe(filter);
            if (allowed.allowed() && hookGrants != null) {
                Acl.Verdict hook = hookGrants.known(io.starling.auth.HttpAuthorization.Action.SUBSCRIBE, r.filter());
                allowed = hook != null ? hook : new Acl.Verdict(false, -1, io.starling.auth.HttpAuthorization.SOURCE
                        + ": its answer was not kept"); // more filters in one SUBSCRIBE than answers are kept
            }
            if (!allowed.allowed()) {
                // Unlike Mosquitto, which accepts every SUBSCRIBE and filters deliveries alone.
                denied("subscription to '" + r.filter() + "'", allowed, "subscribe");
                codes[i] = version.isV5() ? ReasonCode.NOT_AUTHORIZED : 0x80;
                continue;
            }
            Subscription sub = new Subscription(clientId, filter, Math.min(r.qos(), 2), r.noLocal(),
                    r.retainAsPublished(), r.retainHandling(), subscriptionId);
            boolean existed = ref.subscribe(sub);
            codes[i] = sub.qos(); // [MQTT-3.8.4-8] the granted QoS
            // [MQTT-3.3.1-9..11] Retain Handling; never for shared subscriptions (spec 4.8.2).
            if (!filter.isShared() && (r.retainHandling() == 0 || (r.retainHandling() == 1 && !existed))) {
                sendRetained.add(sub);
            }
        }
        // The SUBACK waits until every node routes the new filters here (docs/adr/0004), and the
        // session's record with them is backed up (issue 3).
        Future<Void> record = ref.recordWritten;
        Future<Void> ready = record.isComplete() && record.succeeded() ? services.router.routesSettled()
                : Future.join(services.router.routesSettled(), record).mapEmpty();
        replies.after(ready, (v, failure) -> {
            if (failure != null) {
                log.warn("client {}: its session's record with these subscriptions was not backed up: {}", clientId,
                        failure.toString());
            }
            out.send(new SubAck(s.packetId(), Properties.EMPTY, codes));
            long now = System.currentTimeMillis();
            Session session = session();
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

    /** The hook's answers this SUBSCRIBE's valid filters still need, asked all at once; null when every one is kept. */
    private Future<?> askHook(Subscribe s) {
        List<Future<Acl.Verdict>> asks = null;
        for (Subscribe.Request r : s.requests()) {
            try {
                TopicFilter.of(r.filter());
            } catch (InvalidTopicException e) {
                continue; // refused below without asking
            }
            if (hookGrants.known(io.starling.auth.HttpAuthorization.Action.SUBSCRIBE, r.filter()) == null) {
                if (asks == null) {
                    asks = new ArrayList<>();
                }
                asks.add(hookGrants.ask(io.starling.auth.HttpAuthorization.Action.SUBSCRIBE, r.filter()));
            }
        }
        return asks == null ? null : Future.join(asks);
    }

    private void onUnsubscribe(Unsubscribe u) {
        int[] codes = new int[u.filters().size()];
        for (int i = 0; i < codes.length; i++) {
            try {
                codes[i] = ref.unsubscribe(TopicFilter.of(u.filters().get(i)))
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
}
