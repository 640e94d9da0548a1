package io.starling.session;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Client identifier to session on this node. A CONNECT posts itself to the ref's mailbox, so two
 * connects with one identifier are taken one after the other [MQTT-3.1.4-3].
 */
public final class SessionRegistry {
    private final ConcurrentHashMap<String, SessionRef> refs = new ConcurrentHashMap<>();
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
