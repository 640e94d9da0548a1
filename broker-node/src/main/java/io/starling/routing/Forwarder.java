package io.starling.routing;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.metrics.BrokerMetrics;
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

    private final NodeLinks links;
    private final BrokerMetrics metrics;
    private Router router;

    public Forwarder(NodeLinks links, BrokerMetrics metrics) {
        this.links = links;
        this.metrics = metrics;
    }

    void bind(Router r) {
        this.router = r;
        links.handle(CHANNEL, this::onForward);
    }

    /** @return how many subscriptions it reached there, as far as this node can tell */
    Future<Integer> forward(String node, Message message, boolean direct, List<String> shared) {
        Buffer body = encode(message, direct, shared);
        metrics.forwarded();
        int expected = (direct ? 1 : 0) + shared.size();
        if (message.qos() == 0) {
            if (!links.send(node, CHANNEL, body)) {
                metrics.dropped("link_unavailable");
                return Future.succeededFuture(0);
            }
            return Future.succeededFuture(expected);
        }
        return links.request(node, CHANNEL, body).transform(ar -> {
            if (ar.succeeded()) {
                return Future.succeededFuture(ar.result().getInt(0));
            }
            metrics.forwardFailed();
            log.warn("message on {} to node {} not confirmed: {}", message.topic(), node, ar.cause().getMessage());
            return Future.succeededFuture(0);
        });
    }

    void noSharedMember(String sharedFilter) {
        metrics.dropped("no_shared_member");
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
        Message m = MessageCodec.decode(body.getBytes(pos, body.length()));
        int reached = router.deliverForwarded(m, (flags & DIRECT) != 0, shared);
        if (reply != null) {
            reply.ok(Buffer.buffer(4).appendInt(reached));
        }
    }

    private static Buffer encode(Message m, boolean direct, List<String> shared) {
        Buffer b = Buffer.buffer(64 + m.payload().length).appendByte((byte) (direct ? DIRECT : 0)).appendInt(shared.size());
        for (String s : shared) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.appendInt(bytes.length).appendBytes(bytes);
        }
        return b.appendBytes(MessageCodec.encode(m));
    }
}
