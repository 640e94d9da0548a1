package io.starling.routing;

import io.starling.cluster.routes.LocalRoutes;
import io.starling.cluster.routes.RouteTable;
import io.starling.retain.RetainedStore;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Matches a published message against the subscriptions and hands one delivery to each matching
 * session, on this node and, through the {@link Forwarder}, on the others. Two-level routing: the
 * {@link RouteTable} says which nodes want a topic, this node's {@link SubscriptionIndex} says
 * which of its sessions do. A single node is the same code with an empty route table.
 *
 * <p>Every way a message is routed (a client's publish, a publish another node forwarded here,
 * a message republished for a node that died) is one {@link Publication}: local deliveries and
 * forwards joined into one outcome, which fails if any session or node refused the message.
 *
 * <p>Runs on the publisher's event loop (or the link's, for forwards); deliveries hop to each
 * subscriber's own context through its mailbox, and forwards leave on one ordered link per node,
 * which keeps per-publisher order on every node (spec 4.6).
 */
public final class Router {
    private static final Future<Integer>[] COUNTS = counts();

    private final SubscriptionIndex index = new SubscriptionIndex();
    /** QoS 2 messages routed to this node's sessions lately: a second routing of one is not delivered here again. */
    private final RecentIds recentQos2 = new RecentIds(65_536);
    private final RetainedStore retained;
    private final RouteTable routes;
    private final LocalRoutes localRoutes;
    private final Forwarder forwarder;
    /**
     * Read while a client's QoS 1/2 message is routed, written while a gone node's routes are
     * purged and what it did not confirm is republished ({@link #nodeGone}): a message routed
     * around the gone node cannot reach a session before the older ones republished to it.
     */
    private final ReentrantReadWriteLock republishing = new ReentrantReadWriteLock();

    /**
     * A QoS 1/2 publisher's acknowledgement waits until every session the message reached has
     * accepted it ({@link Acceptance}): stored with backups where sessions are replicated, and in
     * any case taken into the session's queue, which may hold it back while the subscriber is
     * slower than its publishers (backpressure instead of loss).
     */
    public Router(RetainedStore retained, RouteTable routes, LocalRoutes localRoutes, Forwarder forwarder) {
        this.retained = retained;
        this.routes = routes;
        this.localRoutes = localRoutes;
        this.forwarder = forwarder;
        forwarder.bind(this);
    }

    public RetainedStore retained() {
        return retained;
    }

    public String localNode() {
        return routes.localNode();
    }

    /**
     * Routes a client's message: updates the retained store when RETAIN is set, then delivers it
     * here and forwards it to the nodes that want it.
     *
     * @return how many subscriptions it reached (5.0 PUBACK says 0x10 when none); complete at once
     *         unless a QoS 1/2 message went to a session or node that takes time to accept it; failed
     *         with {@link PublishRefused} when one could not take it
     */
    public Future<Integer> publish(TopicName topic, Message message) {
        if (message.qos() == 0) {
            return route(topic, message); // never republished: nothing to keep behind
        }
        Lock l = republishing.readLock();
        l.lock();
        try {
            return route(topic, message);
        } finally {
            l.unlock();
        }
    }

    private Future<Integer> route(TopicName topic, Message message) {
        if (message.retain()) {
            // [MQTT-3.3.1-5] store it; [MQTT-3.3.1-6] an empty payload removes it [MQTT-3.3.1-7].
            if (message.payload().length == 0) {
                retained.remove(topic);
            } else {
                retained.put(topic, message);
            }
        }
        Publication p = new Publication(message);
        p.deliverDirectOnce(topic, null);
        if (routes.hasRemoteRoutes()) {
            Targets targets = new Targets();
            routes.match(topic, targets);
            for (Map.Entry<String, Targets.Node> t : targets.nodes.entrySet()) {
                p.forward(t.getKey(), t.getValue().direct, t.getValue().shared, null);
            }
            for (String sharedFilter : targets.localShared) {
                p.deliverShared(sharedFilter);
            }
        }
        return p.outcome();
    }

