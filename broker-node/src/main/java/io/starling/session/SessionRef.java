package io.starling.session;

import io.starling.metrics.DropReason;
import io.starling.protocol.Connect;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscriber;
import io.starling.topic.TopicName;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stable handle of one client identifier's session on this node, and its mailbox. Routes hold
 * it; any thread may {@link #deliver} to it. Everything posted is run in order on the context the
 * session lives on, which moves to the context of each new connection: one FIFO queue keeps the
 * order of deliveries across such a move (spec 4.6).
 *
 * <p>The session state ({@link #session}, timers, will) is only touched on that context. When the will
 * goes out and when the session ends is decided by {@link SessionLifetime}; this class carries it out.
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
    /** 1 while a drain is scheduled on the context (a field, not an AtomicBoolean: one object less per session). */
    private volatile int scheduled;
    /**
     * QoS 0 deliveries waiting in the inbox. Publishers of QoS 0 are never slowed down (nothing to
     * hold back), so without a bound a subscriber slower than its publishers would let the inbox,
     * in front of the session's bounded queue, grow until the heap ran out.
     */
    private volatile int inboxQos0;
    /** The session's queue length, as the session last published it (written on the context only). */
    private volatile int sessionQueued;
    /** When the session last wrote a message out. */
    private volatile long progressNanos = System.nanoTime();
    /**
     * QoS 0 publishers paused by this subscriber's backlog, woken one at a time as it drains;
     * created by the first one (most sessions never congest: about 70 B saved per idle client).
     */
    private volatile ConcurrentLinkedQueue<Runnable> drainWaiters;
    private static final AtomicIntegerFieldUpdater<SessionRef> SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(SessionRef.class, "scheduled");
    private static final AtomicIntegerFieldUpdater<SessionRef> INBOX_QOS0 =
            AtomicIntegerFieldUpdater.newUpdater(SessionRef.class, "inboxQos0");
    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<SessionRef, ConcurrentLinkedQueue> DRAIN_WAITERS =
            AtomicReferenceFieldUpdater.newUpdater(SessionRef.class, ConcurrentLinkedQueue.class, "drainWaiters");
    private long lastWakeNanos;
    private volatile ContextInternal context;
    private volatile boolean online;

    // Confined to context:
    Session session;
    private boolean dead;
    private final SessionLifetime lifetime = new SessionLifetime();
    private long willTimer = -1;
    private long expiryTimer = -1;
    /** True while a CONNECT waits for the cluster (claim, takeover): later items wait in the inbox. */
    private boolean paused;
    /** Set once the session moved to another node: deliveries still routed here go on to it. */
    private volatile String relayTo;
    /** The dead node this session was adopted from: messages that were on their way there come here. */
    private volatile String adoptedFrom;
    private java.util.List<io.starling.routing.Subscription> movedSubscriptions = java.util.List.of();
    /** The epoch of this node's latest claim of the client identifier; 0 while a claim is pending. */
    private long claimEpoch;
    /** TAKE requests that arrived while this node's own claim was pending. */
    private final java.util.List<Runnable> deferredTakes = new java.util.ArrayList<>();

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
    public String adoptedFrom() {
        return adoptedFrom;
    }

    @Override
    public void deliver(Delivery delivery) {
        if (delivery.qos() == 0) {
            // QoS 0 may be lost (spec 4.3.1): past the bound it is dropped and counted, like a full queue.
            // One read of a publisher's socket can carry thousands of small packets, all routed
            // before a pause takes effect: the hard bound leaves room for that above the signal.
            int signalAt = signalAt();
            int waiting = inboxQos0;
            if (waiting >= signalAt * Session.QOS0_OVERSHOOT) {
                services.metrics.dropped(io.starling.metrics.DropReason.QUEUE_FULL);
                if (holdsPublishers()) {
                    Congestion.signal(this);
                }
                return;
            }
            if (waiting + sessionQueued >= signalAt && holdsPublishers()) {
                Congestion.signal(this); // the publisher's channel stops reading until this backlog drains
            }
            INBOX_QOS0.incrementAndGet(this);
        }
        post(delivery);
    }

    /** QoS 0 backlog (inbox and session queue) from which publishers are paused. */
    private int signalAt() {
        return Math.max(1000, services.config.maxQueuedMessages());
    }

    /** With no write for this long, a subscriber no longer holds its publishers back. */
    private static final long STUCK_NANOS = 1_000_000_000L;
    /** How stale the progress clock may be, against the second that makes a subscriber stuck. */
    private static final long PROGRESS_GRAIN_NANOS = 1_000_000;
    /** At most one paused publisher is woken per this interval (each brings one socket read, up to 64 KB). */
    private static final long WAKE_INTERVAL_NANOS = 1_000_000;

    /**
     * Whether QoS 0 publishers should wait for this subscriber: it is congested and still writing.
     * One that wrote nothing for {@link #STUCK_NANOS} would hold back every other subscriber of its
     * publishers; its messages are dropped instead (queue_full).
     */
    boolean holdsPublishers() {
        return System.nanoTime() - progressNanos < STUCK_NANOS;
    }

    /** True while this subscriber's QoS 0 backlog is at or above half the signal level. */
    boolean congested() {
        return inboxQos0 + sessionQueued >= signalAt() / 2;
    }

    /** Runs {@code resume} when it is this paused publisher's turn (the backlog drained). Any thread. */
    void whenDrained(Runnable resume) {
        ConcurrentLinkedQueue<Runnable> waiters = drainWaiters;
        if (waiters == null) {
            DRAIN_WAITERS.compareAndSet(this, null, new ConcurrentLinkedQueue<Runnable>());
            waiters = drainWaiters;
        }
        waiters.add(resume);
        if (!congested()) {
            context.runOnContext(v -> backlogChanged()); // it may have drained before the add
        }
    }

    /**
     * On the context, when the backlog may have shrunk: wakes the next paused publisher, one per
     * {@link #WAKE_INTERVAL_NANOS} while the backlog is under half the signal level, or at once
     * when it is empty. Woken together, a thousand publishers would each bring a read of up to
     * 64 KB, hundreds of times what the subscriber can take, read only to be dropped.
     */
    void backlogChanged() {
        ConcurrentLinkedQueue<Runnable> waiters = drainWaiters;
        if (waiters == null || waiters.isEmpty() || congested()) {
            return;
        }
        long now = System.nanoTime();
        if (inboxQos0 + sessionQueued == 0 || now - lastWakeNanos >= WAKE_INTERVAL_NANOS) {
            lastWakeNanos = now;
            Runnable r = waiters.poll();
            if (r != null) {
                r.run();
            }
        }
    }

    /** The session now queues {@code queued} and wrote a message out if {@code wrote}; on the context. */
    void sessionProgress(int queued, boolean wrote) {
        // Called after every pump, so per delivered message: volatile stores only when they say
        // something new (the progress clock needs no finer grain than PROGRESS_GRAIN_NANOS).
        if (sessionQueued != queued) {
            sessionQueued = queued;
        }
        if (wrote) {
            long now = System.nanoTime();
            if (now - progressNanos > PROGRESS_GRAIN_NANOS) {
                progressNanos = now;
            }
        }
        backlogChanged();
    }

    void post(Object item) {
        inbox.offer(item);
        if (SCHEDULED.compareAndSet(this, 0, 1)) {
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
            if (paused) {
                scheduled = 0; // resume() drains again
                return;
            }
            Object item = inbox.poll();
            if (item == null) {
                scheduled = 0;
                if (inbox.isEmpty() || !SCHEDULED.compareAndSet(this, 0, 1)) {
                    return;
                }
                continue;
            }
            process(item);
            if (!onContext() || ++n == BATCH) {
                if (onContext()) {
                    yieldToIo();
                } else {
                    context.runOnContext(v -> drain()); // moved by that item
                }
                return;
            }
        }
    }

    /**
     * Drains on after the event loop's next pass over its sockets. A task queued with runOnContext
     * would run in the same pass: Netty 4.2 runs queued tasks for up to a second before it polls
     * I/O again, so a busy mailbox re-queuing itself starved every connection of its event loop
     * (ADR 0008). A scheduled task, even due at once, waits for the next pass; emit runs the drain
     * on the session's context, as runOnContext would.
     */
    private void yieldToIo() {
        ContextInternal here = context;
        here.nettyEventLoop().schedule(() -> here.emit(v -> drain()), 0, TimeUnit.NANOSECONDS);
    }

    private void resume() {
        paused = false;
        if (SCHEDULED.compareAndSet(this, 0, 1)) {
            context.runOnContext(v -> drain());
        }
    }

    private void process(Object item) {
        if (item instanceof Delivery d) {
            if (d.qos() == 0) {
                INBOX_QOS0.decrementAndGet(this);
            }
            String moved = relayTo;
            if (moved != null) {
                services.transfer.relay(moved, clientId, d);
                d.accepted();
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

    // ---- connect, takeover, disconnect (all run on the context through post) ----

    /**
     * A CONNECT for this client identifier, taken in mailbox order so that racing connects are
     * serialized. The identifier is claimed cluster-wide first; if another node owned it, that node
     * hands the session over before this one attaches it. Meanwhile the mailbox waits.
     */
    void attach(Channel ch, Channel.AttachRequest req) {
        if (dead) {
            services.registry.connect(ch, req); // ended meanwhile: start over with a fresh ref
            return;
        }
        paused = true;
        claimEpoch = 0;
        ContextInternal here = context;
        services.transfer.claim(clientId, here).onComplete(ar -> claimed(ch, req, ar.succeeded()
                ? ar.result() : new io.starling.cluster.registry.ClientRegistry.Claim(null, Long.MAX_VALUE), ar.cause()));
    }

    /**
     * Another node asks for this session on behalf of its claim {@code epoch}. Claims are totally
     * ordered: a request from an older claim than this node's own is stale and refused at once, even
     * while this node's attach waits (two nodes waiting on each other would otherwise deadlock).
     */
    void takeRequested(String from, long epoch, boolean cleanStart, io.starling.cluster.forwarding.NodeLinks.Reply reply) {
        context.runOnContext(v -> {
            Runnable serve = () -> {
                if (epoch < claimEpoch) {
                    reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.STALE, null));
                } else {
                    post((Task) r -> r.handOver(from, cleanStart, reply));
                }
            };
            if (paused && claimEpoch == 0) {
                deferredTakes.add(serve); // decided once this node's own claim has its epoch
            } else {
                serve.run();
            }
        });
    }

    private void claimed(Channel ch, Channel.AttachRequest req, io.starling.cluster.registry.ClientRegistry.Claim claim,
                         Throwable failure) {
        if (failure != null) {
            log.warn("client {}: could not claim the client identifier in the cluster: {}", clientId, failure.toString());
        }
        claimEpoch = claim.epoch();
        java.util.List<Runnable> waiting = new java.util.ArrayList<>(deferredTakes);
        deferredTakes.clear();
        waiting.forEach(Runnable::run);
        String previous = claim.previousOwner();
        if (session == null && !req.cleanStart() && services.transfer.localNode().equals(previous)) {
            // This node may have claimed the identifier while adopting the sessions of a node that
            // died, with this CONNECT ahead of the adopted state in the mailbox (which waits behind
            // this attach): the client resumes the stored session, not an empty one, and the
            // adoption leaves it alone.
            String adoptedFromNode = services.registry.takeAdoption(clientId);
            if (adoptedFromNode != null) {
                recoverFromStore(ch, req, adoptedFromNode);
                return;
            }
        }
        if (previous == null || previous.equals(services.transfer.localNode())) {
            attachHere(ch, req);
            return;
        }
        if (!services.transfer.isPeer(previous)) {
            recoverFromStore(ch, req, previous); // the owner died
            return;
        }
        ContextInternal here = context;
        services.transfer.take(previous, clientId, req.cleanStart(), claimEpoch).onComplete(ar -> here.runOnContext(v -> {
            if (ar.failed()) {
                // The owner died before the cluster noticed, or cannot be reached: its backed-up copy serves.
                log.warn("client {}: node {} did not hand the session over ({}); using its backed-up copy", clientId,
                        previous, ar.cause().toString());
                if (!req.cleanStart()) {
                    recoverFromStore(ch, req, previous);
                    return;
                }
            } else if (ar.result().outcome() == SessionTransfer.Outcome.STALE) {
                // A connect on another node claimed the identifier after this one: that one wins.
                log.info("client {}: a newer connection on another node takes the identifier; closing this one", clientId);
                ch.superseded();
                resume();
                return;
            } else if (ar.result().outcome() == SessionTransfer.Outcome.STATE) {
                if (ar.result().adoptedFrom() != null) {
                    adoptedFrom = ar.result().adoptedFrom();
                }
                importFrom(ar.result().state(), previous);
            }
            attachHere(ch, req);
        }));
    }

    /** The session comes from the replicated store, if it was kept there; then the connection attaches. */
    private void recoverFromStore(Channel ch, Channel.AttachRequest req, String previous) {
        ContextInternal here = context;
        services.vertx.executeBlocking(() -> services.store.load(clientId), false).onComplete(ar -> here.runOnContext(v -> {
            if (ar.succeeded() && ar.result() != null && session == null) {
                log.info("client {}: session recovered from the store after node {} left", clientId, previous);
                adoptedFrom = previous;
                importFrom(ar.result(), previous);
            } else if (ar.failed()) {
                log.warn("client {}: session of node {} could not be loaded: {}", clientId, previous, ar.cause().toString());
            }
            attachHere(ch, req);
        }));
    }

    /** The session state from the previous owner becomes this node's session. */
    private void importFrom(SessionState state, String from) {
        if (session != null) {
            session.end(); // a leftover here is older than the owner's state
        }
        Session s = new Session(clientId, this, services);
        s.expirySeconds = state.expirySeconds();
        s.importState(state);
        session = s;
        log.info("client {}: session taken over from node {} ({} subscriptions, {} in flight, {} queued)", clientId, from,
                state.subscriptions().size(), state.inflight().size(), state.queued().size());
        // Once every node routes the session here, the old owner stops relaying and drops its routes.
        services.router.routesSettled().onComplete(v -> services.transfer.release(from, clientId));
    }

    private void attachHere(Channel ch, Channel.AttachRequest req) {
        Session s = session;
        boolean takeover = s != null && s.channel != null;
        if (takeover) {
            Channel old = s.channel;
            s.detach();
            online = false;
            old.takenOver(); // [MQTT-3.1.4-3] the existing connection is closed, 5.0: reason 0x8E
        }
        SessionLifetime.Plan plan = lifetime.connected(s != null, takeover, req.cleanStart(), req.will());
        if (plan.cancelTimers()) {
            cancelTimers();
        }
        if (plan.will() != null) {
            publishWill(plan.will());
        }
        if (plan.endSession()) {
            s.end(); // clean start: the old session ends here and a new one follows
            s = null;
        }
        boolean present = s != null;
        if (s == null) {
            s = new Session(clientId, this, services);
        }
        s.expirySeconds = req.expirySeconds();
        s.attaching = true;
        session = s;
        online = true;
        ContextInternal target = ch.context();
        context = target; // from here on, deliveries run on the new connection's context
        Session attached = s;
        if (target.nettyEventLoop().inEventLoop()) {
            ch.attached(this, attached, present);
        } else {
            target.runOnContext(v -> ch.attached(this, attached, present));
        }
        persistMeta();
        resume();
    }

    /**
     * Another node asks for this session (its client connected there). The connection here is
     * closed with 0x8E [MQTT-3.1.4-3], the will handled as for any takeover, and the state handed
     * over; routes here stay, relaying to the new owner, until it releases them.
     */
    void handOver(String toNode, boolean cleanStart, io.starling.cluster.forwarding.NodeLinks.Reply reply) {
        Session s = session;
        if (!dead && s == null && services.registry.isAdopting(clientId)) {
            // This node is adopting the session from a node that died, and the state is not in
            // this mailbox yet: asked again behind it, so that the session moves on rather than
            // an empty one being answered while the adopted copy settles here (the requester's
            // take timeout bounds the wait).
            services.vertx.setTimer(ADOPTION_RETRY_MS, t -> post((Task) r -> r.handOver(toNode, cleanStart, reply)));
            return;
        }
        if (dead || s == null) {
            reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.NONE, null));
            return;
        }
        boolean takeover = s.channel != null;
        if (takeover) {
            Channel old = s.channel;
            s.detach();
            online = false;
            old.takenOver();
        }
        SessionLifetime.Plan plan = lifetime.connected(true, takeover, cleanStart, null);
        cancelTimers();
        if (plan.will() != null) {
            publishWill(plan.will());
        }
        if (plan.endSession()) {
            endSession(); // clean start there: the session ends here, nothing moves
            reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.NONE, null));
            return;
        }
        SessionState state = s.export();
        movedSubscriptions = state.subscriptions();
        session = null;
        dead = true;
        relayTo = toNode;
        services.registry.remove(clientId, this);
        services.transfer.startRelaying(clientId, this);
        log.info("client {}: session handed over to node {}", clientId, toNode);
        reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.STATE, state, adoptedFrom));
    }

    private static final long ADOPTION_RETRY_MS = 10;

    /**
     * This node is leaving (SIGTERM): the client is disconnected (5.0: 0x8B) and a session that
     * outlives its connection is pushed to {@code target}, will included, relaying until released.
     */
    void leaveTo(String target, io.vertx.core.Promise<Void> done) {
        Session s = session;
        if (dead || s == null) {
            done.tryComplete();
            return;
        }
        if (s.channel != null) {
            Channel ch = s.channel;
            s.detach();
            online = false;
            ch.serverShuttingDown();
            if (target == null) {
                done.tryComplete(); // no other node to take it: the session ends with this process
                return;
            }
            if (s.expirySeconds == 0) {
                carryOut(lifetime.connectionLost(true, 0)); // the session ends with its connection
                done.tryComplete();
                return;
            }
        }
        if (target == null) {
            done.tryComplete();
            return;
        }
        Connect.Will will = lifetime.will();
        cancelTimers();
        SessionState state = s.export().withWill(will);
        movedSubscriptions = state.subscriptions();
        session = null;
        dead = true;
        relayTo = target;
        services.registry.remove(clientId, this);
        services.transfer.startRelaying(clientId, this);
        services.transfer.push(target, clientId, state).onComplete(ar -> {
            if (ar.failed()) {
                log.warn("client {}: session not handed to node {} on leaving: {}", clientId, target, ar.cause().toString());
            }
            done.tryComplete();
        });
    }

    /** This node adopted the session of a node that died (its claim already made, with {@code epoch}). */
    void recovered(SessionState state, long epoch, String from) {
        if (session != null) {
            return;
        }
        claimEpoch = epoch;
        adoptedFrom = from;
        importFrom(state, from);
        lifetime.connected(false, false, false, state.will());
        carryOut(lifetime.connectionLost(true, state.expirySeconds())); // its client was cut off: the will applies
        persistMeta();
    }

    /** A leaving node pushed this session here: it continues offline, its expiry and will clocks restarted. */
    void adopt(SessionState state, String from) {
        if (session != null) {
            return; // the client is back already and has a session here
        }
        paused = true;
        claimEpoch = 0;
        ContextInternal here = context;
        services.transfer.claim(clientId, here).onComplete(ar -> {
            claimEpoch = ar.succeeded() ? ar.result().epoch() : Long.MAX_VALUE;
            java.util.List<Runnable> waiting = new java.util.ArrayList<>(deferredTakes);
            deferredTakes.clear();
            waiting.forEach(Runnable::run);
            importFrom(state, from);
            lifetime.connected(false, false, false, state.will());
            carryOut(lifetime.connectionLost(true, state.expirySeconds()));
            resume();
        });
    }

    /**
     * Writes the session's record (expiry, subscriptions, pending will) to the replicated store.
     * A SUBACK waits for the write, so that no message is acknowledged for a subscription whose
     * session could not be found after a node's loss.
     */
    io.vertx.core.Future<Void> persistMeta() {
        Session s = session;
        // A session that ends with its connection is kept too while it has a will: if its node
        // dies, the node that adopts it publishes the will (spec 3.1.2.5) and ends it.
        if (s != null && services.store.active() && (s.expirySeconds > 0 || lifetime.will() != null)) {
            return services.store.saveMeta(clientId, s.meta(lifetime.will()));
        }
        return io.vertx.core.Future.succeededFuture();
    }

    /** A node joined: if this node still owns the session, the whole of it goes to the replicated store. */
    void reconcile() {
        if (dead || session == null) {
            return;
        }
        ContextInternal here = context;
        services.transfer.owner(clientId, here).onComplete(ar -> {
            String owner = ar.succeeded() ? ar.result() : null;
            if (dead || session == null) {
                return;
            }
            if (owner != null && !owner.equals(services.transfer.localNode()) && services.transfer.isPeer(owner)) {
                yieldTo(owner);
            } else {
                persistMeta();
                session.persistAll();
            }
        });
    }

    /**
     * A healed partition gave this client identifier to another node, whose copy of the session
     * wins: the connection here is closed (0x8E), and the messages this copy holds go on to the
     * owner (QoS 1 duplicates at worst) rather than being lost. The store, merged by Hazelcast,
     * is the owner's and is left alone.
     */
    private void yieldTo(String owner) {
        Session s = session;
        log.warn("client {}: after the partition healed node {} owns this client identifier; its session here "
                + "yields and its messages go there", clientId, owner);
        if (s.channel != null) {
            Channel old = s.channel;
            s.detach();
            online = false;
            old.takenOver();
        }
        cancelTimers();
        SessionState state = s.export();
        for (SessionState.Inflight i : state.inflight()) {
            services.transfer.relay(owner, clientId, i.delivery());
        }
        for (Delivery d : state.queued()) {
            services.transfer.relay(owner, clientId, d);
        }
        for (io.starling.routing.Subscription sub : state.subscriptions()) {
            services.router.unsubscribeMoved(this, sub.filter());
        }
        session = null;
        dead = true;
        services.registry.remove(clientId, this);
    }

    /** The new owner routes the session itself: the routes here go, and relaying stops. */
    void releaseRoutes() {
        for (io.starling.routing.Subscription sub : movedSubscriptions) {
            services.router.unsubscribeMoved(this, sub.filter());
        }
        movedSubscriptions = java.util.List.of();
        services.transfer.stopRelaying(clientId, this);
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
        carryOut(lifetime.connectionLost(publishWill, expirySeconds));
        persistMeta(); // the expiry and the will may have changed with the DISCONNECT
    }

    private void timerFired(long id, SessionLifetime.Timer timer) {
        if (id == willTimer) {
            willTimer = -1;
        } else if (id == expiryTimer) {
            expiryTimer = -1;
        }
        SessionLifetime.Plan plan = lifetime.timerFired(timer);
        if (plan.endSession()) {
            log.debug("client {}: session expired", clientId);
        }
        carryOut(plan);
        if (plan.will() != null) {
            persistMeta(); // the will is out: a node adopting the session must not send it again
        }
    }

    /** Does what the lifetime decided after a connection was lost or a timer fired. */
    private void carryOut(SessionLifetime.Plan plan) {
        if (plan.cancelTimers()) {
            cancelTimers();
        }
        if (plan.will() != null) {
            publishWill(plan.will());
        }
        if (plan.endSession()) {
            endSession();
        }
        if (plan.willTimer() != null) {
            willTimer = arm(plan.willTimer());
        }
        if (plan.expiryTimer() != null) {
            expiryTimer = arm(plan.expiryTimer());
        }
    }

    private long arm(SessionLifetime.Timer timer) {
        return services.vertx.setTimer(timer.delayMillis(), id -> post((Task) r -> r.timerFired(id, timer)));
    }

    private void endSession() {
        cancelTimers();
        session.end();
        session = null;
        dead = true;
        services.registry.remove(clientId, this);
        services.transfer.released(clientId);
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

    private void publishWill(Connect.Will w) {
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
