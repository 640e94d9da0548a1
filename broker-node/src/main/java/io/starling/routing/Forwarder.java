package io.starling.routing;

import io.starling.cluster.forwarding.LinkLostException;
import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.forwarding.WireStrings;
import io.starling.metrics.BrokerMetrics;
import io.starling.metrics.DropReason;
import io.starling.protocol.ReasonCode;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a publish to another node over its {@link NodeLinks} link, once per node, and delivers
 * what other nodes forward here. QoS 1/2 messages are requests: the node answers once its sessions
 * have accepted the message, and only then does the publisher's PUBACK/PUBREC go out.
 *
 * <p>QoS 1/2 forwards to one node go through its {@link Outbox}, in order: once one fails because
 * the link broke, the later ones wait behind it rather than overtake it, until the link is back
 * (all are sent again, in order; the receiver takes a repeat once) or the node is gone (after the
 * survivors adopted its sessions, all are republished to them, in order). What waits is bounded in
 * bytes and in time, and a forward that no node took fails: the publisher never hears success for
 * it (issue 9).
 *
 * <p>QoS 0 to a link that is not keeping up pauses the publisher ({@link Congestion}) for up to
 * a second; past that, or with the link down, it is dropped and counted.
 *
 * <p>Body: {@code byte flags (1 = plain subscriptions), int n, n shared filters, adopted-from node, message}.
 */
