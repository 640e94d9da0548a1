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

/**
 * Which nodes have finished adopting the sessions of a node that died. A message that could not
 * be forwarded to the dead node waits until every remaining node has adopted its share (and routes
 * it), then goes to the adopted sessions (issue 3: an acknowledged message survives a SIGKILL).
 */
public final class Adoptions {
    public static final byte CHANNEL = 4;
    private static final long WAIT_MS = 30_000;

    private final Vertx vertx;
    private final NodeLinks links;
    /** Dead node to the nodes that reported adopting its sessions (this one included). */
    private final Map<String, Set<String>> reported = new ConcurrentHashMap<>();
    /** Dead node to the nodes expected to report, fixed when this node learns of the death. */
    private final Map<String, Set<String>> expected = new ConcurrentHashMap<>();
    private final Map<String, Promise<Void>> complete = new ConcurrentHashMap<>();

    public Adoptions(Vertx vertx, NodeLinks links) {
        this.vertx = vertx;
        this.links = links;
        links.handle(CHANNEL, (from, body, reply) -> report(body.toString(StandardCharsets.UTF_8), from));
    }

    /** This node learned that {@code dead} left: it waits for the nodes there are now. */
    public void nodeLeft(String dead) {
        Set<String> nodes = new HashSet<>(links.peers());
        nodes.add(links.localNode());
        expected.put(dead, nodes);
        check(dead);
    }

    /** This node has adopted (and routes) its share of {@code dead}'s sessions: everyone is told. */
    public void adopted(String dead) {
        Buffer body = Buffer.buffer(dead, "UTF-8");
        for (String peer : links.peers()) {
            links.send(peer, CHANNEL, body);
        }
        report(dead, links.localNode());
    }

    /** Completes once every remaining node adopted its share of {@code dead}'s sessions, or after a bound. */
    public Future<Void> awaitAdopted(String dead) {
        Promise<Void> p = complete.computeIfAbsent(dead, d -> Promise.promise());
        vertx.setTimer(WAIT_MS, t -> p.tryComplete());
        check(dead);
        return p.future();
    }

    private void report(String dead, String node) {
        reported.computeIfAbsent(dead, d -> ConcurrentHashMap.newKeySet()).add(node);
        check(dead);
    }

    private void check(String dead) {
        Set<String> want = expected.get(dead);
        Set<String> have = reported.get(dead);
        if (want != null && have != null && have.containsAll(want)) {
            complete.computeIfAbsent(dead, d -> Promise.promise()).tryComplete();
        }
    }
}
