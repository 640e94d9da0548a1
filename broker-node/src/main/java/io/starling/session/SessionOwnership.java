package io.starling.session;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.routing.Subscription;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who holds one session, in one place (docs/adr/0004, 0006, 0010): a CONNECT claims the client
 * identifier and takes the session over from its previous owner; another node asks for it
 * (TAKE); a leaving node pushes it; a survivor adopts it from a node that died; a healed
 * partition makes one copy yield. Every step that waits for the cluster holds the session's
 * mailbox, so whatever arrives meanwhile (a CONNECT, a TAKE, a delivery) waits for the session
 * that step brings rather than finding none.
 *
 * <p>A session that arrives from another node settles before it takes what its new routes bring
 * ({@link MoveSettling}): after a takeover or a push, until the old owner has relayed everything
 * that was routed to it; after an adoption, until every node has republished what it had sent to
 * the dead node. Each wait is bounded.
 *
 * <p>Confined to the session's context.
 */
final class SessionOwnership {
    private static final Logger log = LoggerFactory.getLogger(SessionOwnership.class);
    /** How long a moved session waits at most for its old owner's relay to end. */
    static final long RELAY_SETTLE_MS = 10_000;
    /** How long a session from a dead node waits at most for the other nodes' replays. */
    static final long REPUBLISH_SETTLE_MS = 90_000;

    private final SessionRef ref;
    private final Services services;
    /** Set once the session moved to another node: deliveries still routed here go on to it. */
    private volatile String relayTo;
    /** The dead node this session was adopted from: messages that were on their way there come here. */
    private volatile String adoptedFrom;
    /** The router's arrival mark when the session came here from another node; -1 when made here (read by any thread). */
    private volatile long arrivedAt = -1;
    private List<Subscription> movedSubscriptions = List.of();
    /** The epoch of this node's latest claim of the client identifier; 0 while a claim is pending. */
    private long claimEpoch;
    private boolean claimPending;
    /** Completed once this node's pending claim is answered and what it brings is registered. */
    private Promise<Void> claimAnswered;
    /** Completed once a session this CONNECT brings from another node is here (see SessionRegistry#arrivingFrom). */
    private Promise<Void> arrivalDone;
    /** TAKE requests that arrived while this node's own claim was pending. */
    private List<Runnable> deferredTakes;
    /** The filling paths the current session still waits for (see {@link MoveSettling}), by bit. */
    private int settling;
    private int settleGeneration;
    private static final int RELAY = 1;
    private static final int REPUBLISH = 2;

    SessionOwnership(SessionRef ref) {
        this.ref = ref;
        this.services = ref.services;
    }

    String relayTo() {
        return relayTo;
    }

    String adoptedFrom() {
        return adoptedFrom;
    }

    long arrivedAt() {
        return arrivedAt;
    }

    private String clientId() {
        return ref.clientId();
    }

    // ---- a CONNECT here ----

    /**
     * A CONNECT for this client identifier, taken in mailbox order so that racing connects are
     * serialized. The identifier is claimed cluster-wide first (a single node claims it in memory);
     * if another node owned it, that node hands the session over before this one attaches it.
     */
    void attach(MqttProtocol ch, MqttProtocol.AttachRequest req) {
        if (ref.dead) {
            services.registry.connect(ch, req); // ended meanwhile: start over with a fresh ref
            return;
        }
        beginClaim();
        services.transfer.claim(clientId(), ref.context()).onComplete(ar -> claimed(ch, req, ar.succeeded()
                ? ar.result() : new ClientRegistry.Claim(null, Long.MAX_VALUE), ar.cause()));
    }

    private void beginClaim() {
        ref.mailbox.hold();
        claimEpoch = 0;
        claimPending = true;
        claimAnswered = services.registry.adoption.claimStarted();
    }

    private void endClaim(long epoch) {
        claimAnswered.tryComplete(); // after claimed() registered what the claim brings: see DeadNodeAdoption
        claimEpoch = epoch;
        ref.journal().ownedWith(epoch);
        claimPending = false;
        List<Runnable> waiting = deferredTakes;
        deferredTakes = null;
        if (waiting != null) {
            waiting.forEach(Runnable::run);
        }
    }