public final class Forwarder {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);
    public static final byte CHANNEL = 2;
    private static final int DIRECT = 1;
    /** How long forwards wait for a link that stays down while its node is still a member. */
    private static final long LINK_DOWN_MS = 30_000;
    /** Bytes of QoS 1/2 forwards that may wait for one node. */
    private static final long MAX_WAITING_BYTES = 64L << 20;
    /** Forwards received from one node whose outcome is remembered, so that a repeat is taken once. */
    private static final int REMEMBERED = 32_768;
    /** What is known of a node that is gone is dropped this long after it was republished. */
    private static final long FORGET_MS = 300_000;
    /** How long what a gone node did not confirm is kept for sessions recovered from it later. */
    private static final long RETAIN_MS = 120_000;
    /** How long a replay waits at most for this node's republish of a gone node. */
    private static final long REPLAY_WAIT_MS = 60_000;
    public static final byte REPLAY_CHANNEL = 5;
    /** A link congested this long no longer holds QoS 0 publishers back: its overflow is dropped. */
    private static final long STUCK_NANOS = 1_000_000_000L;

    private final NodeLinks links;
    private final BrokerMetrics metrics;
    private final Map<String, Outbox> outboxes = new ConcurrentHashMap<>();
    private final Map<String, LinkBacklog> backlogs = new ConcurrentHashMap<>();
    private final Map<String, Remembered> received = new ConcurrentHashMap<>();
    private Router router;

    public Forwarder(NodeLinks links, BrokerMetrics metrics) {
        this.links = links;
        this.metrics = metrics;
        links.onLinkUp(node -> {
            Outbox o = outboxes.get(node);
            if (o != null && o.linkUp()) {
                outboxes.remove(node, o); // a node back after it was gone (a healed partition) starts afresh
            }
        });
    }

    void bind(Router r) {
        this.router = r;
        links.handle(CHANNEL, this::onForward);
        links.handle(REPLAY_CHANNEL, this::onReplayRequest);
    }

    /**
     * @param onlyAdoptedFrom when not null, only the sessions adopted from that dead node get it there
     * @return how many subscriptions it reached there; a QoS 1/2 forward that nobody took fails
     */
    Future<Integer> forward(String node, Message message, boolean direct, List<String> shared, String onlyAdoptedFrom) {
        return forward(node, message, direct, shared, onlyAdoptedFrom, null);
    }

    /** @param onlyClient when not null, only that client's session gets it there (a replay, see {@link #replay}) */
    Future<Integer> forward(String node, Message message, boolean direct, List<String> shared, String onlyAdoptedFrom,
                            String onlyClient) {
        Buffer body = encode(message, direct, shared, onlyAdoptedFrom == null ? "" : onlyAdoptedFrom,
                onlyClient == null ? "" : onlyClient);
        metrics.forwarded();
        int expected = (direct ? 1 : 0) + shared.size();
        if (message.qos() == 0) {
            return Future.succeededFuture(sendQos0(node, body) ? expected : 0);
        }
        return outboxes.computeIfAbsent(node, Outbox::new)
                .submit(new Pending(message, direct, shared, onlyAdoptedFrom, body));
    }

    private boolean sendQos0(String node, Buffer body) {
        if (links.congested(node)) {
            LinkBacklog b = backlogs.computeIfAbsent(node, LinkBacklog::new);
            if (b.holdsPublishers()) {
                Congestion.signal(b); // the publisher stops being read until the link drains
            } else {
                metrics.dropped(DropReason.LINK_UNAVAILABLE); // the node reads nothing: QoS 0 may go
                return false;
            }
        }
        if (!links.send(node, CHANNEL, body)) {
            metrics.dropped(DropReason.LINK_UNAVAILABLE);
            return false;
        }
        return true;
    }

    /**
     * {@code node} is gone and the survivors have adopted its sessions: what it did not confirm is
     * republished, in order, to the sessions adopted from it.
     *
     * @return completes when all of it has been handed on (not when it is accepted)
     */
    Future<Void> nodeGone(String node) {
        Outbox o = outboxes.computeIfAbsent(node, Outbox::new);
        o.gone();
        links.vertx().setTimer(FORGET_MS + RETAIN_MS, t -> outboxes.remove(node, o));
        received.remove(node);
        backlogs.remove(node);
        return Future.succeededFuture();
    }

    /**
     * A session {@code clientId} arrived here from {@code dead} (adopted, or recovered by its
     * client's CONNECT): every node, this one included, hands it the messages it had sent to
     * {@code dead} without confirmation that match its subscriptions, once that node has
     * republished them (issue 9). The general republish reaches only sessions adopted by then; a
     * session recovered later would miss them. Its own copies (the session's seen ids) are taken once.
     *
     * @return completes once every node has handed them over and the session accepted them, or
     *         after a bound
     */
    Future<Void> replay(String dead, String clientId, List<TopicFilter> filters) {
        List<Future<?>> all = new ArrayList<>();
        all.add(replayFrom(dead, clientId, filters, null));
        Buffer body = Buffer.buffer();
        WireStrings.append(body, dead);
        WireStrings.append(body, clientId);
        body.appendInt(filters.size());
        filters.forEach(f -> WireStrings.append(body, f.value()));
        for (String peer : links.peers()) {
            all.add(links.request(peer, REPLAY_CHANNEL, body, REPLAY_WAIT_MS + 10_000));
        }
        return Future.join(all).transform(ar -> Future.succeededFuture());
    }

    /** Hands {@code clientId}'s share of what this node had sent to {@code dead} to {@code toNode} (null: here). */
    private Future<Void> replayFrom(String dead, String clientId, List<TopicFilter> filters, String toNode) {
        Outbox o = outboxes.computeIfAbsent(dead, Outbox::new);
        Promise<Void> ready = Promise.promise();
        long timer = links.vertx().setTimer(REPLAY_WAIT_MS, t -> ready.tryComplete());
        o.goneDone.future().onComplete(v -> {
            links.vertx().cancelTimer(timer);
            ready.tryComplete();
        });
        return ready.future().compose(v -> {
            List<Future<Integer>> sent = new ArrayList<>();
            for (Pending p : o.retained()) {
                if (!p.direct || filters.stream().noneMatch(f -> f.matches(TopicName.of(p.message.topic())))) {
                    continue;
                }
                sent.add(toNode == null ? router.deliverForwarded(p.message, true, List.of(), dead, clientId)
                        : forward(toNode, p.message, true, List.of(), dead, clientId));
            }
            return Future.join(sent).transform(ar -> Future.succeededFuture());
        });
    }

    private void onReplayRequest(String from, Buffer body, NodeLinks.Reply reply) {
        int[] pos = {0};
        String dead = WireStrings.read(body, pos);
        String clientId = WireStrings.read(body, pos);
        int n = body.getInt(pos[0]);
        pos[0] += 4;
        List<TopicFilter> filters = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            filters.add(TopicFilter.of(WireStrings.read(body, pos)));
        }
        replayFrom(dead, clientId, filters, from).onComplete(ar -> reply.ok(Buffer.buffer()));
    }

    void noSharedMember(String sharedFilter) {
        metrics.dropped(DropReason.NO_SHARED_MEMBER);
        log.debug("forwarded message for {} found no member here", sharedFilter);
    }

    /** One QoS 1/2 forward and its outcome. */
    private static final class Pending {
        final Message message;
        final boolean direct;
        final List<String> shared;
        final String onlyAdoptedFrom;
        final Buffer body;
        final Promise<Integer> result = Promise.promise();
        /** The link generation it was last sent on (see {@link Outbox#generation}). */
        long generation;

        Pending(Message message, boolean direct, List<String> shared, String onlyAdoptedFrom, Buffer body) {
            this.message = message;
            this.direct = direct;
            this.shared = shared;
            this.onlyAdoptedFrom = onlyAdoptedFrom;
            this.body = body;
        }
    }

    /** The QoS 1/2 forwards to one node that it has not confirmed, in the order they were made. */
    private final class Outbox {
        final String node;
        private final LinkedHashMap<Long, Pending> unconfirmed = new LinkedHashMap<>(); // guarded by this
        private long nextId;
        private long bytes;
        /** A forward found the link broken: the others wait, in order, until it is back or the node is gone. */
        private boolean broken;
        private boolean gone;
        /** Completes when the node is gone and what it did not confirm has been republished. */
        final Promise<Void> goneDone = Promise.promise();
        /** What was republished, kept a while for sessions recovered from the node later ({@link #replay}). */
        private List<Pending> retained = List.of();
        /** Counts link-ups: a failure from before the latest one means "send again", not "broken". */
        private long generation;
        private long timer = -1;

        Outbox(String node) {
            this.node = node;
        }

        synchronized Future<Integer> submit(Pending p) {
            if (gone) {
                return router.republish(node, p.message, p.direct, p.shared); // a straggler after the republish
            }
            if (bytes + p.body.length() > MAX_WAITING_BYTES) {
                metrics.forwardFailed();
                return Future.failedFuture(new PublishRefused(ReasonCode.QUOTA_EXCEEDED,
                        "too much waits for node " + node));
            }
            long id = nextId++;
            unconfirmed.put(id, p);
            bytes += p.body.length();
            if (!broken) {
                // Under the lock: forwards of every thread reach the link in the order they are kept here.
                transmit(id, p);
            }
            return p.result.future();
        }

        /** Sends; called with the lock held. */
        private void transmit(long id, Pending p) {
            p.generation = generation;
            links.requestIfUp(node, CHANNEL, p.body).onComplete(ar -> answered(id, p, ar.succeeded()
                    ? ar.result().getInt(0) : -1, ar.cause()));
        }

        private void answered(long id, Pending p, int reached, Throwable failure) {
            synchronized (this) {
                if (failure == null) {
                    if (unconfirmed.remove(id) != null) {
                        bytes -= p.body.length();
                    }
                } else if (failure instanceof LinkLostException) {
                    if (gone || !unconfirmed.containsKey(id)) {
                        return; // republished, or failed, meanwhile
                    }
                    if (p.generation != generation) {
                        transmit(id, p); // the link came back after this was sent: send it again now
                    } else if (!broken) {
                        broken = true;
                        log.info("link to {} broke: QoS 1/2 forwards to it wait until it is back or the node is gone",
                                node);
                        timer = links.vertx().setTimer(LINK_DOWN_MS, t -> linkStayedDown());
                    }
                    return;
                } else if (unconfirmed.remove(id) != null) {
                    bytes -= p.body.length();
                }
            }
            if (failure == null) {
                p.result.tryComplete(reached);
            } else {
                // The other node failed to take it (its handler threw): not a success.
                metrics.forwardFailed();
                p.result.tryFail(new PublishRefused(ReasonCode.UNSPECIFIED_ERROR, "node " + node + ": "
                        + failure.getMessage()));
            }
        }

        /** The link is up again: everything unconfirmed goes again, in order; true if the node had been gone. */
        synchronized boolean linkUp() {
            generation++;
            if (gone) {
                return true;
            }
            broken = false;
            if (timer >= 0) {
                links.vertx().cancelTimer(timer);
                timer = -1;
            }
            for (Map.Entry<Long, Pending> e : new ArrayList<>(unconfirmed.entrySet())) {
                transmit(e.getKey(), e.getValue());
            }
            return false;
        }

        /** The node is still a member but its link stayed down: what waits fails (its publishers hear so). */
        private void linkStayedDown() {
            List<Pending> failed;
            synchronized (this) {
                timer = -1;
                if (!broken || gone) {
                    return;
                }
                failed = new ArrayList<>(unconfirmed.values());
                unconfirmed.clear();
                bytes = 0;
            }
            log.warn("link to {} stayed down for {} ms: {} QoS 1/2 forwards to it failed", node, LINK_DOWN_MS,
                    failed.size());
            for (Pending p : failed) {
                metrics.forwardFailed();
                p.result.tryFail(new PublishRefused(ReasonCode.UNSPECIFIED_ERROR, "node " + node + " unreachable"));
            }
        }

        /** The node is gone and its sessions adopted: what it did not confirm is republished, in order. */
        void gone() {
            List<Pending> waiting;
            synchronized (this) {
                if (gone) {
                    return;
                }
                gone = true;
                if (timer >= 0) {
                    links.vertx().cancelTimer(timer);
                    timer = -1;
                }
                waiting = new ArrayList<>(unconfirmed.values());
                unconfirmed.clear();
                bytes = 0;
            }
            if (!waiting.isEmpty()) {
                log.info("node {} is gone: republishing the {} QoS 1/2 messages it did not confirm to the sessions "
                        + "adopted from it", node, waiting.size());
            }
            for (Pending p : waiting) {
                router.republish(node, p.message, p.direct, p.shared).onComplete(p.result);
            }
            synchronized (this) {
                retained = waiting;
            }
            goneDone.tryComplete();
            links.vertx().setTimer(RETAIN_MS, t -> {
                synchronized (this) {
                    retained = List.of();
                }
            });
        }

        synchronized List<Pending> retained() {
            return retained;
        }
    }

    /** QoS 0 flow control towards one node's link: its write queue is the backlog. */
    private final class LinkBacklog implements Backlog {
        final String node;
        private volatile long congestedSince;

        LinkBacklog(String node) {
            this.node = node;
        }

        @Override
        public boolean congested() {
            boolean c = links.congested(node);
            if (!c) {
                congestedSince = 0;
            } else if (congestedSince == 0) {
                congestedSince = System.nanoTime();
            }
            return c;
        }

        @Override
        public boolean holdsPublishers() {
            long since = congestedSince;
            if (since == 0) {
                congested();
                return true;
            }
            return System.nanoTime() - since < STUCK_NANOS;
        }

        @Override
        public void whenDrained(Runnable resume) {
            links.whenWritable(node, resume);
        }
    }

    /** The outcomes of the latest forwards received from one node, by message (bounded). */
    private static final class Remembered extends LinkedHashMap<Long, Future<Integer>> {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Future<Integer>> eldest) {
            return size() > REMEMBERED;
        }
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
        len = body.getInt(pos);
        String onlyClient = len == 0 ? null : new String(body.getBytes(pos + 4, pos + 4 + len), StandardCharsets.UTF_8);
        pos += 4 + len;
        Message m = MessageCodec.decode(body.getBytes(pos, body.length()));
        String adopted = onlyAdoptedFrom.isEmpty() ? null : onlyAdoptedFrom;
        if (reply == null) {
            router.deliverForwarded(m, (flags & DIRECT) != 0, shared, adopted, onlyClient);
            return;
        }
        // A request sent again after its link came back may have been taken already: once only
        // (QoS 2 allows no duplicate), answered with the first outcome.
        if (onlyClient != null) {
            // A replay for one recovered session: its session takes a copy it has once itself.
            router.deliverForwarded(m, true, List.of(), adopted, onlyClient).onComplete(ar -> {
                if (ar.succeeded()) {
                    reply.ok(Buffer.buffer(4).appendInt(ar.result()));
                } else {
                    reply.fail(ar.cause().getMessage());
                }
            });
            return;
        }
        long key = adopted == null ? m.id() : ~m.id();
        Remembered seen = received.computeIfAbsent(from, f -> new Remembered());
        Future<Integer> reached;
        synchronized (seen) {
            reached = seen.get(key);
            if (reached == null) {
                reached = router.deliverForwarded(m, (flags & DIRECT) != 0, shared, adopted, null);
                seen.put(key, reached);
            }
        }
        reached.onComplete(ar -> {
            if (ar.succeeded()) {
                reply.ok(Buffer.buffer(4).appendInt(ar.result()));
            } else {
                reply.fail(ar.cause().getMessage());
            }
        });
    }

    private static Buffer encode(Message m, boolean direct, List<String> shared, String onlyAdoptedFrom,
                                 String onlyClient) {
        Buffer b = Buffer.buffer(64 + m.payload().length).appendByte((byte) (direct ? DIRECT : 0)).appendInt(shared.size());
        for (String s : shared) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.appendInt(bytes.length).appendBytes(bytes);
        }
        byte[] adopted = onlyAdoptedFrom.getBytes(StandardCharsets.UTF_8);
        b.appendInt(adopted.length).appendBytes(adopted);
        byte[] client = onlyClient.getBytes(StandardCharsets.UTF_8);
        b.appendInt(client.length).appendBytes(client);
        return b.appendBytes(MessageCodec.encode(m));
    }
}
