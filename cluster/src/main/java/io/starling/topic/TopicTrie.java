package io.starling.topic;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * A trie of topic levels holding, at each path, a map of entries {@code key -> value}. One class
 * serves three uses:
 * <ul>
 *   <li>subscriptions: paths are the levels of topic filters (with '+' and '#'), keys identify the
 *       subscriber; a PUBLISH is routed with {@link #matchTopic};</li>
 *   <li>cluster routes: the same, keys identify the node;</li>
 *   <li>retained messages: paths are the levels of topic names, a SUBSCRIBE looks them up with
 *       {@link #matchFilter}.</li>
 * </ul>
 * A trie holds either filter paths or topic-name paths, not both: in a filter trie the levels "+"
 * and "#" are wildcards, in a topic-name trie they never occur. A shared subscription is stored
 * under the levels of its {@link TopicFilter#filter()} part, the ShareName going into the key.
 *
 * <p>Levels may be empty strings ("a//b" has three levels, "/a" has "" and "a"), paths have at least
 * one level, and a "#" level must be the last. Keys and values must not be null.
 *
 * <p><b>Threads.</b> Reads ({@link #get}, {@link #matchTopic}, {@link #matchFilter},
 * {@link #forEach}, {@link #size}) take no lock and may run concurrently with each other and with
 * writes: children and entries live in {@link ConcurrentHashMap}s and the wildcard children in
 * volatile fields, so a reader sees each entry either before or after a concurrent write, never a
 * torn state, and an entry that is not being written to is always seen. A read is not a snapshot:
 * an entry added or removed while a match runs may or may not be visited. Writes ({@link #put},
 * the two {@code remove}s) are serialized by one internal lock; they are rare compared with
 * matches, which run for every PUBLISH. A visitor may call {@link #put} and {@link #remove} (it is
 * not called under the lock), e.g. to purge by key from {@link #forEach}.
 *
 * <p><b>Memory.</b> {@link #remove} prunes nodes left with no entry and no child, so a stream of
 * unique topic names does not leak nodes. Child maps and entry maps are created on first use.
 *
 * @param <K> the key of an entry at a path (client id, node id, ...)
 * @param <V> the value (subscription options, route, retained message, ...)
 */
public final class TopicTrie<K, V> {
    private static final String PLUS = "+";
    private static final String HASH = "#";

    private final Node<K, V> root = new Node<>(null, "");
    private final Object writeLock = new Object();
    /** Number of (path, key) entries; written under the lock only. */
    private volatile int size;

    /** Receives every entry, with its path; see {@link #forEach}. */
    @FunctionalInterface
    public interface EntryVisitor<K, V> {
        /**
         * @param levels the path of the entry, unmodifiable
         * @param key    the entry's key
         * @param value  the entry's value
         */
        void visit(List<String> levels, K key, V value);
    }

    /**
     * Stores value under the given path (a filter's levels or a topic name's levels) and key.
     *
     * @return the previous value for that path and key, or null
     * @throws IllegalArgumentException if {@code levels} is empty or has "#" before its last level
     */
    public V put(List<String> levels, K key, V value) {
        checkPath(levels);
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        synchronized (writeLock) {
            Node<K, V> node = root;
            for (int i = 0, n = levels.size(); i < n; i++) {
                node = node.childOrCreate(levels.get(i));
            }
            ConcurrentHashMap<K, V> entries = node.entries;
            if (entries == null) {
                entries = new ConcurrentHashMap<>(2);
                node.entries = entries;
            }
            V previous = entries.put(key, value);
            if (previous == null) {
                size++;
            }
            return previous;
        }
    }

    /** The value stored under exactly this path and key, or null. No wildcard matching. */
    public V get(List<String> levels, K key) {
        Objects.requireNonNull(key, "key");
        Node<K, V> node = find(levels);
        if (node == null) {
            return null;
        }
        Map<K, V> entries = node.entries;
        return entries == null ? null : entries.get(key);
    }

    /**
     * Removes the entry under exactly this path and key, pruning nodes left empty.
     *
     * @return the removed value, or null if there was none
     */
    public V remove(List<String> levels, K key) {
        Objects.requireNonNull(key, "key");
        synchronized (writeLock) {
            Node<K, V> node = find(levels);
            if (node == null) {
                return null;
            }
            ConcurrentHashMap<K, V> entries = node.entries;
            if (entries == null) {
                return null;
            }
            V removed = entries.remove(key);
            if (removed == null) {
                return null;
            }
            size--;
            if (entries.isEmpty()) {
                node.entries = null;
            }
            prune(node);
            return removed;
        }
    }

    /**
     * Removes the entry under exactly this path and key only while it is still {@code expected}
     * (the same object): a caller that found a stale value (an expired retained message) removes
     * it without taking away a value that another thread put there meanwhile.
     *
     * @return whether the entry was removed
     */
    public boolean remove(List<String> levels, K key, V expected) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(expected, "expected");
        synchronized (writeLock) {
            Node<K, V> node = find(levels);
            ConcurrentHashMap<K, V> entries = node == null ? null : node.entries;
            if (entries == null || entries.get(key) != expected) {
                return false;
            }
            return remove(levels, key) != null;
        }
    }

    /**
     * Visits every entry stored at a filter path that matches the concrete topic name: literal
     * levels equal, "+" matches any one level (including an empty one), "#" matches the rest
     * including nothing ("sport/#" matches "sport") [MQTT 4.7.1]. If {@code topicIsSystem}, paths
     * whose first level is "+" or "#" are skipped [MQTT-4.7.2-1].
     *
     * <p>The publish hot path. It allocates one small stack per call (grown only when more than 8
     * '+' branches are pending at once) and, per node holding entries, the iterator that
     * {@link ConcurrentHashMap#forEach(BiConsumer)} creates; nothing per node visited otherwise,
     * and no recursion, so a topic of 65,536 levels is no danger to the thread's stack. An entry
     * matched through several paths (overlapping subscriptions) is visited once per path; the
     * caller combines them (MQTT 5 section 3.3.4, overlapping subscriptions).
     *
     * <p>Pass a random-access list, such as {@link TopicName#levels()}.
     *
     * @param topicLevels   the levels of a {@link TopicName}
     * @param topicIsSystem {@link TopicName#isSystem()}: the first level starts with '$'
     * @param visitor       receives (key, value) of each matching entry
     */
    public void matchTopic(List<String> topicLevels, boolean topicIsSystem, BiConsumer<? super K, ? super V> visitor) {
        int depth = topicLevels.size();
        if (depth == 0) {
            throw new IllegalArgumentException("a topic name has at least one level [MQTT-4.7.3-1]");
        }
        // Depth-first without recursion (a topic may have 65,536 levels): literal children are
        // followed in place, '+' children are pushed to be taken up later.
        @SuppressWarnings("unchecked")
        Node<K, V>[] nodes = (Node<K, V>[]) new Node<?, ?>[8];
        int[] depths = new int[8];
        int top = 0;
        nodes[top] = root;
        depths[top++] = 0;
        while (top > 0) {
            top--;
            Node<K, V> node = nodes[top];
            nodes[top] = null;
            int d = depths[top];
            while (node != null) {
                // [MQTT-4.7.2-1] No wildcard at the first level for topics starting with '$'.
                boolean wildcardsAllowed = d > 0 || !topicIsSystem;
                if (wildcardsAllowed) {
                    Node<K, V> hash = node.hash;
                    if (hash != null) {
                        // '#' matches the remaining levels, and the parent level when none remain.
                        visitEntries(hash, visitor);
                    }
                }
                if (d == depth) {
                    visitEntries(node, visitor);
                    break;
                }
                if (wildcardsAllowed) {
                    Node<K, V> plus = node.plus;
                    if (plus != null) {
                        if (top == nodes.length) {
                            nodes = Arrays.copyOf(nodes, top * 2);
                            depths = Arrays.copyOf(depths, top * 2);
                        }
                        nodes[top] = plus;
                        depths[top++] = d + 1;
                    }
                }
                Map<String, Node<K, V>> children = node.children;
                node = children == null ? null : children.get(topicLevels.get(d));
                d++;
            }
        }
    }

    /**
     * Visits every entry stored at a topic-name path that the filter matches (the retained
     * messages for a new subscription): "+" matches any one level, "#" the rest including nothing.
     * A path whose first level starts with '$' is not matched by a filter whose first level is
     * "+" or "#" [MQTT-4.7.2-1]. Stored levels "+" and "#" (which a topic-name trie does not have)
     * are not visited.
     *
     * @param filterLevels the levels of a {@link TopicFilter#filter()}
     * @param visitor      receives (key, value) of each matching entry
     */
    public void matchFilter(List<String> filterLevels, BiConsumer<? super K, ? super V> visitor) {
        checkPath(filterLevels);
        int last = filterLevels.size();
        ArrayDeque<Step<K, V>> stack = new ArrayDeque<>();
        stack.push(new Step<>(root, 0));
        while (!stack.isEmpty()) {
            Step<K, V> step = stack.pop();
            Node<K, V> node = step.node;
            int d = step.depth;
            if (d == last) {
                visitEntries(node, visitor);
                continue;
            }
            String level = filterLevels.get(d);
            Map<String, Node<K, V>> children = node.children;
            if (level.equals(HASH)) {
                // [MQTT 4.7.1.2] '#' matches the parent level ("sport/#" matches "sport") and all below.
                visitEntries(node, visitor);
                if (children != null) {
                    for (Node<K, V> child : children.values()) {
                        if (d > 0 || !isSystemLevel(child.level)) { // [MQTT-4.7.2-1]
                            visitSubtree(child, visitor);
                        }
                    }
                }
            } else if (level.equals(PLUS)) {
                if (children != null) {
                    for (Node<K, V> child : children.values()) {
                        if (d > 0 || !isSystemLevel(child.level)) { // [MQTT-4.7.2-1]
                            stack.push(new Step<>(child, d + 1));
                        }
                    }
                }
            } else if (children != null) {
                Node<K, V> child = children.get(level);
                if (child != null) {
                    stack.push(new Step<>(child, d + 1));
                }
            }
        }
    }

    /** A node still to look at in {@link #matchFilter}, with the index of the filter level it faces. */
    private record Step<K, V>(Node<K, V> node, int depth) {
    }

    /**
     * Visits every entry with its path, in no particular order; for diagnostics and for purging by
     * key (the visitor may call {@link #remove}). Allocates the path of every node with entries.
     */
    public void forEach(EntryVisitor<? super K, ? super V> visitor) {
        List<Node<K, V>> stack = new ArrayList<>();
        stack.add(root);
        while (!stack.isEmpty()) {
            Node<K, V> node = stack.remove(stack.size() - 1);
            Map<K, V> entries = node.entries;
            if (entries != null && !entries.isEmpty()) {
                List<String> path = node.path();
                entries.forEach((k, v) -> visitor.visit(path, k, v));
            }
            node.pushChildren(stack);
        }
    }

    /** The number of (path, key) entries; O(1). */
    public int size() {
        return size;
    }

    /** Whether there is no entry. */
    public boolean isEmpty() {
        return size == 0;
    }

    /** The number of nodes below the root; 0 when empty if pruning works. For tests. */
    int nodeCount() {
        int count = -1;
        List<Node<K, V>> stack = new ArrayList<>();
        stack.add(root);
        while (!stack.isEmpty()) {
            Node<K, V> node = stack.remove(stack.size() - 1);
            count++;
            node.pushChildren(stack);
        }
        return count;
    }

    @Override
    public String toString() {
        return "TopicTrie[size=" + size + "]";
    }

    private Node<K, V> find(List<String> levels) {
        if (levels.isEmpty()) {
            return null;
        }
        Node<K, V> node = root;
        for (int i = 0, n = levels.size(); i < n && node != null; i++) {
            node = node.child(levels.get(i));
        }
        return node;
    }

    /** Under the lock: unlinks the node and its ancestors while they hold nothing. */
    private void prune(Node<K, V> node) {
        while (node != root && node.isEmpty()) {
            Node<K, V> parent = node.parent;
            parent.unlink(node);
            node = parent;
        }
    }

    private static void checkPath(List<String> levels) {
        int n = levels.size();
        if (n == 0) {
            throw new IllegalArgumentException("a path has at least one level [MQTT-4.7.3-1]");
        }
        for (int i = 0; i < n - 1; i++) {
            if (levels.get(i).equals(HASH)) {
                throw new IllegalArgumentException("'#' must be the last level [MQTT-4.7.1-1]: " + levels);
            }
        }
    }

    private static boolean isSystemLevel(String level) {
        return !level.isEmpty() && level.charAt(0) == '$';
    }

    private static <K, V> void visitEntries(Node<K, V> node, BiConsumer<? super K, ? super V> visitor) {
        ConcurrentHashMap<K, V> entries = node.entries;
        if (entries != null) {
            entries.forEach(visitor);
        }
    }

    private static <K, V> void visitSubtree(Node<K, V> start, BiConsumer<? super K, ? super V> visitor) {
        List<Node<K, V>> stack = new ArrayList<>();
        stack.add(start);
        while (!stack.isEmpty()) {
            Node<K, V> node = stack.remove(stack.size() - 1);
            visitEntries(node, visitor);
            Map<String, Node<K, V>> children = node.children;
            if (children != null) {
                stack.addAll(children.values());
            }
        }
    }

    /**
     * One level. Literal children are in {@code children}; the wildcard children "+" and "#" are in
     * their own fields so that matching a topic needs no lookup for them. Fields are written under
     * the trie's lock only and read without it.
     */
    private static final class Node<K, V> {
        final Node<K, V> parent;
        final String level;
        volatile ConcurrentHashMap<String, Node<K, V>> children;
        volatile Node<K, V> plus;
        volatile Node<K, V> hash;
        volatile ConcurrentHashMap<K, V> entries;

        Node(Node<K, V> parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        Node<K, V> child(String name) {
            if (name.equals(PLUS)) {
                return plus;
            }
            if (name.equals(HASH)) {
                return hash;
            }
            Map<String, Node<K, V>> map = children;
            return map == null ? null : map.get(name);
        }

        /** Under the lock. */
        Node<K, V> childOrCreate(String name) {
            Node<K, V> child = child(name);
            if (child != null) {
                return child;
            }
            child = new Node<>(this, name);
            if (name.equals(PLUS)) {
                plus = child;
            } else if (name.equals(HASH)) {
                hash = child;
            } else {
                ConcurrentHashMap<String, Node<K, V>> map = children;
                if (map == null) {
                    map = new ConcurrentHashMap<>(2);
                    children = map;
                }
                map.put(name, child);
            }
            return child;
        }

        /** Under the lock. */
        void unlink(Node<K, V> child) {
            if (child.level.equals(PLUS)) {
                plus = null;
            } else if (child.level.equals(HASH)) {
                hash = null;
            } else {
                ConcurrentHashMap<String, Node<K, V>> map = children;
                if (map != null) {
                    map.remove(child.level, child);
                    if (map.isEmpty()) {
                        children = null;
                    }
                }
            }
        }

        boolean isEmpty() {
            Map<K, V> e = entries;
            Map<String, Node<K, V>> c = children;
            return (e == null || e.isEmpty()) && (c == null || c.isEmpty()) && plus == null && hash == null;
        }

        void pushChildren(List<Node<K, V>> stack) {
            Map<String, Node<K, V>> c = children;
            if (c != null) {
                stack.addAll(c.values());
            }
            Node<K, V> p = plus;
            if (p != null) {
                stack.add(p);
            }
            Node<K, V> h = hash;
            if (h != null) {
                stack.add(h);
            }
        }

        List<String> path() {
            ArrayList<String> levels = new ArrayList<>();
            for (Node<K, V> n = this; n.parent != null; n = n.parent) {
                levels.add(n.level);
            }
            Collections.reverse(levels);
            return Collections.unmodifiableList(levels);
        }
    }
}