    /**
     * For a QoS 2 message this node routed to its sessions before, the {@link RecentIds} mark at
     * which it did; -1 for any other (it is remembered from now on). A second routing comes from
     * its publisher resending it after the node that first routed it died before answering: the
     * new node routes it again under the same id ([MQTT-4.3.3-2]: delivered once). A republish or
     * replay for a dead node's sessions is not asked: it goes to sessions that did not get it.
     */
    private long routedHereAt(Message m) {
        return m.qos() != 2 ? -1 : recentQos2.firstSeen(m.id());
    }

    /**
     * Where this node is in its QoS 2 routing history: a session that comes to this node (adopted
     * from a dead one, taken over from another) records it, and a QoS 2 message routed here again
     * goes to the sessions that came after its first routing here, which may not have it.
     */
    public long arrivalMark() {
        return recentQos2.mark();
    }

    /** Publishes a message of this node only ($SYS): never forwarded, retained in this node's store. */
    public int publishLocal(TopicName topic, Message message) {
        if (message.retain()) {
            retained.put(topic, message);
        }
        Publication p = new Publication(message);
        p.deliverDirect(topic, null);
        return p.local;
    }

    /**
     * A message another node forwarded: delivered to this node's matching plain subscriptions
     * when {@code direct}, and to one local member of each shared subscription in {@code shared}.
     *
     * @param onlyAdoptedFrom when not null, it was republished for that dead node: only sessions adopted from it get it
     * @param onlyClient      when not null, a replay for that client's session alone (see {@link #replay})
     * @return how many subscriptions it reached here, once the sessions have accepted it
     */
    public Future<Integer> deliverForwarded(Message message, boolean direct, List<String> shared, String onlyAdoptedFrom,
                                            String onlyClient) {
        Publication p = new Publication(message);
        if (direct && onlyAdoptedFrom != null) {
            // A replay or republish is for the sessions that do not have it: not asked.
            p.deliverDirect(TopicName.of(message.topic()), onlyAdoptedFrom, onlyClient);
        } else if (direct) {
            p.deliverDirectOnce(TopicName.of(message.topic()), onlyClient);
        }
        for (String sharedFilter : shared) {
            if (!p.deliverShared(sharedFilter)) {
                forwarder.noSharedMember(sharedFilter);
            }
        }
        return p.outcome();
    }

    /**
     * A message that was on its way to {@code deadNode} when it died: once that node's sessions are
     * adopted, it goes to the adopted sessions only (the others have it already), wherever they
     * are, and its shared subscriptions go to a member elsewhere.
     */
    Future<Integer> republish(String deadNode, Message message, boolean direct, List<String> shared) {
        Publication p = new Publication(message);
        TopicName topic = TopicName.of(message.topic());
        Map<String, List<String>> sharedByNode = new HashMap<>();
        for (String sharedFilter : shared) {
            RouteTable.SharedRoute route = routes.sharedRoute(TopicFilter.of(sharedFilter));
            String node = route == null ? null : route.pick(deadNode);
            if (node != null) {
                sharedByNode.computeIfAbsent(node, n -> new ArrayList<>()).add(sharedFilter);
            }
        }
        Map<String, Boolean> directNodes = new HashMap<>();
        if (direct) {
            p.deliverDirect(topic, deadNode);
            routes.match(topic, new RouteTable.Visitor() {
                @Override
                public void node(String node) {
                    directNodes.put(node, true);
                }

                @Override
                public void shared(RouteTable.SharedRoute route) {
                }
            });
        }
        sharedByNode.keySet().forEach(n -> directNodes.putIfAbsent(n, false));
        for (Map.Entry<String, Boolean> n : directNodes.entrySet()) {
            String node = n.getKey();
            List<String> sharedHere = sharedByNode.getOrDefault(node, List.of());
            if (node.equals(routes.localNode())) {
                sharedHere.forEach(p::deliverShared);
            } else if (!node.equals(deadNode)) {
                p.forward(node, n.getValue(), sharedHere, deadNode);
            }
        }
        return p.outcome();
    }

    /** @return true when the client already had this filter (Retain Handling 1, [MQTT-3.3.1-10]). */
    public boolean subscribe(Subscriber subscriber, Subscription subscription) {
        boolean existed = index.add(subscriber, subscription);
        if (!existed) {
            localRoutes.added(subscription.filter());
        }
        return existed;
    }