    /**
     * Another node asks for this session on behalf of its claim {@code epoch}. Claims are totally
     * ordered: a request from an older claim than this node's own is stale and refused at once,
     * even while this node's attach waits (two nodes waiting on each other would deadlock).
     */
    void takeRequested(String from, long epoch, boolean cleanStart, NodeLinks.Reply reply) {
        ref.context().runOnContext(v -> {
            Runnable serve = () -> {
                if (epoch < claimEpoch) {
                    reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.STALE, null));
                } else {
                    ref.post((SessionRef.Task) r -> handOver(from, cleanStart, reply));
                }
            };
            if (claimPending) {
                if (deferredTakes == null) {
                    deferredTakes = new ArrayList<>(1);
                }
                deferredTakes.add(serve); // decided once this node's own claim has its epoch
            } else {
                serve.run();
            }
        });
    }

    private void claimed(MqttProtocol ch, MqttProtocol.AttachRequest req, ClientRegistry.Claim claim, Throwable failure) {
        if (failure != null) {
            log.warn("client {}: could not claim the client identifier in the cluster: {}", clientId(),
                    failure.toString());
        }
        String previous = claim.previousOwner();
        if (previous == null || previous.equals(services.transfer.localNode())) {
            endClaim(claim.epoch());
            attachHere(ch, req);
            return;
        }
        // The session comes from another node: until it is here, this node's part in the recovery
        // from that node (should it have died) is not over. Registered before the claim counts as
        // answered, so that the recovery cannot see neither.
        Promise<Void> arrived = Promise.promise();
        services.registry.adoption.arrivingFrom(previous, arrived.future());
        arrivalDone = arrived;
        endClaim(claim.epoch());
        if (!services.transfer.isPeer(previous)) {
            recoverFromStore(ch, req, previous); // the owner died
            return;
        }
        ContextInternal here = ref.context();
        services.transfer.take(previous, clientId(), req.cleanStart(), claimEpoch).onComplete(ar -> here.runOnContext(v -> {
            if (ar.failed()) {
                // The owner died before the cluster noticed, or cannot be reached: its backed-up copy serves.
                log.warn("client {}: node {} did not hand the session over ({}); using its backed-up copy",
                        clientId(), previous, ar.cause().toString());
                if (!req.cleanStart()) {
                    recoverFromStore(ch, req, previous);
                    return;
                }
            } else if (ar.result().outcome() == SessionTransfer.Outcome.STALE) {
                // A connect on another node claimed the identifier after this one: that one wins.
                log.info("client {}: a newer connection on another node takes the identifier; closing this one",
                        clientId());
                ch.superseded();
                arrivalDone.tryComplete();
                arrivalDone = null;
                ref.mailbox.release();
                return;
            } else if (ar.result().outcome() == SessionTransfer.Outcome.STATE) {
                String from = ar.result().adoptedFrom();
                if (from != null) {
                    adoptedFrom = from;
                }
                importFrom(ar.result().state(), previous, RELAY | republishPending(from));
                releaseWhenRouted(previous);
            }
            attachHere(ch, req);
        }));
    }

    /** The session comes from the replicated store, if it was kept there; then the connection attaches. */
    private void recoverFromStore(MqttProtocol ch, MqttProtocol.AttachRequest req, String dead) {
        ContextInternal here = ref.context();
        services.vertx.executeBlocking(() -> services.store.load(clientId()), false).onComplete(ar -> here.runOnContext(v -> {
            if (ar.succeeded() && ar.result() != null && ref.session == null) {
                log.info("client {}: session recovered from the store after node {} left", clientId(), dead);
                adoptedFrom = dead;
                importFrom(ar.result(), dead, republishPending(dead));
            } else if (ar.failed()) {
                log.warn("client {}: session of node {} could not be loaded: {}", clientId(), dead,
                        ar.cause().toString());
            }
            attachHere(ch, req);
        }));
    }

    private void attachHere(MqttProtocol ch, MqttProtocol.AttachRequest req) {
        if (arrivalDone != null) {
            arrivalDone.tryComplete();
            arrivalDone = null;
        }
        Session s = ref.session;
        boolean takeover = s != null && ref.attached != null;
        if (takeover) {
            MqttProtocol old = ref.attached;
            ref.detach();
            old.takenOver(); // [MQTT-3.1.4-3] the existing connection is closed, 5.0: reason 0x8E
        }
        if (ref.timers.connected(s != null, takeover, req.cleanStart(), req.will())) {
            ref.endState(s); // clean start: the old session ends here and a new one follows
            settling = 0;
            s = null;
        }
        boolean present = s != null;
        if (s == null) {
            s = ref.newSession(req.expirySeconds());
            ref.session = s;
        }
        s.expirySeconds = req.expirySeconds();
        s.attaching = true;
        ref.setOnline(true);
        ContextInternal target = ch.context();
        ref.mailbox.moveTo(target); // from here on, deliveries run on the new connection's context
        if (target.nettyEventLoop().inEventLoop()) {
            ch.attached(ref, present);
        } else {
            target.runOnContext(v -> ch.attached(ref, present));
        }
        ref.persistMeta();
        ref.mailbox.release();
    }

    // ---- another node wants the session ----

    /**
     * Another node asks for this session (its client connected there). The connection here is
     * closed with 0x8E [MQTT-3.1.4-3], the will handled as for any takeover, and the state handed
     * over once everything journaled before is written (the new owner's writes must not be
     * overtaken by this node's); routes here stay, relaying to the new owner, until it releases them.
     */
    void handOver(String toNode, boolean cleanStart, NodeLinks.Reply reply) {
        Session s = ref.session;
        if (ref.dead || s == null) {
            reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.NONE, null));
            return;
        }
        boolean takeover = ref.attached != null;
        if (takeover) {
            MqttProtocol old = ref.attached;
            ref.detach();
            old.takenOver();
        }
        if (ref.timers.connected(true, takeover, cleanStart, null)) {
            ref.endSession(); // clean start there: the session ends here, nothing moves
            reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.NONE, null));
            return;
        }
        SessionState state = s.export();
        startRelaying(toNode, state);
        log.info("client {}: session handed over to node {}", clientId(), toNode);
        String from = adoptedFrom;
        ref.journal().flushed().onComplete(ar ->
                reply.ok(SessionTransfer.answer(SessionTransfer.Outcome.STATE, state, from)));
    }

    private void startRelaying(String toNode, SessionState state) {
        ref.journal().leftThisNode();
        movedSubscriptions = state.subscriptions();
        ref.session = null;
        ref.dead = true;
        settling = 0;
        relayTo = toNode;
        services.registry.remove(clientId(), ref);
        services.transfer.startRelaying(clientId(), ref);
    }

    /**
     * This node is leaving (SIGTERM): the client is disconnected (5.0: 0x8B) and a session that
     * outlives its connection is pushed to {@code target}, will included, relaying until released.
     */
    void leaveTo(String target, Promise<Void> done) {
        Session s = ref.session;
        if (ref.dead || s == null) {
            done.tryComplete();
            return;
        }
        if (ref.attached != null) {
            MqttProtocol ch = ref.attached;
            ref.detach();
            ch.serverShuttingDown();
            if (target != null && s.expirySeconds == 0) {
                ref.timers.connectionLost(true, 0); // the session ends with its connection
                done.tryComplete();
                return;
            }
        }
        if (target == null) {
            done.tryComplete(); // no other node to take it: the session ends with this process
            return;
        }
        io.starling.protocol.Connect.Will will = ref.timers.will();
        ref.timers.cancel();
        SessionState state = s.export().withWill(will);
        startRelaying(target, state);
        // What arrives meanwhile is relayed only after the PUSH is on the link: a relayed message
        // that reached the target before its session would find nothing there to take it.
        ref.mailbox.hold();
        ContextInternal here = ref.context();
        ref.journal().flushed().onComplete(f -> {
            Future<Void> pushed = services.transfer.push(target, clientId(), state);
            here.runOnContext(v -> ref.mailbox.release());
            pushed.onComplete(ar -> {
                if (ar.failed()) {
                    log.warn("client {}: session not handed to node {} on leaving: {}", clientId(), target,
                            ar.cause().toString());
                }
                done.tryComplete();
            });
        });
    }

    // ---- sessions arriving offline: pushed by a leaving node, adopted from a dead one ----

    /** A leaving node pushed this session here: it continues offline within the failover grace. */
    void pushed(SessionState state, String from) {
        if (ref.session != null) {
            return; // the client is back already and has a session here
        }
        beginClaim();
        ContextInternal here = ref.context();
        services.transfer.claim(clientId(), here).onComplete(ar -> {
            endClaim(ar.succeeded() ? ar.result().epoch() : Long.MAX_VALUE);
            importFrom(state, from, RELAY);
            releaseWhenRouted(from);
            continueOffline(state);
            ref.mailbox.release();
        });
    }

    /**
     * This node adopts the session of a node that died, if the registry still gives it to that
     * node (of the survivors that hold its copy, one adopts it). The mailbox waits meanwhile: a
     * CONNECT or TAKE that arrives gets the adopted session.
     */
    void adoptFromDead(String dead, Promise<Void> done) {
        if (ref.dead || ref.session != null) {
            log.info("client {}: not adopted from node {}: its client came back here first", clientId(), dead);
            done.tryComplete();
            return;
        }
        ref.mailbox.hold();
        ContextInternal here = ref.context();
        services.transfer.claimIfOwnedBy(clientId(), dead)
                .compose(epoch -> epoch <= 0 ? Future.succeededFuture((Adopted) null)
                        : services.vertx.executeBlocking(() -> new Adopted(epoch, services.store.load(clientId())), false))
                .onComplete(ar -> here.runOnContext(v -> {
                    try {
                        if (ar.failed()) {
                            log.warn("client {}: session of node {} not adopted: {}", clientId(), dead,
                                    ar.cause().toString());
                        } else if (ar.result() == null) {
                            log.info("client {}: not adopted from node {}: another node owns it by now", clientId(), dead);
                        } else if (ar.result().state() == null) {
                            log.warn("client {}: claimed from node {}, but the store holds no session for it",
                                    clientId(), dead);
                        } else if (ref.session == null) {
                            claimEpoch = ar.result().epoch();
                            ref.journal().ownedWith(claimEpoch);
                            adoptedFrom = dead;
                            importFrom(ar.result().state(), dead, republishPending(dead));
                            continueOffline(ar.result().state());
                        }
                        if (ref.session == null && !ref.dead) {
                            ref.dead = true; // nothing here: a CONNECT behind this starts afresh
                            services.registry.remove(clientId(), ref);
                        }
                    } finally {
                        ref.mailbox.release();
                        done.tryComplete();
                    }
                }));
    }

    private record Adopted(long epoch, SessionState state) {
    }

    /**
     * A session whose client was cut off by its node's failure or leave: it is offline here, its
     * will and expiry clocks restarted, and for the failover grace its publishers are held back
     * rather than its overflow dropped while the client reconnects (issue 9).
     */
    private void continueOffline(SessionState state) {
        ref.timers.connected(false, false, false, state.will());
        ref.timers.connectionLost(true, state.expirySeconds()); // its client was cut off: the will applies
        Session s = ref.session;
        if (s != null) {
            long graceMs = services.config.failoverGraceSeconds() * 1000L;
            s.startGrace(graceMs * 1_000_000L);
            ref.timers.startGrace(graceMs, () -> {
                if (ref.session == s) {
                    s.graceOver();
                }
            });
        }
        ref.persistMeta();
    }

    /** The state from the previous owner (or the store) becomes this node's session. */
    private void importFrom(SessionState state, String from, int sources) {
        if (ref.session != null) {
            ref.endState(ref.session); // a leftover here is older than the owner's state
        }
        Session s = ref.newSession(state.expirySeconds());
        arrivedAt = services.router.arrivalMark(); // before its routes: see Router#arrivalMark
        s.importState(state, Integer.bitCount(sources));
        ref.session = s;
        ref.routeSubscriptions();
        log.info("client {}: session taken over from node {} ({} subscriptions, {} in flight, {} queued)", clientId(),
                from, state.subscriptions().size(), state.inflight().size(), state.queued().size());
        settling = sources;
        int generation = ++settleGeneration;
        if ((sources & RELAY) != 0) {
            services.vertx.setTimer(RELAY_SETTLE_MS, t -> ref.post((SessionRef.Task) r -> settled(RELAY, generation)));
        }
        if ((sources & REPUBLISH) != 0) {
            List<io.starling.topic.TopicFilter> filters = new ArrayList<>();
            for (Subscription sub : state.subscriptions()) {
                if (!sub.filter().isShared()) {
                    filters.add(sub.filter());
                }
            }
            services.router.replay(adoptedFrom, clientId(), filters)
                    .onComplete(v -> ref.post((SessionRef.Task) r -> settled(REPUBLISH, generation)));
            services.vertx.setTimer(REPUBLISH_SETTLE_MS, t -> ref.post((SessionRef.Task) r -> settled(REPUBLISH, generation)));
        }
    }

    /**
     * REPUBLISH for a session that comes from a dead node: every node hands it what it had sent
     * there without confirmation ({@link io.starling.routing.Router#replay}), whenever the session
     * arrives, before it takes what its new routes bring.
     */
    private static int republishPending(String dead) {
        return dead != null ? REPUBLISH : 0;
    }

    /** The old owner says its relay is complete (or the bound ran out). */
    void relayDone() {
        settled(RELAY, settleGeneration);
    }

    private void settled(int source, int generation) {
        if (generation != settleGeneration || (settling & source) == 0 || ref.session == null) {
            return;
        }
        settling &= ~source;
        ref.session.settleSourceDone();
    }

    /** Once every node routes the session here, the old owner stops relaying and drops its routes. */
    private void releaseWhenRouted(String oldOwner) {
        services.router.routesSettled().onComplete(v -> services.transfer.release(oldOwner, clientId()));
    }

    /**
     * The new owner routes the session itself and every node's messages sent here before that have
     * arrived (fences): the routes here go, relaying stops, and the new owner hears that the relay
     * is complete, after the last relayed message on the same link.
     */
    void releaseRoutes() {
        for (Subscription sub : movedSubscriptions) {
            services.router.unsubscribeMoved(ref, sub.filter());
        }
        movedSubscriptions = List.of();
        services.transfer.stopRelaying(clientId(), ref);
        String to = relayTo;
        if (to != null) {
            services.transfer.relayDone(to, clientId());
        }
    }

    // ---- membership changes ----

    /**
     * A node joined: if this node still owns the session (a single node's claims were in memory:
     * they go to the registry now), the whole of it goes to the replicated store; if a healed
     * partition gave the identifier to another node, this copy yields.
     */
    void reconcile() {
        if (ref.dead || ref.session == null) {
            return;
        }
        ContextInternal here = ref.context();
        services.transfer.reconcileOwner(clientId(), here).onComplete(ar -> {
            String owner = ar.succeeded() ? ar.result() : null;
            if (ref.dead || ref.session == null) {
                return;
            }
            if (owner != null && !owner.equals(services.transfer.localNode()) && services.transfer.isPeer(owner)) {
                yieldTo(owner);
            } else {
                ref.persistMeta();
                ref.session.persistAll();
            }
        });
    }

    /**
     * A healed partition gave this client identifier to another node, whose copy wins: the
     * connection here is closed (0x8E), and the messages this copy holds go on to the owner (QoS 1
     * duplicates at worst) rather than being lost. The store, merged by Hazelcast, is the owner's.
     */
    private void yieldTo(String owner) {
        log.warn("client {}: after the partition healed node {} owns this client identifier; its session here "
                + "yields and its messages go there", clientId(), owner);
        if (ref.attached != null) {
            MqttProtocol old = ref.attached;
            ref.detach();
            old.takenOver();
        }
        ref.timers.cancel();
        SessionState state = ref.session.export();
        for (SessionState.Inflight i : state.inflight()) {
            services.transfer.relay(owner, clientId(), i.delivery());
        }
        for (io.starling.routing.Delivery d : state.queued()) {
            services.transfer.relay(owner, clientId(), d);
        }
        for (Subscription sub : state.subscriptions()) {
            services.router.unsubscribeMoved(ref, sub.filter());
        }
        ref.journal().leftThisNode();
        ref.session = null;
        ref.dead = true;
        services.registry.remove(clientId(), ref);
    }
}
