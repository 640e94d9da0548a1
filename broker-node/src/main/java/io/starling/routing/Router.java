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
import java.util.Set;

/**
 * Matches a published message against the subscriptions and hands one delivery to each matching
 * session, on this node and, through the {@link Forwarder}, on the others. Two-level routing: the
 * {@link RouteTable} says which nodes want a topic, this node's {@link SubscriptionIndex} says
 * which of its sessions do. A single node is the same code with an empty route table.
 *
 * <p>Runs on the publisher's event loop; deliveries hop to each subscriber's own context through
 * its mailbox, and forwards leave on one ordered link per node, which keeps per-publisher order
 * on every node (spec 4.6).
 */
public final class Router {
    private static final Future<Integer>[] COUNTS = counts();

    private final SubscriptionIndex index = new SubscriptionIndex();
    private final RetainedStore retained;
    private final RouteTable routes;
    private final LocalRoutes localRoutes;
    private final Forwarder forwarder;

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
     *         unless a QoS 1/2 message went to another node, when it completes as that node accepts it
     */
    public Future<Integer> publish(TopicName topic, Message message) {
        if (message.retain()) {
            // [MQTT-3.3.1-5] store it; [MQTT-3.3.1-6] an empty payload removes it [MQTT-3.3.1-7].
            if (message.payload().length == 0) {
                retained.remove(topic);
            } else {
                retained.put(topic, message);
            }
        }
        Acceptance acceptance = message.qos() > 0 ? new Acceptance() : null;
        int local = deliverDirect(topic, message, acceptance, null);
        if (!routes.hasRemoteRoutes()) {
            return acceptance == null ? count(local) : acceptance.sealed().map(local);
        }
        Targets targets = new Targets();
        routes.match(topic, targets);
        List<Future<Integer>> remote = null;
        for (Map.Entry<String, Targets.Node> t : targets.nodes.entrySet()) {
            Future<Integer> f = forwarder.forward(t.getKey(), message, t.getValue().direct, t.getValue().shared);
            if (f.isComplete() && f.succeeded()) {
                local += f.result();
            } else {
                if (remote == null) {
                    remote = new ArrayList<>(targets.nodes.size());
                }
                remote.add(f);
            }
        }
        for (String sharedFilter : targets.localShared) {
            local += deliverShared(TopicFilter.of(sharedFilter), message, null, acceptance) ? 1 : 0;
        }
        if (acceptance != null) {
            if (remote == null) {
                remote = new ArrayList<>(1);
            }
            remote.add(acceptance.sealed().map(0));
        }
        if (remote == null) {
            return count(local);
        }
        int base = local;
        List<Future<Integer>> pending = remote;
        return Future.join(pending).transform(ar -> {
            int n = base;
            for (Future<Integer> f : pending) {
                n += f.succeeded() ? f.result() : 0;
            }
            return count(n);
        });
    }

    /** Publishes a message of this node only ($SYS): never forwarded, retained in this node's store. */
    public int publishLocal(TopicName topic, Message message) {
        if (message.retain()) {
            retained.put(topic, message);
        }
        return deliverDirect(topic, message, null, null);
    }

    /**
     * A message another node forwarded: delivered to this node's matching plain subscriptions
     * when {@code direct}, and to one local member of each shared subscription in {@code shared}.
     *
     * @return how many subscriptions it reached here, once the sessions have accepted it
     */
    public Future<Integer> deliverForwarded(Message message, boolean direct, List<String> shared, String onlyAdoptedFrom) {
        Acceptance acceptance = message.qos() > 0 ? new Acceptance() : null;
        int n = direct ? deliverDirect(TopicName.of(message.topic()), message, acceptance, onlyAdoptedFrom) : 0;
        for (String sharedFilter : shared) {
            if (deliverShared(TopicFilter.of(sharedFilter), message, null, acceptance)) {
                n++;
            } else {
                forwarder.noSharedMember(sharedFilter);
            }
        }
        return acceptance == null ? count(n) : acceptance.sealed().map(n);
    }

