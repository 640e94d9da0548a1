package io.starling.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client identifier to session on this node. A CONNECT posts itself to the ref's mailbox, so two
 * connects with one identifier are taken one after the other [MQTT-3.1.4-3].
 */
public final class SessionRegistry {
    private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

    private final ConcurrentHashMap<String, SessionRef> refs = new ConcurrentHashMap<>();
    private final Services services;
    final DeadNodeAdoption adoption;

    SessionRegistry(Services services) {
        this.services = services;
        this.adoption = new DeadNodeAdoption(services, this);
    }

    /**
     * A CONNECT: a new session on the connection's own context is attached at once (a single
     * node claims the identifier in memory), so that packets the client pipelined after CONNECT,
     * a SUBSCRIBE among them, take effect as they are read; an existing one is attached in its
     * mailbox's order.
     */
    void connect(MqttProtocol ch, MqttProtocol.AttachRequest req) {
        SessionRef ref = refs.computeIfAbsent(req.clientId(), id -> new SessionRef(id, ch.context(), services));
        ref.mailbox.runOrPost((SessionRef.Task) r -> r.ownership.attach(ch, req));
    }

    /** The ref for a session arriving from another node, on an event loop of its own until a client attaches. */
    SessionRef arriving(String clientId) {
        return refs.computeIfAbsent(clientId, id -> new SessionRef(id,
                ((VertxInternal) services.vertx).createEventLoopContext(), services));
    }

    /**
     * This node leaves the cluster: new connections are refused, every client is disconnected
     * (5.0: 0x8B), and sessions that outlive their connection go to {@code peers}, round robin.
     * Completes when every session has been handed over (or could not be).
     */
    public Future<Void> handOverAll(List<String> peers) {
        services.leaving = true;
        List<Future<Void>> done = new ArrayList<>();
        int i = 0;
        for (SessionRef ref : all()) {
            Promise<Void> p = Promise.promise();
            String target = peers.isEmpty() ? null : peers.get(i++ % peers.size());
            ref.post((SessionRef.Task) r -> r.ownership.leaveTo(target, p));
            done.add(p.future());
        }
        return Future.join(done).mapEmpty();
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
            ref.post((SessionRef.Task) r -> r.ownership.reconcile());
        }
    }

    /** The store brought back the sessions of this node's previous incarnation: see {@link DeadNodeAdoption#recoveredFrom}. */
    Future<Void> recoveredFrom(String formerNode) {
        return adoption.recoveredFrom(formerNode);
    }

    /** A node left without handing its sessions over (it died): see {@link DeadNodeAdoption#nodeLeft}. */
    public Future<Void> nodeLeft(String node) {
        return adoption.nodeLeft(node);
    }

    /** The authenticator's files were reloaded: every connected client is checked against them again. */
    public void recheckAuthentication() {
        for (SessionRef ref : all()) {
            ref.post((SessionRef.Task) r -> {
                if (r.attached != null) {
                    r.attached.recheckAuthentication();
                }
            });
        }
    }

    /** Every session on this node. */
    List<SessionRef> all() {
        return List.copyOf(refs.values());
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
