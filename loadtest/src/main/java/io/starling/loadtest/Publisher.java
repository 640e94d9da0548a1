package io.starling.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.TimeUnit;

/**
 * Publishes numbered messages on one connection, on its event loop, in one of two modes:
 *
 * <ul>
 *   <li>fixed rate (open loop): message k is due at start + offset + k * interval. Its header carries
 *   that scheduled time, not the time it was written, so when the broker (or this process) stalls,
 *   the wait shows up as latency instead of being hidden (no coordinated omission). Messages that
 *   fall due while the inflight window is full wait and go out as soon as acknowledgements return;
 *   </li>
 *   <li>as fast as possible (closed loop): keep the window full; for QoS 0 write until the socket's
 *   write queue is full and resume when it drains.</li>
 * </ul>
 *
 * Publishing stops at the end time, at the message cap, or when told to; every loop is bounded by
 * a per-run batch so that one publisher never holds its event loop for long.
 */
public final class Publisher implements MqttClient.Listener {
    /** Most messages written in one go before yielding the event loop to the other connections. */
    private static final int BATCH = 256;

    private final Pacer pacer;
    private final MqttClient client;
    private final int index;
    private final String topic;
    private final int qos;
    private final int payloadSize;
    private final long cap;
    private final Stats stats;
    private final double ratePerSecond;
    private final long firstOffsetNanos;

    /** Messages written; single writer (the event loop), read by the main thread for the verdict. */
    private volatile long sent;
    private volatile boolean finished;
    private boolean stopped = true;
    private long endNanos;
    private long startNanos;
    private long intervalNanos;
    /** A wake-up is pending on the pacer (it cannot be cancelled: a stopped publisher ignores it). */
    private boolean tickPending;
    private boolean pumpScheduled;

    /**
     * @param pacer         wakes a fixed-rate publisher at its messages' scheduled times
     * @param ratePerSecond this publisher's share of --rate, or 0 for as fast as possible
     * @param cap           most messages this publisher sends (its share of --messages), or Long.MAX_VALUE
     * @param firstOffsetNanos where in its interval this publisher's first message falls, to spread
     *                         publishers evenly instead of firing them all at once
     */
    public Publisher(Pacer pacer, MqttClient client, int index, String topic, Options options, double ratePerSecond,
                     long cap, long firstOffsetNanos, Stats stats) {
        this.pacer = pacer;
        this.client = client;
        this.index = index;
        this.topic = topic;
        this.qos = options.qos;
        this.payloadSize = options.payload;
        this.cap = cap;
        this.stats = stats;
        this.ratePerSecond = ratePerSecond;
        this.firstOffsetNanos = firstOffsetNanos;
        client.listener(this);
    }

    public MqttClient client() {
        return client;
    }

    public long sent() {
        return sent;
    }

    /** True once this publisher will send nothing more. */
    public boolean finished() {
        return finished;
    }

    /** Starts publishing at startNanos (System.nanoTime) until endNanos. Call from any thread. */
    public void start(long startNanos, long endNanos) {
        client.context().runOnContext(v -> {
            this.startNanos = startNanos;
            this.endNanos = endNanos;
            this.stopped = false;
            if (!client.isConnected()) {
                finish();
                return;
            }
            if (ratePerSecond > 0) {
                intervalNanos = Math.max(1, (long) (1e9 / ratePerSecond));
                scheduleTick(startNanos + firstOffsetNanos);
            } else {
                pump();
            }
        });
    }

    /** Stops sending; the future completes on the event loop, after which {@link #sent()} is final. */
    public Future<Void> stop() {
        Promise<Void> done = Promise.promise();
        client.context().runOnContext(v -> {
            finish();
            done.complete();
        });
        return done.future();
    }

    private void finish() {
        stopped = true;
        finished = true;
    }

    @Override
    public void onCanSend() {
        if (!stopped) {
            pump();
        }
    }

    @Override
    public void onClosed() {
        finish();
    }

    /** Sends what is due (fixed rate) or what the window allows (as fast as possible). */
    private void pump() {
        if (stopped) {
            return;
        }
        long now = System.nanoTime();
        if (now >= endNanos || sent >= cap) {
            finish();
            return;
        }
        if (now < startNanos) {
            // Not before the common start: its timestamp would fall outside the measured window.
            if (!tickPending) {
                scheduleTick(startNanos);
            }
            return;
        }
        if (ratePerSecond > 0) {
            sendDue(now);
            return;
        }
        int n = 0;
        while (n < BATCH && sent < cap && client.canPublish(qos)) {
            send(EpochClock.toEpochNanos(System.nanoTime()));
            n++;
        }
        client.flush();
        if (sent >= cap) {
            finish();
        } else if (n == BATCH && client.canPublish(qos) && !pumpScheduled) {
            // More could go now: yield to the other connections on this event loop, then carry on.
            // (QoS 1/2 otherwise resume on acknowledgements, QoS 0 on the socket's drain.)
            // Scheduled, not queued with runOnContext: Netty 4.2 runs queued tasks for up to a second
            // before it polls sockets again, so pumps that queue themselves again kept this event
            // loop's subscribers from reading (a fan-in subscriber received about 1,000 msg/s while
            // its publishers ran). A scheduled task runs after the next I/O pass.
            pumpScheduled = true;
            ((ContextInternal) client.context()).nettyEventLoop().schedule(() -> {
                pumpScheduled = false;
                pump();
            }, 0, TimeUnit.NANOSECONDS);
        }
    }

    /** Fixed rate: sends every message whose scheduled time has come, as far as the window allows. */
    private void sendDue(long now) {
        int n = 0;
        long due = scheduledNanos(sent);
        while (due <= now && due < endNanos && sent < cap && n < BATCH * 16 && client.canPublish(qos)) {
            send(EpochClock.toEpochNanos(due));
            n++;
            due = scheduledNanos(sent);
        }
        client.flush();
        if (sent >= cap || due >= endNanos) {
            finish();
            return;
        }
        if (!tickPending) {
            scheduleTick(due);
        }
    }

    private long scheduledNanos(long k) {
        return startNanos + firstOffsetNanos + k * intervalNanos;
    }

    private void scheduleTick(long atNanos) {
        // Wake on this connection's event loop at the next due time, and catch up on everything due
        // by then (several messages per wake-up when the event loop was busy).
        tickPending = true;
        pacer.at(atNanos, () -> client.context().runOnContext(v -> {
            tickPending = false;
            pump();
        }));
    }

    private void send(long sentEpochNanos) {
        long seq = sent;
        byte[] payload = new PayloadHeader(index, seq, sentEpochNanos).toPayload(payloadSize);
        client.publish(topic, qos, payload);
        sent = seq + 1;
        stats.messageSent(sentEpochNanos);
    }
}
