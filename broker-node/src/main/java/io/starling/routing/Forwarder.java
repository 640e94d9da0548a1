package io.starling.routing;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.metrics.BrokerMetrics;
import io.starling.metrics.DropReason;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a publish to another node over its {@link NodeLinks} link, once per node, and delivers
 * what other nodes forward here. QoS 1/2 messages are requests: the node answers once it has handed
 * the message to its sessions, and only then does the publisher's PUBACK/PUBREC go out.
 *
 * <p>Body: {@code byte flags (1 = plain subscriptions), int n, n shared filters, message}.
 */
public final class Forwarder {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
    public static final byte CHANNEL = 2;
    private static final int DIRECT = 1;
    /** How long a message whose link broke waits for the node to come back or be declared gone. */
    private static final long RETRY_MS = 20_000;

    private final NodeLinks links;
    private final BrokerMetrics metrics;
    private final Adoptions adoptions;
    private Router router;

    public Forwarder(NodeLinks links, BrokerMetrics metrics, Adoptions adoptions) {
        this.links = links;
        this.metrics = metrics;
        this.adoptions = adoptions;
    }

    void bind(Router r) {
        this.router = r;
        links.handle(CHANNEL, this::onForward);
    }

    /**
     * @return how many subscriptions it reached there, as far as this node can tell. A QoS 1/2
     *         message whose node dies first waits until the other nodes have adopted that node's
     *         sessions, and goes to them.
     */
    Future<Integer> forward(String node, Message message, boolean direct, List<String> shared) {
        return forward(node, message, direct, shared, "");
    }

    Future<Integer> forward(String node, Message message, boolean direct, List<String> shared, String onlyAdoptedFrom) {
        Buffer body = encode(message, direct, shared, onlyAdoptedFrom);
        metrics.forwarded();
        int expected = (direct ? 1 : 0) + shared.size();
        if (message.qos() == 0) {
            if (!links.send(node, CHANNEL, body)) {
                metrics.dropped(DropReason.LINK_UNAVAILABLE);
                return Future.succeededFuture(0);
            }
            return Future.succeededFuture(expected);
        }
        return links.request(node, CHANNEL, body).transform(ar -> {
            if (ar.succeeded()) {
                return Future.succeededFuture(ar.result().getInt(0));
            }
            return afterLoss(node, message, direct, shared, onlyAdoptedFrom, System.currentTimeMillis() + RETRY_MS);
        });
    }

    /**
     * The link broke before the node confirmed the message. If the node left the cluster, its
     * sessions are adopted by the others, which get the message then; if the link comes back, the
     * message goes again (a QoS 1 duplicate at worst). Bounded: after that it is counted as failed.
     */
    private Future<Integer> afterLoss(String node, Message message, boolean direct, List<String> shared,
                                      String onlyAdoptedFrom, long deadline) {
        if (!links.peers().contains(node)) {
            log.debug("message on {} waits for the adoption of node {}'s sessions", message.topic(), node);
            return adoptions.awaitAdopted(node).compose(v -> router.republish(node, message, direct, shared));
        }
        if (links.isUp(node)) {
            return forward(node, message, direct, shared, onlyAdoptedFrom);
        }
        if (System.currentTimeMillis() > deadline) {
            metrics.forwardFailed();
            log.warn("message on {} to node {} not confirmed: the link stayed down", message.topic(), node);
            return Future.succeededFuture(0);
        }
        io.vertx.core.Promise<Integer> later = io.vertx.core.Promise.promise();
        links.vertx().setTimer(50, t -> afterLoss(node, message, direct, shared, onlyAdoptedFrom, deadline)
                .onComplete(later));
        return later.future();
    }

    void noSharedMember(String sharedFilter) {
        metrics.dropped(DropReason.NO_SHARED_MEMBER);
        log.debug("forwarded message for {} found no member here", sharedFilter);
    }

    private void onForward(String from, Buffer body, NodeLinks.Reply reply) {
        metrics.forwardReceived();
        int flags = body.getByte(0);
        int n = body.getInt(1);
        List<String> shared = n == 0 ? List.of() : new ArrayList<>(n);
        int pos = 5;
        for (int i = 0; i < n; i++) {
            int len = body.getInt(pos);
            shared.add(new String(body.getBytes(pos + 4, pos + 4 + len), StandardCharsets.UTF_8));
            pos += 4 + len;
        }
        int len = body.getInt(pos);
        String onlyAdoptedFrom = new String(body.getBytes(pos + 4, pos + 4 + len), StandardCharsets.UTF_8);
        pos += 4 + len;
        Message m = MessageCodec.decode(body.getBytes(pos, body.length()));
        Future<Integer> reached = router.deliverForwarded(m, (flags & DIRECT) != 0, shared,
                onlyAdoptedFrom.isEmpty() ? null : onlyAdoptedFrom);
        if (reply != null) {
            reached.onComplete(ar -> reply.ok(Buffer.buffer(4).appendInt(ar.succeeded() ? ar.result() : 0)));
        }
    }

    private static Buffer encode(Message m, boolean direct, List<String> shared, String onlyAdoptedFrom) {
        Buffer b = Buffer.buffer(64 + m.payload().length).appendByte((byte) (direct ? DIRECT : 0)).appendInt(shared.size());
        for (String s : shared) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.appendInt(bytes.length).appendBytes(bytes);
        }
        byte[] adopted = onlyAdoptedFrom.getBytes(StandardCharsets.UTF_8);
        b.appendInt(adopted.length).appendBytes(adopted);
        return b.appendBytes(MessageCodec.encode(m));
    }
}
