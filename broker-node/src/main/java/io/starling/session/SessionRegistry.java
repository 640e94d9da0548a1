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
