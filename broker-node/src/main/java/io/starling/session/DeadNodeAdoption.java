package io.starling.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in the recovery from a node that died without handing its sessions over
 * (docs/adr/0010): it adopts its share of the dead node's sessions, and says it is done only once
 * no session of the dead node can still arrive here unrouted.
 *
 * <p>Once every survivor is done, the dead node's routes go and each node republishes what it
 * had sent there. A session must be routed by its new owner before that, or what is published in
 * between reaches nobody. Two ways bring it: an adoption here, and a CONNECT of its client here,
 * which claims it from the dead node and loads it. So this node waits until every session the dead
 * nodes owned has been claimed by someone (after that no CONNECT can claim one from them), then
 * for the claims of CONNECTs here still being answered, then for the sessions those claims bring.
 * A CONNECT that claimed after this node had reported was the gap (RepeatedFailoverIT: 1,244
 * messages lost in a SIGKILL 5 → 1 run, published between the purge and the session's arrival).
 */
final class DeadNodeAdoption {
    private static final Logger log = LoggerFactory.getLogger(DeadNodeAdoption.class);
    /** How long a node that left counts as gone for later rounds (their leftovers). */
    private static final long DEPARTED_MS = 600_000;
    /** How long a round waits at most for every session of the dead nodes to be claimed. */
    private static final long CLAIMED_WAIT_MS = 10_000;
    private static final long POLL_MS = 100;

    private final Services services;
    private final SessionRegistry registry;
    /** Nodes that left (without coming back, see {@link #nodeLeft}). */
    private final Map<String, Long> departed = new ConcurrentHashMap<>();
    /** Sessions CONNECTs here are bringing from another node, by that node. */
    private final Map<String, Set<Future<Void>>> arriving = new ConcurrentHashMap<>();
    /** CONNECTs here whose claim of the client identifier is not answered yet. */
    private final Set<Future<Void>> claiming = ConcurrentHashMap.newKeySet();

    DeadNodeAdoption(Services services, SessionRegistry registry) {
        this.services = services;
        this.registry = registry;
    }

    /**
     * {@code node} died: this node adopts its share ({@link AdoptionShare}) of the sessions the
     * registry still gives to any node that left and is not back, found by a query of the whole
     * cluster (a query of this member's local keys missed entries migrating between members), so
     * one whose adopter died too is taken in the next round. Each adoption runs in its session's
     * mailbox, all at once: a client that reconnects meanwhile waits there for the adopted state.
     *
     * @return completes when this node's part is done (see the class comment), or after the bounds
     */
    Future<Void> nodeLeft(String node) {
        departed.put(node, System.nanoTime());
        services.vertx.setTimer(DEPARTED_MS, t -> departed.remove(node));
        String self = services.transfer.localNode();
        return adopt(node, () -> {
            Set<String> members = new HashSet<>(services.transfer.peers());
            members.add(self);
            Set<String> gone = new HashSet<>(departed.keySet());
            gone.removeAll(members); // a node back after a healed partition owns its sessions again
            return new Round(gone, services.transfer.ownedByAny(gone), members);
        });
    }

    /**
     * This node's previous incarnation, whose sessions its store brought back (SessionRecovery):
     * this node adopts all of them itself. The other members know nothing of that incarnation, so
     * a share of them would be adopted by nobody; whoever's clients connect elsewhere take their
     * sessions over from here as from any live owner.
     */
    Future<Void> recoveredFrom(String formerNode) {
        String self = services.transfer.localNode();
        return adopt(formerNode, () -> new Round(Set.of(formerNode), services.transfer.ownedByAny(Set.of(formerNode)),
                Set.of(self)));
    }

    private Future<Void> adopt(String node, java.util.concurrent.Callable<Round> roundOf) {
        long start = System.nanoTime();
        String self = services.transfer.localNode();
        return services.vertx.executeBlocking(roundOf, false)
                .compose(round -> {
                    List<Future<Void>> adopted = new ArrayList<>();
                    int[] mine = {0};
                    round.owned().forEach((clientId, owner) -> {
                        if (self.equals(AdoptionShare.adopter(clientId, round.members()))) {
                            Promise<Void> one = Promise.promise();
                            adopted.add(one.future());
                            mine[0]++;
                            registry.arriving(clientId).post((SessionRef.Task) r -> r.ownership.adoptFromDead(owner, one));
                        }
                    });
                    Promise<Void> claimed = Promise.promise();
                    awaitClaimed(round, System.currentTimeMillis() + CLAIMED_WAIT_MS, claimed);
                    return Future.join(Future.join(adopted), claimed.future())
                            .transform(v -> afterClaims())
                            .compose(v -> awaitArrivals(round.gone()))
                            .onComplete(v -> log.info("node {} left: this node adopted {} of the {} sessions of the "
                                            + "nodes that left ({} ms, arrivals included)", node, mine[0],
                                    round.owned().size(), (System.nanoTime() - start) / 1_000_000));
                }, e -> {
                    log.warn("adopting the sessions of node {} failed: {}", node, e.toString());
                    return Future.succeededFuture();
                });
    }

    private record Round(Set<String> gone, Map<String, String> owned, Set<String> members) {
    }

    /** Completes {@code done} once none of the round's sessions is still owned by a node that left. */
    private void awaitClaimed(Round round, long deadline, Promise<Void> done) {
        if (round.owned().isEmpty()) {
            done.complete();
            return;
        }
        services.vertx.executeBlocking(() -> services.transfer.ownersOf(round.owned().keySet()), false)
                .onComplete(ar -> {
                    int left = 0;
                    if (ar.succeeded()) {
                        for (String owner : ar.result().values()) {
                            if (round.gone().contains(owner)) {
                                left++;
                            }
                        }
                    }
                    if (ar.succeeded() && left == 0) {
                        done.complete();
                    } else if (System.currentTimeMillis() > deadline) {
                        log.warn("recovery: {} sessions of the nodes that left were not claimed within {} ms; going on",
                                ar.succeeded() ? left : "some", CLAIMED_WAIT_MS);
                        done.complete();
                    } else {
                        services.vertx.setTimer(POLL_MS, t -> awaitClaimed(round, deadline, done));
                    }
                });
    }

    /** Completes once the CONNECT claims in flight now are answered (and have registered what they bring). */
    private Future<Void> afterClaims() {
        return Future.join(List.copyOf(claiming)).transform(v -> Future.succeededFuture());
    }

    /** Completes once no session from {@code nodes} is still on its way here (each wait is bounded). */
    private Future<Void> awaitArrivals(Set<String> nodes) {
        List<Future<Void>> now = new ArrayList<>();
        for (String n : nodes) {
            Set<Future<Void>> pending = arriving.get(n);
            if (pending != null) {
                pending.stream().filter(f -> !f.isComplete()).forEach(now::add);
            }
        }
        if (now.isEmpty()) {
            return Future.succeededFuture();
        }
        return Future.join(now).transform(v -> awaitArrivals(nodes));
    }

    /** A CONNECT here starts claiming its identifier; the claim completes the promise once answered. */
    Promise<Void> claimStarted() {
        Promise<Void> p = Promise.promise();
        claiming.add(p.future());
        p.future().onComplete(v -> claiming.remove(p.future()));
        return p;
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
}