    /** @return true when the subscription existed (UNSUBACK 0x00 rather than 0x11). */
    public boolean unsubscribe(String clientId, TopicFilter filter) {
        boolean removed = index.remove(clientId, filter);
        if (removed) {
            localRoutes.removed(filter);
        }
        return removed;
    }

    /** Drops a subscription of a session that moved to another node, unless a new session here has it. */
    public void unsubscribeMoved(Subscriber moved, TopicFilter filter) {
        if (index.remove(moved.clientId(), filter, moved)) {
            localRoutes.removed(filter);
        }
    }

    /** Completes once every node routes the subscriptions made so far here; a SUBACK waits for it. */
    public Future<Void> routesSettled() {
        return localRoutes.settled();
    }

    /**
     * Hands a session that arrived from the dead node {@code dead} what every node had sent there
     * unconfirmed and that matches {@code filters} (see {@link Forwarder#replay}).
     */
    public Future<Void> replay(String dead, String clientId, List<TopicFilter> filters) {
        return forwarder.replay(dead, clientId, filters);
    }

    /**
     * {@code node} is gone and its sessions adopted: its routes go, and what it did not confirm is
     * republished, in order, to the sessions adopted from it. Both happen while no client's QoS 1/2
     * message is being routed here, and before any routed after: a publisher whose first
     * republished messages were accepted at once (the adopted session had them) is acknowledged
     * and read again while the rest are still being republished, and its next message, routed
     * around the gone node, went out beside them. A session that parks what its own routes bring
     * took them in order; a session adopted and then taken on by a third node relays them there
     * as they came, and the new owner takes relayed messages at once: they reached the client out
     * of order (RepeatedFailoverIT SIGKILL 5 -> 1, 35 messages of one publisher, spec 4.6). A
     * publish that still matched the gone node's routes and found its outbox gone republished
     * itself inline, overtaking the same way.
     */
    public Future<Void> nodeGone(String node) {
        Lock l = republishing.writeLock();
        l.lock();
        try {
            localRoutes.peerLeft(node);
            return forwarder.nodeGone(node); // hands everything on before it returns (no waiting inside)
        } finally {
            l.unlock();
        }
    }

    /**
     * Gives a shared-subscription delivery that its member could not complete to another member
     * of the same group (spec 4.8.2): on this node if it has another, else on another node. If no
     * other member exists anywhere it goes back to {@code fallback}.
     *
     * @return false when it reached nobody
     */
    public boolean redeliverShared(Delivery delivery, String fromClientId, Subscriber fallback) {
        TopicFilter filter = TopicFilter.of(delivery.sharedFilter());
        SubscriptionIndex.SharedGroup group = index.sharedGroup(filter);
        SubscriptionIndex.Entry member = group == null ? null : group.pick(fromClientId);
        if (member != null) {
            member.subscriber().deliver(sharedDelivery(delivery.message(), member.subscription(),
                    delivery.sharedFilter()));
            return true;
        }
        RouteTable.SharedRoute route = routes.sharedRoute(filter);
        String node = route == null ? null : route.pick(routes.localNode());
        if (node != null) {
            forwarder.forward(node, delivery.message(), false, List.of(delivery.sharedFilter()), null);
            return true;
        }
        if (fallback != null) {
            fallback.deliver(delivery);
        }
        return fallback != null;
    }

    public int subscriptionCount() {
        return index.size();
    }

    public RouteTable routes() {
        return routes;
    }

    @SuppressWarnings("unchecked")
    private static Future<Integer>[] counts() {
        Future<Integer>[] c = new Future[64];
        for (int i = 0; i < c.length; i++) {
            c[i] = Future.succeededFuture(i);
        }
        return c;
    }

    private static Future<Integer> count(int n) {
        return n < COUNTS.length ? COUNTS[n] : Future.succeededFuture(n);
    }

