package io.starling.session;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Client identifier to session on this node. A CONNECT posts itself to the ref's mailbox, so two
 * connects with one identifier are taken one after the other [MQTT-3.1.4-3].
 */
public final class SessionRegistry {
    private final ConcurrentHashMap<String, SessionRef> refs = new ConcurrentHashMap<>();
    /**
     * Client identifiers this node is adopting from a node that died, to that node: from just
     * before the claim until the adopted state is in the session's mailbox order. A CONNECT whose
     * claim lands in between finds the identifier already this node's but no session yet, and
     * must take the session from the store instead of starting an empty one (SessionRef#claimed).
     */
    private final ConcurrentHashMap<String, String> adopting = new ConcurrentHashMap<>();
    private final Services services;

    SessionRegistry(Services services) {
        this.services = services;
    }

    void connect(Channel ch, Channel.AttachRequest req) {
        SessionRef ref = refs.computeIfAbsent(req.clientId(), id -> new SessionRef(id, ch.context(), services));
        ref.post((SessionRef.Task) r -> r.attach(ch, req));
    }

    /** The ref for a session another node pushed here, on an event loop of its own until a client attaches. */
    SessionRef adopt(String clientId) {
        return refs.computeIfAbsent(clientId, id -> new SessionRef(id,
                ((io.vertx.core.internal.VertxInternal) services.vertx).createEventLoopContext(), services));
    }

    /**
     * This node leaves the cluster: new connections are refused, every client is disconnected
     * (5.0: 0x8B), and sessions that outlive their connection go to {@code peers}, round robin.
     * Completes when every session has been handed over (or could not be).
     */
    public io.vertx.core.Future<Void> handOverAll(java.util.List<String> peers) {
        services.leaving = true;
        java.util.List<io.vertx.core.Future<Void>> done = new java.util.ArrayList<>();
        int i = 0;
        for (SessionRef ref : all()) {
            io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
            String target = peers.isEmpty() ? null : peers.get(i++ % peers.size());
            ref.post((SessionRef.Task) r -> r.leaveTo(target, p));
            done.add(p.future());
        }
        return io.vertx.core.Future.join(done).mapEmpty();
    }

    /** Sessions handed over from here whose new owner has not yet released the routes here. */
    public int stillRelaying() {
        return services.transfer.relayingCount();
    }

    /**
     * A node joined: there is somewhere to back up to now, so every session writes itself out; and
     * if the join is a healed partition, a session whose identifier the merged registry gives to
     * another node yields to it (docs/adr/0006).
     */
    public void nodeJoined() {
        for (SessionRef ref : all()) {
            ref.post((SessionRef.Task) SessionRef::reconcile);
        }
    }

    /**
     * A node left without handing its sessions over (it died): this node adopts the ones whose
     * stored copy it holds, so they keep their subscriptions and queued messages until their
     * clients come back (issue 3). The registry makes sure one node adopts each.
     */
    public io.vertx.core.Future<Void> nodeLeft(String node) {
        io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
        services.vertx.executeBlocking(() -> {
            services.store.awaitSafe();
            java.util.List<Object[]> found = new java.util.ArrayList<>();
            for (String clientId : services.store.localSessions()) {
                adopting.put(clientId, node);
                long epoch = services.transfer.claimIfOwnedBy(clientId, node);
                SessionState state = epoch > 0 ? services.store.load(clientId) : null;
                if (state != null) {
                    found.add(new Object[] {clientId, state, epoch});
                } else {
                    adopting.remove(clientId, node);
                }
            }
            return found;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                org.slf4j.LoggerFactory.getLogger(SessionRegistry.class)
                        .warn("adopting the sessions of node {} failed: {}", node, ar.cause().toString());
                adopting.values().removeIf(node::equals);
                done.tryComplete();
                return;
            }
            if (!ar.result().isEmpty()) {
                org.slf4j.LoggerFactory.getLogger(SessionRegistry.class)
                        .info("node {} left: adopting {} of its sessions", node, ar.result().size());
            }
            java.util.List<io.vertx.core.Future<Void>> adopted = new java.util.ArrayList<>();
            for (Object[] f : ar.result()) {
                SessionState state = (SessionState) f[1];
                long epoch = (Long) f[2];
                io.vertx.core.Promise<Void> one = io.vertx.core.Promise.promise();
                adopted.add(one.future());
                String clientId = (String) f[0];
                adopt(clientId).post((SessionRef.Task) r -> {
                    if (adopting.remove(clientId, node)) { // else a CONNECT here took it from the store first
                        r.recovered(state, epoch, node);
                    }
                    one.complete();
                });
            }
            io.vertx.core.Future.join(adopted).onComplete(x -> done.tryComplete());
        });
        return done.future();
    }

    /** Whether this node is adopting the session of {@code clientId} from a node that died. */
    boolean isAdopting(String clientId) {
        return adopting.containsKey(clientId);
    }

    /**
     * Takes over this node's pending adoption of {@code clientId}'s session: returns the dead
     * node it came from, or null if there is none; the adoption itself then leaves it alone.
     */
    String takeAdoption(String clientId) {
        return adopting.remove(clientId);
    }

    /** Every session on this node, for leaving the cluster. */
    java.util.List<SessionRef> all() {
        return java.util.List.copyOf(refs.values());
    }

    /** The session of this client identifier on this node, or null. */
    SessionRef localRef(String clientId) {
        return refs.get(clientId);
    }

    void remove(String clientId, SessionRef ref) {
        refs.remove(clientId, ref);
    }

    /** Sessions on this node, online or offline. */
    public int size() {
        return refs.size();
    }

    public long online() {
        return refs.values().stream().filter(SessionRef::isOnline).count();
    }
}
