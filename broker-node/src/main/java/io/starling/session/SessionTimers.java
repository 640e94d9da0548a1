package io.starling.session;

import io.starling.protocol.Connect;
import io.starling.routing.Message;
import io.starling.topic.TopicName;

/**
 * Carries out what {@link SessionLifetime} decides for one session: arms and cancels the will
 * delay and session expiry timers, publishes wills, and runs the failover grace timer. The
 * decisions are {@link SessionLifetime}'s; a fired timer comes back through the session's mailbox.
 * Confined to the session's context.
 */
final class SessionTimers {
    private final SessionRef ref;
    private final Services services;
    private final SessionLifetime lifetime = new SessionLifetime();
    private long willTimer = -1;
    private long expiryTimer = -1;
    private long graceTimer = -1;

    SessionTimers(SessionRef ref, Services services) {
        this.ref = ref;
        this.services = services;
    }

    /** A connection claims the session: cancels timers, publishes an old will if due; true if the session ends. */
    boolean connected(boolean existing, boolean takeover, boolean cleanStart, Connect.Will newWill) {
        SessionLifetime.Plan plan = lifetime.connected(existing, takeover, cleanStart, newWill);
        cancel();
        if (plan.will() != null) {
            publishWill(plan.will());
        }
        return plan.endSession();
    }

    /** The connection was lost (or the session arrived offline): will and expiry clocks start. */
    void connectionLost(boolean publishWill, long expirySeconds) {
        carryOut(lifetime.connectionLost(publishWill, expirySeconds));
    }

    /** The will of the current connection, or the one still pending after it was lost. */
    Connect.Will will() {
        return lifetime.will();
    }

    /** The session's client was cut off by a node failure or leave: its grace period ends with {@code over}. */
    void startGrace(long millis, Runnable over) {
        if (graceTimer >= 0) {
            services.vertx.cancelTimer(graceTimer);
        }
        graceTimer = services.vertx.setTimer(millis, id -> ref.post((SessionRef.Task) r -> {
            if (graceTimer == id) {
                graceTimer = -1;
                over.run();
            }
        }));
    }

    private void timerFired(long id, SessionLifetime.Timer timer) {
        if (id == willTimer) {
            willTimer = -1;
        } else if (id == expiryTimer) {
            expiryTimer = -1;
        }
        SessionLifetime.Plan plan = lifetime.timerFired(timer);
        carryOut(plan);
        if (plan.will() != null && !plan.endSession()) {
            ref.persistMeta(); // the will is out: a node adopting the session must not send it again
        }
    }

    private void carryOut(SessionLifetime.Plan plan) {
        if (plan.cancelTimers()) {
            cancel();
        }
        if (plan.will() != null) {
            publishWill(plan.will());
        }
        if (plan.endSession()) {
            ref.endSession();
        }
        if (plan.willTimer() != null) {
            willTimer = arm(plan.willTimer());
        }
        if (plan.expiryTimer() != null) {
            expiryTimer = arm(plan.expiryTimer());
        }
    }

    private long arm(SessionLifetime.Timer timer) {
        return services.vertx.setTimer(timer.delayMillis(),
                id -> ref.post((SessionRef.Task) r -> timerFired(id, timer)));
    }

    void cancel() {
        for (long t : new long[] {willTimer, expiryTimer, graceTimer}) {
            if (t >= 0) {
                services.vertx.cancelTimer(t);
            }
        }
        willTimer = -1;
        expiryTimer = -1;
        graceTimer = -1;
    }

    private void publishWill(Connect.Will w) {
        long now = System.currentTimeMillis();
        Long expiry = w.properties() == null ? null : w.properties().messageExpiryInterval;
        Message m = new Message(w.topic(), w.payload(), w.qos(), w.retain(), Message.forwardedProperties(w.properties()),
                expiry == null ? 0 : now + expiry * 1000, ref.clientId(), System.nanoTime());
        services.metrics.willPublished();
        services.router.publish(TopicName.of(w.topic()), m);
    }
}
