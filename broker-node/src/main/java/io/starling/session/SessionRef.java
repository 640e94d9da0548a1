package io.starling.session;

import io.starling.metrics.DropReason;
import io.starling.protocol.ReasonCode;
import io.starling.routing.Delivery;
import io.starling.routing.PublishRefused;
import io.starling.routing.Subscriber;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stable handle of one client identifier's session on this node: what routes point at. It
 * puts together the pieces of a session, each with one concern:
 * <ul>
 *   <li>{@link Mailbox}: the FIFO every thread hands deliveries and tasks to, run on the
 *       session's context;</li>
 *   <li>{@link SubscriberBacklog}: QoS 0 flow control towards this subscriber;</li>
 *   <li>{@link Session}: the session state itself, which decides what to send and to journal;</li>
 *   <li>{@link SessionOwnership}: connects, takeovers, moves between nodes and adoption;</li>
 *   <li>{@link SessionTimers}: will delay, session expiry and the failover grace.</li>
 * </ul>
 * Everything but {@link #deliver} runs on the session's context.
 */
final class SessionRef implements Subscriber, Mailbox.Handler, Session.Host {
    private static final Logger log = LoggerFactory.getLogger(SessionRef.class);

    /** A unit of work for the session's context. */
    interface Task {
        void run(SessionRef ref);
    }

    private final String clientId;
    final Services services;
    final Mailbox mailbox;
    final SubscriberBacklog backlog;
    final SessionTimers timers;
    final SessionOwnership ownership;
    private final ReplicatedJournal journal;
    private volatile boolean online;

    // Confined to the context:
    Session session;
    /** The connection the session is attached to, or null. */
    MqttProtocol attached;
    /** The session ended here or moved on: a new connection needs a new ref. */
    boolean dead;
    /** The latest write of the session's record, which a SUBACK waits for. */
    Future<Void> recordWritten = Future.succeededFuture();

    SessionRef(String clientId, ContextInternal context, Services services) {
        this.clientId = clientId;
        this.services = services;
        this.mailbox = new Mailbox(context, this);
        this.backlog = new SubscriberBacklog(mailbox, services.config.maxQueuedMessages());
        this.timers = new SessionTimers(this, services);
        this.ownership = new SessionOwnership(this);
        this.journal = new ReplicatedJournal(clientId, services.store, services.disk);
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
    public String adoptedFrom() {
        return ownership.adoptedFrom();
    }

    @Override
    public long arrivedAt() {
        return ownership.arrivedAt();
    }

    /** Any thread: a message for this session. */
    @Override
    public void deliver(Delivery delivery) {
        if (delivery.qos() == 0 && !backlog.admitQos0()) {
            services.metrics.dropped(DropReason.QUEUE_FULL);
            return;
        }
        if (delivery.qos() > 0 && !backlog.admitQos12()) {
            // Bounded too, while a claim or takeover holds the mailbox: publishers hear 0x97, not success.
            delivery.refused(new PublishRefused(ReasonCode.QUOTA_EXCEEDED, "the session's mailbox is full"));
            return;
        }
        mailbox.post(delivery);
    }

    /** Any thread. */
    void post(Task task) {
        mailbox.post(task);
    }

    ContextInternal context() {
        return mailbox.context();
    }

    // ---- Mailbox.Handler ----

    @Override
    public void handle(Object item) {
        if (item instanceof Delivery d) {
            if (d.qos() == 0) {
                backlog.tookQos0();
            } else {
                backlog.tookQos12();
            }
            String moved = ownership.relayTo();
            if (moved != null) {
                services.transfer.relay(moved, clientId, d).onComplete(ar -> {
                    if (ar.succeeded()) {
                        d.accepted();
                    } else {
                        d.refused(new PublishRefused(ReasonCode.UNSPECIFIED_ERROR,
                                "not taken by node " + moved + ", where the session moved: " + ar.cause().getMessage()));
                    }
                });
            } else if (session != null) {
                session.deliver(d);
            } else {
                services.metrics.dropped(DropReason.NO_SESSION);
                d.accepted();
            }
        } else {
            ((Task) item).run(this);
        }
    }

    @Override
    public void failed(Object item, RuntimeException e) {
        log.error("client {}: handling {} failed; its connection is closed", clientId,
                item instanceof Delivery ? "a delivery" : "a session task", e);
        services.metrics.internalError();
        if (item instanceof Delivery d) {
            d.refused(new PublishRefused(ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR, "the session failed to take it"));
        }
        if (attached != null) {
            attached.onInternalError(e, null);
        }
    }

    // ---- Session.Host ----

    @Override
    public void onContext(Runnable task) {
        mailbox.runSoon((Task) r -> task.run());
    }

    @Override
    public boolean holdsPublishers() {
        return backlog.holdsPublishers();
    }

    @Override
    public void progress(int queued, boolean wrote) {
        backlog.progress(queued, wrote);
    }

    // ---- the session's pieces, used by ownership and the connection ----

    Session newSession(long expirySeconds) {
        Session s = new Session(clientId, new Session.Limits(services.config.maxQueuedMessages(),
                services.config.maxInflight(), services.config.effectiveMaxQueuedBytes()), services.metrics, journal, this);
        s.expirySeconds = expirySeconds;
        return s;
    }

    ReplicatedJournal journal() {
        return journal;
    }

    void setOnline(boolean on) {
        online = on;
    }

    /** Binds the session to a connection that sent CONNECT (its CONNACK has gone). */
    void attach(MqttProtocol ch) {
        attached = ch;
        session.attach(ch.outbound(), ch.version(), ch.clientReceiveMaximum(), ch.clientTopicAliasMaximum(), ch::mayRead);
    }

    /** The attached connection goes (closed, taken over, the node leaves); shared messages go to another member. */
    void detach() {
        attached = null;
        online = false;
        redeliverShared(session.detach(), true);
    }

    /** @return true when this filter was already subscribed (Retain Handling 1, [MQTT-3.3.1-10]). */
    boolean subscribe(Subscription sub) {
        session.subscribe(sub);
        boolean existed = services.router.subscribe(this, sub);
        recordWritten = persistMeta();
        return existed;
    }

    boolean unsubscribe(TopicFilter filter) {
        boolean had = session.unsubscribe(filter);
        boolean existed = services.router.unsubscribe(clientId, filter) || had;
        persistMeta();
        return existed;
    }

    /** Puts the session's subscriptions into the router (after it arrived from another node). */
    void routeSubscriptions() {
        for (Subscription sub : session.subscriptions.values()) {
            services.router.subscribe(this, sub);
        }
    }

    /**
     * Writes the session's record (expiry, subscriptions, pending will) to the journal. A session
     * that ends with its connection is kept too while it has a will: if its node dies, the node
     * that adopts it publishes the will (spec 3.1.2.5) and ends it.
     */
    Future<Void> persistMeta() {
        Session s = session;
        if (s != null && journal.active() && (s.expirySeconds > 0 || timers.will() != null)) {
            return journal.record(s.meta(timers.will()));
        }
        return Future.succeededFuture();
    }

    /** The attached connection closed; publish or schedule the will, and start the expiry clock. */
    void connectionLost(MqttProtocol ch, boolean publishWill, long expirySeconds) {
        Session s = session;
        if (s == null || attached != ch) {
            return; // taken over meanwhile
        }
        detach();
        s.expirySeconds = expirySeconds;
        timers.connectionLost(publishWill, expirySeconds);
        persistMeta(); // the expiry and the will may have changed with the DISCONNECT
    }

    /** The session ends here (expiry, or its connection went with Session Expiry 0). */
    void endSession() {
        timers.cancel();
        if (session != null) {
            endState(session);
            session = null;
        }
        dead = true;
        services.registry.remove(clientId, this);
        services.transfer.released(clientId);
    }

    /** Discards a session's state: its routes, its messages (shared ones go to another member), its journal. */
    void endState(Session s) {
        List<Subscription> subs = List.copyOf(s.subscriptions.values());
        List<Delivery> back = s.end();
        for (Subscription sub : subs) {
            services.router.unsubscribe(clientId, sub.filter());
        }
        redeliverShared(back, false);
    }

    /** Spec 4.8.2: a shared message its member did not complete goes to another member of its group. */
    void redeliverShared(List<Delivery> back, boolean sessionLivesOn) {
        for (Delivery d : back) {
            // With no other member, a session that lives on keeps the message for its own return.
            if (!services.router.redeliverShared(d, clientId, sessionLivesOn ? this : null)) {
                services.metrics.dropped(DropReason.SESSION_ENDED);
            }
        }
    }

    /** For the $SYS and metrics views: this session's queue depth. */
    int queued() {
        return session == null ? 0 : session.queued();
    }
}
