package io.starling.cluster.routes;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.starling.topic.TopicTrie;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which nodes have subscribers for which topic filters: the cluster half of two-level routing
 * (the node half is each node's own subscription index). A publish is matched here to find the
 * nodes to forward it to, once each.
 *
 * <p>Plain filters are held for the other nodes only: this node's own subscribers are found in its
 * subscription index, so a single node pays nothing here. Shared subscriptions are held for every
 * node including this one, because picking the one member of a group that gets a message is a
 * cluster-wide choice (spec 4.8.2).
 *
 * <p>Matching takes no lock and may run on every event loop while routes change.
 */
public final class RouteTable {
    private final String localNode;
    private final TopicTrie<String, Boolean> direct = new TopicTrie<>();
    private final TopicTrie<String, SharedRoute> shared = new TopicTrie<>();
    private final Object sharedLock = new Object();

    /** The nodes that have members of one shared subscription {@code $share/group/filter}. */
    public static final class SharedRoute {
        private final String sharedFilter;
        private final CopyOnWriteArrayList<String> nodes = new CopyOnWriteArrayList<>();
        private final AtomicInteger next = new AtomicInteger();

        SharedRoute(String sharedFilter) {
            this.sharedFilter = sharedFilter;
        }

        public String sharedFilter() {
            return sharedFilter;
        }

        /** Round robin over the nodes with members, skipping {@code exclude} (may be null); null if none. */
        public String pick(String exclude) {
            // A real snapshot: the list may shrink between reading its size and an element while a
            // node's routes are removed on another thread.
            Object[] snapshot = nodes.toArray();
            int n = snapshot.length;
            if (n == 0) {
                return null;
            }
            int start = Math.floorMod(next.getAndIncrement(), n);
            for (int i = 0; i < n; i++) {
                String node = (String) snapshot[(start + i) % n];
                if (!node.equals(exclude)) {
                    return node;
                }
            }
            return null;
        }

        public List<String> nodes() {
            return List.copyOf(nodes);
        }
    }

    /** Receives the matches of one topic. */
    public interface Visitor {
        /** A node with a plain subscription matching the topic; a node may be reported more than once. */
        void node(String node);

        /** A shared subscription matching the topic; each is reported once. */
        void shared(SharedRoute route);
    }

    public RouteTable(String localNode) {
        this.localNode = localNode;
    }

    public String localNode() {
        return localNode;
    }

    /** Records that {@code node} has subscribers for {@code filter}; idempotent. */
    public void add(String node, TopicFilter filter) {
        if (!filter.isShared()) {
            if (!node.equals(localNode)) {
                direct.put(filter.levels(), node, Boolean.TRUE);
            }
            return;
        }
        synchronized (sharedLock) {
            SharedRoute route = shared.get(filter.levels(), filter.shareGroup());
            if (route == null) {
                route = new SharedRoute(filter.value());
                shared.put(filter.levels(), filter.shareGroup(), route);
            }
            if (!route.nodes.contains(node)) {
                route.nodes.add(node);
            }
        }
    }

    /** Records that {@code node} no longer has subscribers for {@code filter}; idempotent. */
    public void remove(String node, TopicFilter filter) {
        if (!filter.isShared()) {
            direct.remove(filter.levels(), node);
            return;
        }
        synchronized (sharedLock) {
            SharedRoute route = shared.get(filter.levels(), filter.shareGroup());
            if (route != null) {
                route.nodes.remove(node);
                if (route.nodes.isEmpty()) {
                    shared.remove(filter.levels(), filter.shareGroup());
                }
            }
        }
    }

    /**
     * Makes the routes of {@code node} exactly {@code filters}: adds first, then removes what is no
     * longer there, so a match running meanwhile never misses a route that stays.
     */
    public void replace(String node, Collection<TopicFilter> filters) {
        for (TopicFilter f : filters) {
            add(node, f);
        }
        Set<String> keep = new HashSet<>();
        for (TopicFilter f : filters) {
            keep.add(f.value());
        }
        for (TopicFilter f : filtersOf(node)) {
            if (!keep.contains(f.value())) {
                remove(node, f);
            }
        }
    }

    /** Forgets every route of a node that left the cluster. */
    public void purge(String node) {
        for (TopicFilter f : filtersOf(node)) {
            remove(node, f);
        }
    }

    /** The filters recorded for one node (plain filters only for other nodes). */
    public List<TopicFilter> filtersOf(String node) {
        List<TopicFilter> out = new ArrayList<>();
        direct.forEach((levels, key, v) -> {
            if (key.equals(node)) {
                out.add(TopicFilter.of(String.join("/", levels)));
            }
        });
        shared.forEach((levels, group, route) -> {
            if (route.nodes.contains(node)) {
                out.add(TopicFilter.of(route.sharedFilter));
            }
        });
        return out;
    }

    /** Visits the routes matching a topic; [MQTT-4.7.2-1] leading wildcards do not match $ topics. */
    public void match(TopicName topic, Visitor visitor) {
        if (!direct.isEmpty()) {
            direct.matchTopic(topic.levels(), topic.isSystem(), (node, v) -> visitor.node(node));
        }
        if (!shared.isEmpty()) {
            shared.matchTopic(topic.levels(), topic.isSystem(), (group, route) -> visitor.shared(route));
        }
    }

    public boolean hasRemoteRoutes() {
        return !direct.isEmpty() || !shared.isEmpty();
    }

    public SharedRoute sharedRoute(TopicFilter filter) {
        return shared.get(filter.levels(), filter.shareGroup());
    }

    /** Number of (node, filter) routes. */
    public int size() {
        int n = direct.size();
        int[] s = {0};
        shared.forEach((levels, group, route) -> s[0] += route.nodes.size());
        return n + s[0];
    }
}
