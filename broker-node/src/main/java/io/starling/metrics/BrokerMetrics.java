package io.starling.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.starling.protocol.ReasonCode;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The broker's counters and gauges, on a Micrometer registry (a Prometheus one in a running node,
 * see {@link MetricsServer}). Every method is safe from any thread and cheap enough for the
 * publish path: per-QoS and per-reason meters are registered up front and kept in arrays, so
 * nothing on that path looks a meter up by name.
 *
 * <p>Meter names are already in Prometheus' snake case; the registry adds {@code _total} to
 * counters and the unit to timers, so {@code starling_messages_received} is exposed as
 * {@code starling_messages_received_total} and {@code starling_delivery_latency} as
 * {@code starling_delivery_latency_seconds}. README.md lists every exposed name.
 */
public final class BrokerMetrics {
    /** Publish-to-delivery buckets from 100 µs to 10 s: explicit, so a scrape has 17 of them, not 70. */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
        Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10)};
    /** CONNACK refusals that are about who the client is: counted as authentication failures. */
    private static final int[] AUTH_REASONS = {ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.NOT_AUTHORIZED,
        ReasonCode.BANNED, ReasonCode.BAD_AUTHENTICATION_METHOD};

    private final MeterRegistry registry;
    private final Counter[] received = new Counter[3];
    private final Counter[] sent = new Counter[3];
    private final Counter[] dropped = new Counter[DropReason.values().length];
    /** By reason code (one byte); created on first use, since most codes never happen. */
    private final AtomicReferenceArray<Counter> protocolErrors = new AtomicReferenceArray<>(256);
    private final Counter[] authFailures = new Counter[256];
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter connectionsAccepted;
    private final Counter willsPublished;
    private final Counter acceptancesHeld;
    private final Counter forwarded;
    private final Counter forwardsReceived;
    private final Counter forwardsFailed;
    private final Counter internalErrors;
    /** By reason code; created on first use. */
    private final AtomicReferenceArray<Counter> publishesRefused = new AtomicReferenceArray<>(256);
    private final Timer deliveryLatency;
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong maxConnections = new AtomicLong();
    /** Sums over this node's sessions, kept up to date by each session (no walk per scrape). */
    private final LongAdder queued = new LongAdder();
    private final LongAdder inflight = new LongAdder();
    /** Bytes of the messages in this node's session queues: compared with mqtt.max-queued-bytes per queued message. */
    private final java.util.concurrent.atomic.AtomicLong queuedBytes = new java.util.concurrent.atomic.AtomicLong();

    public BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (int q = 0; q < 3; q++) {
            received[q] = Counter.builder("starling_messages_received").tag("qos", String.valueOf(q))
                    .description("PUBLISH packets received from clients, by QoS").register(registry);
            sent[q] = Counter.builder("starling_messages_sent").tag("qos", String.valueOf(q))
                    .description("PUBLISH packets sent to clients, by QoS (a resend counts again)")
                    .register(registry);
        }
        for (DropReason r : DropReason.values()) {
            dropped[r.ordinal()] = Counter.builder("starling_messages_dropped").tag("reason", r.tag())
                    .description("messages not delivered, by reason").register(registry);
        }
        for (int code : AUTH_REASONS) {
            authFailures[code] = Counter.builder("starling_auth_failures").tag("reason", ReasonCode.name(code))
                    .description("CONNECTs refused for who the client is (CONNACK 0x86, 0x87, 0x8A, 0x8C)")
                    .register(registry);
        }
        bytesIn = Counter.builder("starling_received_bytes").baseUnit("bytes")
                .description("bytes read from MQTT connections").register(registry);
        bytesOut = Counter.builder("starling_sent_bytes").baseUnit("bytes")
                .description("bytes written to MQTT connections").register(registry);
        connectionsAccepted = Counter.builder("starling_connections_accepted")
                .description("TCP connections accepted").register(registry);
        forwarded = Counter.builder("starling_messages_forwarded").tag("direction", "out")
                .description("messages forwarded between nodes: out once per interested node, in from other nodes")
                .register(registry);
        forwardsReceived = Counter.builder("starling_messages_forwarded").tag("direction", "in")
                .description("messages forwarded between nodes: out once per interested node, in from other nodes")
                .register(registry);
        forwardsFailed = Counter.builder("starling_forwards_failed")
                .description("QoS 1/2 forwards whose node left or whose link broke before it accepted them")
                .register(registry);
        internalErrors = Counter.builder("starling_internal_errors")
                .description("connections closed (5.0: DISCONNECT 0x83) because handling their input failed inside "
                        + "the broker; each is logged with its stack trace").register(registry);
        acceptancesHeld = Counter.builder("starling_acknowledgements_held")
                .description("QoS 1/2 publishes whose PUBACK/PUBREC waited for room in a subscriber's full queue "
                        + "(backpressure instead of loss)").register(registry);
        willsPublished = Counter.builder("starling_wills_published")
                .description("will messages published").register(registry);
        deliveryLatency = Timer.builder("starling_delivery_latency")
                .description("from the broker accepting a PUBLISH to the delivery being written to a subscriber's "
                        + "connection; a message forwarded from another node counts from its arrival here")
                .serviceLevelObjectives(LATENCY_BUCKETS)
                .minimumExpectedValue(LATENCY_BUCKETS[0])
                .maximumExpectedValue(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1])
                .register(registry);
        Gauge.builder("starling_connections", connections, AtomicLong::get)
                .description("open MQTT connections").register(registry);
        Gauge.builder("starling_messages_queued", queued, LongAdder::sum)
                .description("messages queued in this node's sessions (offline, or beyond the inflight window)")
                .register(registry);
        Gauge.builder("starling_queued_bytes", queuedBytes, java.util.concurrent.atomic.AtomicLong::get)
                .description("bytes of the messages queued in this node's sessions (bounded by mqtt.max-queued-bytes)")
                .register(registry);
        Gauge.builder("starling_messages_inflight", inflight, LongAdder::sum)
                .description("QoS 1/2 messages sent by this node and not yet acknowledged by their clients")
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    /** A gauge with one label, e.g. {@code starling_sessions{state="online"}}. */
    public void gauge(String name, String tag, String tagValue, String description, Supplier<Number> value) {
        Gauge.builder(name, value).tag(tag, tagValue).description(description).register(registry);
    }

    public void messageReceived(int qos) {
        received[qos].increment();
    }

    public void messageSent(int qos) {
        sent[qos].increment();
    }

    /**
     * A delivery was written to its subscriber's connection.
     *
     * @param acceptedNanos {@link System#nanoTime()} when this node accepted the message, or 0
     *                      when it has no such time (a retained message replayed on subscribe)
     */
    public void delivered(long acceptedNanos) {
        if (acceptedNanos != 0) {
            deliveryLatency.record(System.nanoTime() - acceptedNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void bytesReceived(int n) {
        bytesIn.increment(n);
    }

    public void bytesSent(int n) {
        bytesOut.increment(n);
    }

    public void connectionOpened() {
        connectionsAccepted.increment();
        long now = connections.incrementAndGet();
        maxConnections.accumulateAndGet(now, Math::max);
    }

    public void forwarded() {
        forwarded.increment();
    }

    public void forwardReceived() {
        forwardsReceived.increment();
    }

    public void forwardFailed() {
        forwardsFailed.increment();
    }

    public void acceptanceHeld() {
        acceptancesHeld.increment();
    }

    public void willPublished() {
        willsPublished.increment();
    }

    public void connectionClosed() {
        connections.decrementAndGet();
    }

    /** Changes in a session's queue and inflight window; a session reports only what changed. */
    public void sessionDepthChanged(int queuedDelta, int inflightDelta) {
        if (queuedDelta != 0) {
            queued.add(queuedDelta);
        }
        if (inflightDelta != 0) {
            inflight.add(inflightDelta);
        }
    }

    /** A session's queue grew or shrank by {@code delta} bytes; returns the node's total. */
    public long queuedBytesChanged(long delta) {
        return queuedBytes.addAndGet(delta);
    }

    public long queuedBytes() {
        return queuedBytes.get();
    }

    /** A client broke a rule; tagged with the reason code's name, e.g. malformed_packet. */
    public void protocolError(int reasonCode) {
        int i = reasonCode & 0xFF;
        Counter c = protocolErrors.get(i);
        if (c == null) {
            // Registering twice returns the same counter, so a race here is harmless.
            c = Counter.builder("starling_protocol_errors").tag("reason", ReasonCode.name(reasonCode))
                    .description("connections closed or CONNECTs refused for breaking the protocol, by reason")
                    .register(registry);
            protocolErrors.set(i, c);
        }
        c.increment();
    }

    /** Handling a connection's input failed inside the broker (a bug): the connection was closed. */
    public void internalError() {
        internalErrors.increment();
    }

    /** Counters with labels known only when they first happen, by name and label values; created once each. */
    private final java.util.concurrent.ConcurrentHashMap<String, Counter> labelled = new java.util.concurrent.ConcurrentHashMap<>();

    /** The counter {@code name} with {@code tags} (key, value, ...), registered on its first use and then reused. */
    private Counter labelled(String name, String description, String... tags) {
        return labelled.computeIfAbsent(name + '\0' + String.join("\0", tags),
                k -> Counter.builder(name).tags(tags).description(description).register(registry));
    }

    /** Something refused for a limit: max-topic-length, max-topic-levels, max-subscriptions-per-client. */
    public void limitReached(String limit) {
        labelled("starling_limit_refusals", "publishes and subscriptions refused for a limit (limits.*)",
                "limit", limit).increment();
    }

    /** A client went over its limits.client-messages-rate / client-bytes-rate and is not read until within it. */
    public void throttled(String limit) {
        labelled("starling_clients_throttled", "times a client's input was paused for publishing faster than its rate",
                "limit", limit).increment();
    }

    /** A client disconnected because its credentials ran out (a token's exp, the hook's expire_at). */
    public void credentialsExpired() {
        labelled("starling_credentials_expired", "clients disconnected when their token or the hook's grant ran out").increment();
    }

    /** One request to the HTTP hook (auth.http.*): kind authenticate or authorize, result allow, deny, ignore or error. */
    public void hookRequest(String kind, String result) {
        labelled("starling_auth_hook_requests", "requests to the HTTP authentication and authorization hook, by answer",
                "kind", kind, "result", result).increment();
    }

    /** Something the ACL file does not allow: action publish, subscribe, read (a delivery) or will. */
    public void authorizationDenied(String action) {
        labelled("starling_authorization_denials",
                "operations the ACL file does not allow: publish, subscribe, read (deliveries not sent), will",
                "action", action).increment();
    }

    public void tlsHandshakeFailed(String listener, String reason) {
        labelled("starling_tls_handshake_failures", "TLS handshakes that failed (unknown CA, expired or missing "
                + "client certificate, no common protocol or cipher, timeout)", "listener", listener, "reason", reason)
                .increment();
    }

    /** A connection closed as soon as accepted, for a limit ({@code reason}) of its listener or node. */
    public void connectionRefused(String listener, String reason) {
        labelled("starling_connections_refused", "connections closed as soon as they were accepted, for a limit",
                "listener", listener, "reason", reason).increment();
    }

    /** A connection whose first bytes were another protocol (tls, http, proxy, plain): closed unanswered. */
    public void foreignProtocol(String protocol) {
        labelled("starling_foreign_protocol_connections",
                "connections to an MQTT listener that began in another protocol (TLS, HTTP, PROXY), closed",
                "protocol", protocol).increment();
    }

    /**
     * A QoS 1/2 PUBLISH the broker could not take: 5.0 got {@code reasonCode} in its PUBACK/PUBREC,
     * 3.1.1 (which has no such codes) had its connection closed without one, so that it resends.
     */
    public void publishRefused(int reasonCode) {
        int i = reasonCode & 0xFF;
        Counter c = publishesRefused.get(i);
        if (c == null) {
            c = Counter.builder("starling_publishes_refused").tag("reason", ReasonCode.name(reasonCode))
                    .description("QoS 1/2 publishes the broker could not take, by reason: 5.0 got the reason code, "
                            + "3.1.1 had its connection closed without PUBACK/PUBREC").register(registry);
            publishesRefused.set(i, c);
        }
        c.increment();
    }

    /** True for the CONNACK reason codes that {@link #authFailure} counts. */
    public static boolean isAuthFailure(int reasonCode) {
        for (int code : AUTH_REASONS) {
            if (code == reasonCode) {
                return true;
            }
        }
        return false;
    }

    /** A CONNECT refused for who the client is (one of {@link #isAuthFailure}'s codes). */
    public void authFailure(int reasonCode) {
        authFailures[reasonCode & 0xFF].increment();
    }

    public void dropped(DropReason reason) {
        dropped[reason.ordinal()].increment();
    }

    public double droppedTotal() {
        double sum = 0;
        for (Counter c : dropped) {
            sum += c.count();
        }
        return sum;
    }

    public double protocolErrorsTotal() {
        double sum = 0;
        for (int i = 0; i < protocolErrors.length(); i++) {
            Counter c = protocolErrors.get(i);
            sum += c == null ? 0 : c.count();
        }
        return sum;
    }

    public long connections() {
        return connections.get();
    }

    public long maxConnections() {
        return maxConnections.get();
    }

    public long queued() {
        return queued.sum();
    }

    public long inflight() {
        return inflight.sum();
    }

    public double received() {
        return received[0].count() + received[1].count() + received[2].count();
    }

    public double sent() {
        return sent[0].count() + sent[1].count() + sent[2].count();
    }

    public double bytesReceivedTotal() {
        return bytesIn.count();
    }

    public double bytesSentTotal() {
        return bytesOut.count();
    }
}
