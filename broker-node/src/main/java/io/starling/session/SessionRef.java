package io.starling.session;

import io.starling.protocol.Connect;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscriber;
import io.starling.topic.TopicName;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stable handle of one client identifier's session on this node, and its mailbox. Routes hold
 * it; any thread may {@link #deliver} to it. Everything posted is run in order on the context the
 * session lives on, which moves to the context of each new connection: one FIFO queue keeps the
 * order of deliveries across such a move (spec 4.6).
 *
 * <p>The session state ({@link #session}, timers, will) is only touched on that context.
 */
final class SessionRef implements Subscriber {
    private static final Logger log = LoggerFactory.getLogger(SessionRef.class);
    private static final int BATCH = 256;

    /** A unit of work for the session's context. */
    interface Task {
        void run(SessionRef ref);
    }

    private final String clientId;
    private final Services services;
    private final ConcurrentLinkedQueue<Object> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile ContextInternal context;
    private volatile boolean online;

    // Confined to context:
    Session session;
    private boolean dead;
    private Connect.Will will;
    private long willTimer = -1;
    private long expiryTimer = -1;
    private int generation;

    SessionRef(String clientId, ContextInternal context, Services services) {
        this.clientId = clientId;
        this.context = context;
        this.services = services;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public boolean isOnline() {
        return online;
    }

    @Override
    public void deliver(Delivery delivery) {
        post(delivery);
    }

    void post(Object item) {
        inbox.offer(item);
        if (scheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> drain());
        }
    }

    private boolean onContext() {
        return context.nettyEventLoop().inEventLoop();
    }

    private void drain() {
        if (!onContext()) {
            context.runOnContext(v -> drain()); // the session moved while this was scheduled
            return;
        }
        int n = 0;
        while (true) {
            Object item = inbox.poll();
            if (item == null) {
                scheduled.set(false);
                if (inbox.isEmpty() || !scheduled.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            process(item);
            if (!onContext() || ++n == BATCH) {
                context.runOnContext(v -> drain()); // moved by that item, or let other work run
                return;
            }
        }
    }

    private void process(Object item) {
        if (item instanceof Delivery d) {
            if (session != null) {
                session.deliver(d);
            } else {
                services.metrics.dropped("no_session");
            }
        } else {
            ((Task) item).run(this);
        }
    }

    // ---- connect, takeover, disconnect (all run on the context through post) ----

    /** A CONNECT for this client identifier, taken in mailbox order so that racing connects are serialized. */
    void attach(Channel ch, Channel.AttachRequest req) {
        if (dead) {
            services.registry.connect(ch, req); // ended meanwhile: start over with a fresh ref
            return;
        }
        Session s = session;
        if (s != null && s.channel != null) {
            Channel old = s.channel;
            s.detach();
            online = false;
            old.takenOver(); // [MQTT-3.1.4-3] the existing connection is closed, 5.0: reason 0x8E
            // Spec 3.1.2.5: the old will goes out unless the new connection resumes the session and a delay runs.
            if (will != null && (req.cleanStart() || willDelay(will) == 0)) {
                publishWill();
            }
        }
        cancelTimers();
        if (s != null && req.cleanStart()) {
            if (will != null) {
                publishWill(); // the session ends, so its pending will is sent (spec 3.1.3.2.2)
            }
            s.end();
            s = null;
        }
        will = null;
        boolean present = s != null;
        if (s == null) {
            s = new Session(clientId, this, services);
        }
        s.expirySeconds = req.expirySeconds();
        s.attaching = true;
        session = s;
        will = req.will();
        generation++;
        online = true;
        ContextInternal target = ch.context();
        context = target; // from here on, deliveries run on the new connection's context
        Session attached = s;
        if (target.nettyEventLoop().inEventLoop()) {
            ch.attached(this, attached, present);
        } else {
            target.runOnContext(v -> ch.attached(this, attached, present));
        }
    }

    /** The attached connection closed; publish or schedule the will, and start the expiry clock. */
    void connectionLost(Channel ch, boolean publishWill, long expirySeconds) {
        Session s = session;
        if (s == null || s.channel != ch) {
            return; // taken over meanwhile
        }
        s.detach();
        online = false;
        s.expirySeconds = expirySeconds;
        if (!publishWill) {
            will = null; // [MQTT-3.1.2-10] a normal DISCONNECT discards the will
        }
        long sessionMs = expirySeconds * 1000;
        if (will != null) {
            long delay = Math.min(willDelay(will), expirySeconds);
            if (delay == 0) {
                publishWill();
            } else {
                int gen = generation;
                willTimer = services.vertx.setTimer(delay * 1000, t -> post((Task) r -> r.willDelayElapsed(gen)));
            }
        }
        if (expirySeconds == 0) {
            endSession();
        } else if (expirySeconds < 0xFFFF_FFFFL) { // spec 3.1.2.11.2: 0xFFFFFFFF never expires
            int gen = generation;
            expiryTimer = services.vertx.setTimer(sessionMs, t -> post((Task) r -> r.expired(gen)));
        }
    }

    private void willDelayElapsed(int gen) {
        if (gen == generation && !online && will != null) {
            willTimer = -1;
            publishWill();
        }
    }

    private void expired(int gen) {
        if (gen == generation && !online && session != null) {
            expiryTimer = -1;
            if (will != null) {
                publishWill(); // the session ends before the will delay: the will goes now
            }
            log.debug("client {}: session expired", clientId);
            endSession();
        }
    }

    private void endSession() {
        cancelTimers();
        session.end();
        session = null;
        dead = true;
        services.registry.remove(clientId, this);
    }

    private void cancelTimers() {
        if (willTimer >= 0) {
            services.vertx.cancelTimer(willTimer);
            willTimer = -1;
        }
        if (expiryTimer >= 0) {
            services.vertx.cancelTimer(expiryTimer);
            expiryTimer = -1;
        }
    }

    private static long willDelay(Connect.Will w) {
        Long d = w.properties() == null ? null : w.properties().willDelayInterval;
        return d == null ? 0 : d;
    }

    private void publishWill() {
        Connect.Will w = will;
        will = null;
        long now = System.currentTimeMillis();
        Long expiry = w.properties() == null ? null : w.properties().messageExpiryInterval;
        Message m = new Message(w.topic(), w.payload(), w.qos(), w.retain(), Message.forwardedProperties(w.properties()),
                expiry == null ? 0 : now + expiry * 1000, clientId, System.nanoTime());
        services.metrics.willPublished();
        services.router.publish(TopicName.of(w.topic()), m);
    }

    Context context() {
        return context;
    }
}
