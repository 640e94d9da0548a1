package io.starling.session;

import io.starling.config.ListenerConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Holds one client to its listener's rates ({@link InboundRate}): when a publish leaves it owing,
 * its connection is not read until it has paid, so its TCP window closes and it is slowed by the
 * network rather than by drops; the QoS 1/2 publishes taken while it owes are acknowledged once
 * it has paid (their acknowledgements are sent in order, so the later ones wait as well). One
 * timer per pause, re-armed while later publishes (already read) added to the debt. Confined to
 * the connection's context.
 */
final class RatePause {
    private final InboundRate rate;
    private final Vertx vertx;
    private final InputGate gate;
    private final java.util.function.Consumer<InboundRate.Limit> onPause;
    /** Non-null while the client owes. */
    private Promise<Void> paid;
    private long timer = -1;
    private boolean closed;

    private RatePause(InboundRate rate, Vertx vertx, InputGate gate, java.util.function.Consumer<InboundRate.Limit> onPause) {
        this.rate = rate;
        this.vertx = vertx;
        this.gate = gate;
        this.onPause = onPause;
    }

    /** @return null when the listener limits neither rate */
    static RatePause of(ListenerConfig.Rates rates, Vertx vertx, InputGate gate,
                        java.util.function.Consumer<InboundRate.Limit> onPause) {
        InboundRate r = InboundRate.of(rates.clientMessagesRate(), rates.clientBytesRate());
        return r == null ? null : new RatePause(r, vertx, gate, onPause);
    }

    /**
     * Counts a publish of {@code bytes} against the client's rates.
     *
     * @return false when it is refused: a QoS 0 publish read while the client already owes more
     *         than a second's worth (QoS 1/2, {@code mustTake}, are always taken)
     */
    boolean take(int bytes, boolean mustTake) {
        long now = System.nanoTime();
        long owed = rate.take(bytes, now, mustTake);
        if (owed < 0) {
            return false;
        }
        if (owed > 0 && paid == null && !closed) {
            paid = Promise.promise();
            gate.close(InputGate.OVER_RATE);
            onPause.accept(rate.over());
            arm(owed);
        }
        return true;
    }

    /** Completes when the client has paid what it owes (at once when it owes nothing). */
    Future<Void> paid() {
        return paid == null ? Future.succeededFuture() : paid.future();
    }

    /** The rate a refused publish went over, for its log line and metric. */
    InboundRate.Limit over() {
        return rate.over();
    }

    void close() {
        closed = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void arm(long nanos) {
        timer = vertx.setTimer(Math.max(1, (nanos + 999_999) / 1_000_000), t -> {
            timer = -1;
            if (closed) {
                return;
            }
            long more = rate.owed(System.nanoTime());
            if (more > 0) {
                arm(more); // publishes already read when the pause began owe more
                return;
            }
            Promise<Void> done = paid;
            paid = null;
            gate.open(InputGate.OVER_RATE);
            done.complete();
        });
    }
}