    /**
     * A message that was on its way to {@code deadNode} when it died: once that node's sessions are
     * adopted, it goes to the adopted sessions only (the others have it already), and its shared
     * subscriptions go to a member elsewhere.
     */
    Future<Integer> republish(String deadNode, Message message, boolean direct, List<String> shared) {
        Acceptance acceptance = message.qos() > 0 ? new Acceptance() : null;
        TopicName topic = TopicName.of(message.topic());
        int local = direct ? deliverDirect(topic, message, acceptance, deadNode) : 0;
        List<Future<Integer>> remote = new ArrayList<>();
        Map<String, List<String>> sharedByNode = new HashMap<>();
        for (String sharedFilter : shared) {
            RouteTable.SharedRoute route = routes.sharedRoute(TopicFilter.of(sharedFilter));
            String node = route == null ? null : route.pick(deadNode);
            if (node != null) {
                sharedByNode.computeIfAbsent(node, n -> new ArrayList<>()).add(sharedFilter);
            }
        }
        Set<String> directNodes = new java.util.HashSet<>();
        if (direct) {
            routes.match(topic, new RouteTable.Visitor() {
                @Override
                public void node(String node) {
                    directNodes.add(node);
                }

                @Override
                public void shared(RouteTable.SharedRoute route) {
                }
            });
        }
        Set<String> nodes = new java.util.HashSet<>(directNodes);
        nodes.addAll(sharedByNode.keySet());
        for (String node : nodes) {
            List<String> sharedHere = sharedByNode.getOrDefault(node, List.of());
            if (node.equals(routes.localNode())) {
                for (String f : sharedHere) {
                    local += deliverShared(TopicFilter.of(f), message, null, acceptance) ? 1 : 0;
                }
            } else if (!node.equals(deadNode)) {
                remote.add(forwarder.forward(node, message, directNodes.contains(node), sharedHere, deadNode));
            }
        }
        if (acceptance != null) {
            remote.add(acceptance.sealed().map(0));
        }
        int base = local;
        return Future.join(remote).transform(ar -> {
            int n = base;
            for (Future<Integer> f : remote) {
                n += f.succeeded() ? f.result() : 0;
            }
            return Future.succeededFuture(n);
        });
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
            forwarder.forward(node, delivery.message(), false, List.of(delivery.sharedFilter()));
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

    private boolean deliverShared(TopicFilter filter, Message message, String exclude, Acceptance acceptance) {
        SubscriptionIndex.SharedGroup group = index.sharedGroup(filter);
        SubscriptionIndex.Entry member = group == null ? null : group.pick(exclude);
        if (member == null) {
            return false;
        }
        member.subscriber().deliver(accepting(sharedDelivery(message, member.subscription(), filter.value()), acceptance));
        return true;
    }

    private static Delivery accepting(Delivery d, Acceptance acceptance) {
        if (acceptance == null) {
            return d;
        }
        acceptance.expect();
        return d.withAcceptance(acceptance);
    }

    private static Delivery sharedDelivery(Message message, Subscription s, String sharedFilter) {
        // Retain As Published has no meaning for shared subscriptions; RETAIN is 0 for live messages.
        return new Delivery(message, Math.min(message.qos(), s.qos()), false,
                s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()}, sharedFilter);
    }

    /** @param onlyAdoptedFrom when not null, only sessions adopted from that dead node get it */
    private int deliverDirect(TopicName topic, Message message, Acceptance acceptance, String onlyAdoptedFrom) {
        Matches matches = new Matches(message, acceptance, onlyAdoptedFrom);
        index.direct().matchTopic(topic.levels(), topic.isSystem(), matches::direct);
        return matches.deliver();
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
        private final List<SubscriptionIndex.Entry> direct = new ArrayList<>(4);

        Matches(Message message, Acceptance acceptance, String onlyAdoptedFrom) {
            this.message = message;
            this.acceptance = acceptance;
            this.onlyAdoptedFrom = onlyAdoptedFrom;
        }

        void direct(String clientId, SubscriptionIndex.Entry entry) {
            Subscription s = entry.subscription();
            if (onlyAdoptedFrom != null && !onlyAdoptedFrom.equals(entry.subscriber().adoptedFrom())) {
                return;
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
                        s.retainAsPublished() && message.retain(), ids(s), null), acceptance));
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
                subscribers.get(c.getKey()).deliver(accepting(new Delivery(message, qos, retain, ids, null), acceptance));
            }
        }

        private static int[] ids(Subscription s) {
            return s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()};
        }
    }
}
