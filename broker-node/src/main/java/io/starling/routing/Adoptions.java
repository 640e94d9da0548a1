package io.starling.routing;

import io.starling.cluster.forwarding.NodeLinks;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's recovery from a node that died (docs/adr/0006, 0010), as each node follows it:
 * every survivor <b>adopts</b> its share of the dead node's sessions and says so; once all have,
 * the dead node's routes go and each node republishes what it had sent there without
 * confirmation ({@link Forwarder}), so that a QoS 1/2 forward the dead node did not confirm
 * reaches the adopted sessions instead of nobody.
 *
 * <p>The round is bounded in time, a survivor that dies too is not waited for, and what is known
 * of a dead node is forgotten a while after the round ended.
 */
public final class Adoptions {
    private static final Logger log = LoggerFactory.getLogger(Adoptions.class);
    public static final byte CHANNEL = 4;
    private static final byte ADOPTED = 1;
    /** How long the first round waits at most. */
    private static final long ADOPT_WAIT_MS = 30_000;
    /** How long what is known of a dead node is kept after its rounds ended. */
    private static final long FORGET_MS = 300_000;

    /** One dead node's recovery as this node sees it. */
    private static final class Recovery {
        final String dead;
        final Set<String> expected;
        final Set<String> adopted = ConcurrentHashMap.newKeySet();
        final Promise<Void> allAdopted = Promise.promise();
        final long startNanos = System.nanoTime();

        Recovery(String dead, Set<String> expected) {
            this.dead = dead;
            this.expected = ConcurrentHashMap.newKeySet();
            this.expected.addAll(expected);
        }
    }

    private final Vertx vertx;
    private final NodeLinks links;
    private final Map<String, Recovery> recoveries = new ConcurrentHashMap<>();
    /** Reports from nodes that arrived before this node learned of the death itself. */
    private final Map<String, Set<String>> earlyAdopted = new ConcurrentHashMap<>();

    public Adoptions(Vertx vertx, NodeLinks links) {
        this.vertx = vertx;
        this.links = links;
        links.handle(CHANNEL, (from, body, reply) -> {
            String dead = body.getString(1, body.length(), "UTF-8");
            report(dead, from, body.getByte(0));
        });
    }

    /** This node learned that {@code dead} left: it waits for the nodes there are now. */
    public void nodeLeft(String dead) {
        Set<String> nodes = new HashSet<>(links.peers());
        nodes.add(links.localNode());
        Recovery r = new Recovery(dead, nodes);
        if (recoveries.putIfAbsent(dead, r) != null) {
            return;
        }
        vertx.setTimer(ADOPT_WAIT_MS, t -> {
            if (r.allAdopted.tryComplete()) {
                Set<String> missing = new HashSet<>(r.expected);
                missing.removeAll(r.adopted);
                log.warn("recovery from node {}: {} did not report their adoptions within {} ms; going on without them",
                        dead, missing, ADOPT_WAIT_MS);
            }
        });
        r.allAdopted.future().onComplete(v -> vertx.setTimer(FORGET_MS, t -> recoveries.remove(dead, r)));
        Set<String> a = earlyAdopted.remove(dead);
        if (a != null) {
            r.adopted.addAll(a);
        }
        // A node that died before this one learned of the first death answers nothing.
        for (Recovery other : recoveries.values()) {
            other.expected.remove(dead);
            check(other);
        }
        check(r);
    }

    /** This node has adopted (and routes) its share of {@code dead}'s sessions: everyone is told. */
    public void adopted(String dead) {
        tell(dead, ADOPTED);
    }

    private void tell(String dead, byte op) {
        Buffer body = Buffer.buffer().appendByte(op).appendString(dead, "UTF-8");
        for (String peer : links.peers()) {
            links.send(peer, CHANNEL, body);
        }
        report(dead, links.localNode(), op);
    }

    /** Completes once every remaining node adopted its share of {@code dead}'s sessions, or after a bound. */
    public Future<Void> awaitAdopted(String dead) {
        Recovery r = recoveries.get(dead);
        return r == null ? Future.succeededFuture() : r.allAdopted.future();
    }

    private void report(String dead, String node, byte op) {
        Recovery r = recoveries.get(dead);
        if (r == null) {
            // Another node saw the death first: kept until this one sees it too (bounded by the forget timer).
            earlyAdopted.computeIfAbsent(dead, d -> {
                vertx.setTimer(FORGET_MS, t -> earlyAdopted.remove(d));
                return ConcurrentHashMap.newKeySet();
            }).add(node);
            return;
        }
        r.adopted.add(node);
        check(r);
    }

    private static void check(Recovery r) {
        if (r.adopted.containsAll(r.expected) && r.allAdopted.tryComplete()) {
            log.info("recovery from node {}: all {} nodes adopted their shares after {} ms", r.dead, r.expected.size(),
                    (System.nanoTime() - r.startNanos) / 1_000_000);
        }
    }
}