    private static Delivery sharedDelivery(Message message, Subscription s, String sharedFilter) {
        // Retain As Published has no meaning for shared subscriptions; RETAIN is 0 for live messages.
        return new Delivery(message, Math.min(message.qos(), s.qos()), false,
                s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()}, sharedFilter);
    }

    /**
     * One routing of one message on this node: deliveries to local sessions (which accept QoS 1/2
     * through one {@link Acceptance}) and forwards to other nodes, joined into one outcome.
     */
    private final class Publication {
        final Message message;
        final Acceptance acceptance;
        /** Subscriptions reached whose count is known now. */
        int local;
        List<Future<Integer>> remote;

        Publication(Message message) {
            this.message = message;
            this.acceptance = message.qos() > 0 ? new Acceptance() : null;
        }

        /** To this node's matching plain subscriptions; only sessions adopted from {@code onlyAdoptedFrom} if set. */
        void deliverDirect(TopicName topic, String onlyAdoptedFrom) {
            deliverDirect(topic, onlyAdoptedFrom, null);
        }

        void deliverDirect(TopicName topic, String onlyAdoptedFrom, String onlyClient) {
            Matches matches = new Matches(message, acceptance, onlyAdoptedFrom, onlyClient, -1);
            index.direct().matchTopic(topic.levels(), topic.isSystem(), matches::direct);
            local += matches.deliver();
        }

        /**
         * As {@link #deliverDirect}, for a message its publisher sent (not a republish): a QoS 2
         * message routed here before goes only to the sessions that came here since, which were
         * not among those that got it here (and which drop it if what they brought holds it).
         */
        void deliverDirectOnce(TopicName topic, String onlyClient) {
            long routedAt = routedHereAt(message);
            if (routedAt < 0) {
                deliverDirect(topic, null, onlyClient);
                return;
            }
            Matches matches = new Matches(message, acceptance, null, onlyClient, routedAt);
            index.direct().matchTopic(topic.levels(), topic.isSystem(), matches::direct);
            local += matches.deliver();
        }

        /** To one local member of a shared subscription; false when the group has none here. */
        boolean deliverShared(String sharedFilter) {
            TopicFilter filter = TopicFilter.of(sharedFilter);
            SubscriptionIndex.SharedGroup group = index.sharedGroup(filter);
            SubscriptionIndex.Entry member = group == null ? null : group.pick(null);
            if (member == null) {
                return false;
            }
            member.subscriber().deliver(accepting(sharedDelivery(message, member.subscription(), sharedFilter),
                    acceptance, null));
            local++;
            return true;
        }

        void forward(String node, boolean direct, List<String> shared, String onlyAdoptedFrom) {
            Future<Integer> f = forwarder.forward(node, message, direct, shared, onlyAdoptedFrom);
            if (f.isComplete() && f.succeeded()) {
                local += f.result();
                return;
            }
            if (remote == null) {
                remote = new ArrayList<>(2);
            }
            remote.add(f);
        }

        /** The count of subscriptions reached, once every session and node has accepted it. */
        Future<Integer> outcome() {
            if (acceptance == null && remote == null) {
                return count(local);
            }
            List<Future<Integer>> all = remote == null ? new ArrayList<>(1) : remote;
            if (acceptance != null) {
                all.add(acceptance.sealed().map(0));
            }
            if (all.size() == 1) {
                int base = local;
                return base == 0 ? all.get(0) : all.get(0).map(n -> n + base);
            }
            int base = local;
            return Future.all(all).map(v -> {
                int n = base;
                for (Future<Integer> f : all) {
                    n += f.result();
                }
                return n;
            });
        }
    }

    private static Delivery accepting(Delivery d, Acceptance acceptance, String onlyAdoptedFrom) {
        Delivery out = onlyAdoptedFrom == null ? d : d.withVia(Delivery.REPUBLISHED);
        if (acceptance == null) {
            return out;
        }
        acceptance.expect();
        return out.withAcceptance(acceptance);
    }

    /** The nodes one publish goes to, and the shared subscriptions whose turn falls on this node. */
    private final class Targets implements RouteTable.Visitor {
        /** What one remote node gets: its plain subscriptions, and the shared groups it won. */
        final class Node {
            boolean direct;
            final List<String> shared = new ArrayList<>(0);
        }

        final Map<String, Node> nodes = new HashMap<>(4);
        final List<String> localShared = new ArrayList<>(0);

        @Override
        public void node(String node) {
            nodes.computeIfAbsent(node, n -> new Node()).direct = true;
        }

        @Override
        public void shared(RouteTable.SharedRoute route) {
            String node = route.pick(null);
            if (node == null) {
                return;
            }
            if (node.equals(routes.localNode())) {
                localShared.add(route.sharedFilter());
            } else {
                nodes.computeIfAbsent(node, n -> new Node()).shared.add(route.sharedFilter());
            }
        }
    }

    /** The local matches of one publish, merged so a client with overlapping subscriptions gets one copy. */
    private static final class Matches {
        private final Message message;
        private final Acceptance acceptance;
        private final String onlyAdoptedFrom;
        private final String onlyClient;
        /** When not -1, a second routing of a QoS 2 message: only to sessions that came here after this mark. */
        private final long arrivedAfter;
        private final List<SubscriptionIndex.Entry> direct = new ArrayList<>(4);

        Matches(Message message, Acceptance acceptance, String onlyAdoptedFrom, String onlyClient, long arrivedAfter) {
            this.message = message;
            this.acceptance = acceptance;
            this.onlyAdoptedFrom = onlyAdoptedFrom;
            this.onlyClient = onlyClient;
            this.arrivedAfter = arrivedAfter;
        }

        private Delivery accepting(Delivery d) {
            return Router.accepting(arrivedAfter < 0 ? d : d.withVia(Delivery.ROUTED_AGAIN), acceptance, onlyAdoptedFrom);
        }

        void direct(String clientId, SubscriptionIndex.Entry entry) {
            Subscription s = entry.subscription();
            if (onlyClient != null && !onlyClient.equals(clientId)) {
                return;
            }
            if (onlyAdoptedFrom != null && !onlyAdoptedFrom.equals(entry.subscriber().adoptedFrom())) {
                return;
            }
            if (arrivedAfter >= 0 && entry.subscriber().arrivedAt() <= arrivedAfter) {
                return; // it was here when the message was routed here first: it has it
            }
            // [MQTT-3.8.3-3] No Local: not to the publisher's own subscription.
            if (s.noLocal() && clientId.equals(message.publisherId())) {
                return;
            }
            direct.add(entry);
        }

        int deliver() {
            if (direct.size() == 1) {
                SubscriptionIndex.Entry e = direct.get(0);
                Subscription s = e.subscription();
                e.subscriber().deliver(accepting(new Delivery(message, Math.min(message.qos(), s.qos()),
                        s.retainAsPublished() && message.retain(), ids(s), null)));
            } else if (direct.size() > 1) {
                deliverMerged();
            }
            return direct.size();
        }

        /**
         * Overlapping subscriptions of one client: one copy at the highest granted QoS carrying
         * every matching Subscription Identifier (spec 3.3.4, [MQTT-3.3.4-3..5]).
         */
        private void deliverMerged() {
            Map<String, List<Subscription>> byClient = new HashMap<>();
            Map<String, Subscriber> subscribers = new HashMap<>();
            for (SubscriptionIndex.Entry e : direct) {
                String id = e.subscriber().clientId();
                byClient.computeIfAbsent(id, k -> new ArrayList<>(2)).add(e.subscription());
                subscribers.put(id, e.subscriber());
            }
            for (Map.Entry<String, List<Subscription>> c : byClient.entrySet()) {
                int qos = 0;
                boolean retain = false;
                int idCount = 0;
                for (Subscription s : c.getValue()) {
                    qos = Math.max(qos, Math.min(message.qos(), s.qos()));
                    retain |= s.retainAsPublished() && message.retain();
                    idCount += s.subscriptionId() != 0 ? 1 : 0;
                }
                int[] ids = idCount == 0 ? Delivery.NO_IDS : new int[idCount];
                int i = 0;
                for (Subscription s : c.getValue()) {
                    if (s.subscriptionId() != 0) {
                        ids[i++] = s.subscriptionId();
                    }
                }
                subscribers.get(c.getKey()).deliver(accepting(new Delivery(message, qos, retain, ids, null)));
            }
        }

        private static int[] ids(Subscription s) {
            return s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()};
        }
    }
}
