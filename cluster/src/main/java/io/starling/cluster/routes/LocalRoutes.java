package io.starling.cluster.routes;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.topic.TopicFilter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topic filters this node's sessions subscribe to, announced to every other node so that
 * their {@link RouteTable}s forward matching publishes here. Only a filter's first subscriber and
 * its last unsubscribe are announced. A peer whose link comes up gets the whole set, which it
 * applies as a replacement, so a link that broke cannot leave stale or missing routes behind.
 *
 * <p>{@link #settled()} completes once every peer has applied every announcement made so far:
 * a SUBACK waits for it, so a subscription sees publishes from every node as soon as its client
 * has the SUBACK (issue 3).
 */
public final class LocalRoutes {
    private static final Logger log = LoggerFactory.getLogger(LocalRoutes.class);
    public static final byte CHANNEL = 1;
    private static final byte ADD = 1;
    private static final byte REMOVE = 2;
    private static final byte REPLACE = 3;

    private final Vertx vertx;
    private final NodeLinks links;
    private final RouteTable table;
    private final long settleTimeoutMs;
    private final Map<String, Integer> counts = new HashMap<>(); // guarded by this
    private Future<Void> lastAnnouncement = Future.succeededFuture(); // guarded by this

    public LocalRoutes(Vertx vertx, NodeLinks links, RouteTable table, long settleTimeoutMs) {
        this.vertx = vertx;
        this.links = links;
        this.table = table;
        this.settleTimeoutMs = settleTimeoutMs;
        links.handle(CHANNEL, this::onPeerRoutes);
        links.onLinkUp(this::sendAll);
    }

    /** A local session subscribed to {@code filter} (not already subscribed by that session). */
    public synchronized void added(TopicFilter filter) {
        if (counts.merge(filter.value(), 1, Integer::sum) == 1) {
            table.add(table.localNode(), filter);
            announce(ADD, List.of(filter));
        }
    }

    /** A local session's subscription to {@code filter} ended. */
    public synchronized void removed(TopicFilter filter) {
        Integer n = counts.get(filter.value());
        if (n == null) {
            return;
        }
        if (n == 1) {
            counts.remove(filter.value());
            table.remove(table.localNode(), filter);
            announce(REMOVE, List.of(filter));
        } else {
            counts.put(filter.value(), n - 1);
        }
    }

    /**
     * Completes when every peer has applied the announcements made so far, or after the settle
     * timeout (a peer that stopped answering but has not yet been dropped from the cluster must
     * not hold SUBACKs back for ever; that is logged).
     */
    public Future<Void> settled() {
        Future<Void> last;
        synchronized (this) {
            last = lastAnnouncement;
        }
        if (last.isComplete()) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        long timer = vertx.setTimer(settleTimeoutMs, t -> {
            if (done.tryComplete()) {
                log.warn("routes not confirmed by every node within {} ms; answering anyway", settleTimeoutMs);
            }
        });
        last.onComplete(ar -> {
            vertx.cancelTimer(timer);
            done.tryComplete();
        });
        return done.future();
    }

    /** The peer left the cluster: its routes go. */
    public void peerLeft(String node) {
        table.purge(node);
    }

    public synchronized int localFilterCount() {
        return counts.size();
    }

    private void announce(byte op, List<TopicFilter> filters) {
        Buffer body = encode(op, filters);
        List<Future<Buffer>> acks = new ArrayList<>();
        for (String peer : links.peers()) {
            acks.add(links.request(peer, CHANNEL, body));
        }
        if (!acks.isEmpty()) {
            // A peer that leaves fails its request; it needs no routes then, so failure counts as done.
            Future<Void> all = Future.join(acks).transform(ar -> Future.succeededFuture());
            Future<Void> previous = lastAnnouncement;
            lastAnnouncement = Future.join(previous, all).transform(ar -> Future.succeededFuture());
        }
    }

    private synchronized void sendAll(String peer) {
        List<TopicFilter> all = new ArrayList<>(counts.size());
        counts.keySet().forEach(f -> all.add(TopicFilter.of(f)));
        links.request(peer, CHANNEL, encode(REPLACE, all))
                .onFailure(e -> log.debug("routes to {} not confirmed: {}", peer, e.toString()));
    }

    private void onPeerRoutes(String from, Buffer body, NodeLinks.Reply reply) {
        byte op = body.getByte(0);
        List<TopicFilter> filters = decode(body);
        if (op == ADD) {
            filters.forEach(f -> table.add(from, f));
        } else if (op == REMOVE) {
            filters.forEach(f -> table.remove(from, f));
        } else if (op == REPLACE) {
            table.replace(from, filters);
        }
        if (reply != null) {
            reply.ok(Buffer.buffer());
        }
    }

    private static Buffer encode(byte op, List<TopicFilter> filters) {
        Buffer b = Buffer.buffer().appendByte(op).appendInt(filters.size());
        for (TopicFilter f : filters) {
            byte[] s = f.value().getBytes(StandardCharsets.UTF_8);
            b.appendInt(s.length).appendBytes(s);
        }
        return b;
    }

    private static List<TopicFilter> decode(Buffer b) {
        int n = b.getInt(1);
        List<TopicFilter> out = new ArrayList<>(n);
        int pos = 5;
        for (int i = 0; i < n; i++) {
            int len = b.getInt(pos);
            out.add(TopicFilter.of(new String(b.getBytes(pos + 4, pos + 4 + len), StandardCharsets.UTF_8)));
            pos += 4 + len;
        }
        return out;
    }
}
