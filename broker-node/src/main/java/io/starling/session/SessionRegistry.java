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
    /** How long adoption waits at most for Hazelcast to promote the backups of a node that left. */
    private static final long SAFE_WAIT_MS = 15_000;

    private final ConcurrentHashMap<String, SessionRef> refs = new ConcurrentHashMap<>();
    /**
     * CONNECTs here that are bringing a session from another node (a TAKE in flight, or a load
     * from the store after that node died), by that node: a survivor reports that it has adopted
     * a dead node's sessions only once these have arrived too, because the messages the others
     * then republish for that node go to the sessions adopted from it (docs/adr/0010).
     */
    private final ConcurrentHashMap<String, Set<Future<Void>>> arriving = new ConcurrentHashMap<>();
    private final Services services;

    SessionRegistry(Services services) {
        this.services = services;
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

    /**
     * A node left without handing its sessions over (it died): once Hazelcast has promoted the
     * backups, this node adopts the sessions the registry still gives to the dead node whose
     * primary copy it holds (so one node adopts each). Each adoption runs in its own session's mailbox,
     * all of them at once: nothing here blocks, and a client that reconnects meanwhile waits in
     * its session's mailbox for the adopted state instead of finding none.
     *
     * @return completes when every adoption is done
     */
    public Future<Void> nodeLeft(String node) {
        Promise<Void> safe = Promise.promise();
        awaitSafe(System.currentTimeMillis() + SAFE_WAIT_MS, safe);
        return safe.future().compose(v -> services.vertx.executeBlocking(() -> services.transfer.localClientsOf(node), false))
                .compose(clientIds -> {
                    List<Future<Void>> adopted = new ArrayList<>(clientIds.size());
                    for (String clientId : clientIds) {
                        Promise<Void> one = Promise.promise();
                        adopted.add(one.future());
                        arriving(clientId).post((SessionRef.Task) r -> r.ownership.adoptFromDead(node, one));
                    }
                    if (!clientIds.isEmpty()) {
                        log.info("node {} left: adopting the {} of its sessions whose copy is here", node,
                                clientIds.size());
                    }
                    Promise<Void> all = Promise.promise();
                    Future.join(adopted).onComplete(v -> awaitArrivals(node, all));
                    return all.future();
                }, e -> {
                    log.warn("adopting the sessions of node {} failed: {}", node, e.toString());
                    return Future.succeededFuture();
                });
    }

    /** Completes {@code done} once no session from {@code node} is still on its way here (each wait is bounded). */
    private void awaitArrivals(String node, Promise<Void> done) {
        Set<Future<Void>> pending = arriving.get(node);
        List<Future<Void>> now = pending == null ? List.of() : List.copyOf(pending);
        if (now.isEmpty()) {
            done.complete();
            return;
        }
        Future.join(now).onComplete(v -> awaitArrivals(node, done));
    }

    /** A CONNECT here brings its session from {@code node}; {@code done} completes when it has (or failed to). */
    void arrivingFrom(String node, Future<Void> done) {
        Set<Future<Void>> set = arriving.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet());
        set.add(done);
        done.onComplete(v -> {
            set.remove(done);
            if (set.isEmpty()) {
                arriving.remove(node, set);
            }
        });
    }

    private void awaitSafe(long deadline, Promise<Void> safe) {
        if (services.store.safe() || System.currentTimeMillis() > deadline) {
            safe.complete();
        } else {
            services.vertx.setTimer(50, t -> awaitSafe(deadline, safe));
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
