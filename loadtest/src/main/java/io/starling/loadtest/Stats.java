package io.starling.loadtest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Live counters shared by every connection. Writers are the event loops (LongAdder and the
 * HdrHistogram {@link Recorder} are wait-free for them); the reader is the main thread, once a
 * second for the progress line and once at the end.
 */
public final class Stats {
    /** Messages written to a socket, all of them (warm-up included). */
    public final LongAdder sent = new LongAdder();
    /** Deliveries to subscribers, duplicates included, all of them. */
    public final LongAdder received = new LongAdder();
    /** Sent / received with a send timestamp inside the measured window (after warm-up). */
    public final LongAdder sentMeasured = new LongAdder();
    public final LongAdder receivedMeasured = new LongAdder();
    /** QoS 1/2 messages published and not yet fully acknowledged. */
    public final AtomicInteger inflight = new AtomicInteger();
    public final AtomicInteger openConnections = new AtomicInteger();

    public final LongAdder connectsAttempted = new LongAdder();
    public final LongAdder connectsSucceeded = new LongAdder();
    public final LongAdder connectsFailed = new LongAdder();
    private final AtomicLong firstConnectAttemptNanos = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastConnAckNanos = new AtomicLong(Long.MIN_VALUE);

    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

    /** End-to-end latency in microseconds, from the header's timestamp to receipt. */
    private final Recorder latency = new Recorder(3);
    /** Connect latency in microseconds, from the TCP connect attempt to CONNACK. */
    private final Recorder connectLatency = new Recorder(3);
    private final Histogram latencyTotal = new Histogram(3);
    /** cross-node: the latency of the same messages to subscribers on the publishers' own node. */
    private final Recorder referenceLatency = new Recorder(3);
    private final Histogram referenceLatencyTotal = new Histogram(3);
    private final Histogram connectLatencyTotal = new Histogram(3);

    /** Epoch nanos from which messages count (end of warm-up); Long.MAX_VALUE until publishing starts. */
    public volatile long measureFromEpochNanos = Long.MAX_VALUE;
    /** System.nanoTime of the last measured receipt. */
    private final AtomicLong lastMeasuredReceiveNanos = new AtomicLong(Long.MIN_VALUE);

    /** TLS connections by negotiated protocol and cipher suite, e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256". */
    private final Map<String, LongAdder> tlsSessions = new ConcurrentHashMap<>();

    public void tlsSession(javax.net.ssl.SSLSession session) {
        String what = session == null ? "no session" : session.getProtocol() + " " + session.getCipherSuite();
        tlsSessions.computeIfAbsent(what, k -> new LongAdder()).increment();
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256 x5000", by kind, sorted; "none" before any TLS connection. */
    public String tlsSession() {
        if (tlsSessions.isEmpty()) {
            return "none";
        }
        Map<String, Long> m = new TreeMap<>();
        tlsSessions.forEach((k, v) -> m.put(k, v.sum()));
        return m.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue())
                .collect(java.util.stream.Collectors.joining(", "));
    }

    public void error(String kind) {
        errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    public long errorCount() {
        long n = 0;
        for (LongAdder a : errors.values()) {
            n += a.sum();
        }
        return n;
    }

    /** Errors by kind, sorted by name, for a stable report. */
    public Map<String, Long> errorsByKind() {
        Map<String, Long> m = new TreeMap<>();
        errors.forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    public void connectAttempt(long nanoTime) {
        connectsAttempted.increment();
        firstConnectAttemptNanos.accumulateAndGet(nanoTime, Math::min);
    }

    public void connectSucceeded(long attemptNanoTime, long nanoTime) {
        connectsSucceeded.increment();
        lastConnAckNanos.accumulateAndGet(nanoTime, Math::max);
        connectLatency.recordValue(Math.max(0, (nanoTime - attemptNanoTime) / 1000));
    }

    public void connectFailed(String kind) {
        connectsFailed.increment();
        error(kind);
    }

    /** Connects per second from the first attempt to the last CONNACK; 0 when none succeeded. */
    public double connectRate() {
        long first = firstConnectAttemptNanos.get();
        long last = lastConnAckNanos.get();
        long n = connectsSucceeded.sum();
        if (n == 0 || last <= first) {
            return 0;
        }
        return n / ((last - first) / 1e9);
    }

    public void messageSent(long sentEpochNanos) {
        sent.increment();
        if (sentEpochNanos >= measureFromEpochNanos) {
            sentMeasured.increment();
        }
    }

    /**
     * Records a delivery whose header carries this send time, received now; a {@code reference}
     * delivery's latency goes to {@link #referenceLatency()} instead.
     */
    public void messageReceived(long sentEpochNanos, long nowNanoTime, boolean reference) {
        received.increment();
        if (sentEpochNanos >= measureFromEpochNanos) {
            receivedMeasured.increment();
            long micros = (EpochClock.toEpochNanos(nowNanoTime) - sentEpochNanos) / 1000;
            // Across processes the two clocks' bases differ by microseconds; never record below 0.
            (reference ? referenceLatency : latency).recordValue(Math.max(0, micros));
            lastMeasuredReceiveNanos.accumulateAndGet(nowNanoTime, Math::max);
        }
    }

    public long lastMeasuredReceiveNanos() {
        return lastMeasuredReceiveNanos.get();
    }

    /** Folds what the recorders gathered since the last call into the totals and returns them. */
    public synchronized Histogram latency() {
        latencyTotal.add(latency.getIntervalHistogram());
        return latencyTotal;
    }

    public synchronized Histogram referenceLatency() {
        referenceLatencyTotal.add(referenceLatency.getIntervalHistogram());
        return referenceLatencyTotal;
    }

    public synchronized Histogram connectLatency() {
        connectLatencyTotal.add(connectLatency.getIntervalHistogram());
        return connectLatencyTotal;
    }
}
