package io.starling.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.starling.protocol.ReasonCode;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The broker's counters and gauges, on a Micrometer registry (Prometheus is plugged in by the
 * metrics endpoint). Every method is safe from any thread and cheap enough for the publish path.
 */
public final class BrokerMetrics {
    private final MeterRegistry registry;
    private final Counter[] received = new Counter[3];
    private final Counter[] sent = new Counter[3];
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter connectionsAccepted;
    private final Counter willsPublished;
    private final Counter forwarded;
    private final Counter forwardsReceived;
    private final Counter forwardsFailed;
    private final ConcurrentHashMap<String, Counter> protocolErrors = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> dropped = new ConcurrentHashMap<>();
    private final AtomicLong connections = new AtomicLong();
    private final AtomicLong maxConnections = new AtomicLong();

    public BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (int q = 0; q < 3; q++) {
            received[q] = Counter.builder("starling_messages_received").tag("qos", String.valueOf(q))
                    .description("PUBLISH packets received from clients").register(registry);
            sent[q] = Counter.builder("starling_messages_sent").tag("qos", String.valueOf(q))
                    .description("PUBLISH packets sent to clients").register(registry);
        }
        bytesIn = Counter.builder("starling_bytes_received").baseUnit("bytes").register(registry);
        bytesOut = Counter.builder("starling_bytes_sent").baseUnit("bytes").register(registry);
        connectionsAccepted = Counter.builder("starling_connections_accepted")
                .description("TCP connections accepted").register(registry);
        forwarded = Counter.builder("starling_messages_forwarded")
                .description("messages forwarded to another node, once per node").register(registry);
        forwardsReceived = Counter.builder("starling_messages_forwarded_in")
                .description("messages other nodes forwarded to this one").register(registry);
        forwardsFailed = Counter.builder("starling_forwards_failed")
                .description("QoS 1/2 forwards whose node left or whose link broke before it accepted them")
                .register(registry);
        willsPublished = Counter.builder("starling_wills_published")
                .description("will messages published").register(registry);
        registry.gauge("starling_connections", connections);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void gauge(String name, String description, Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }

    public void messageReceived(int qos) {
        received[qos].increment();
    }

    public void messageSent(int qos) {
        sent[qos].increment();
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

    public void willPublished() {
        willsPublished.increment();
    }

    public void connectionClosed() {
        connections.decrementAndGet();
    }

    /** A client broke a rule; tagged with the reason code's name, e.g. malformed_packet. */
    public void protocolError(int reasonCode) {
        protocolErrors.computeIfAbsent(ReasonCode.name(reasonCode), r -> Counter.builder("starling_protocol_errors")
                .tag("reason", r).description("connections closed for breaking the protocol").register(registry))
                .increment();
    }

    /** A message was not delivered, e.g. queue_full, expired, too_large, offline_qos0, no_session. */
    public void dropped(String reason) {
        dropped.computeIfAbsent(reason, r -> Counter.builder("starling_messages_dropped")
                .tag("reason", r).description("messages not delivered, by reason").register(registry))
                .increment();
    }

    public double droppedTotal() {
        return dropped.values().stream().mapToDouble(Counter::count).sum();
    }

    public double protocolErrorsTotal() {
        return protocolErrors.values().stream().mapToDouble(Counter::count).sum();
    }

    public long connections() {
        return connections.get();
    }

    public long maxConnections() {
        return maxConnections.get();
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
