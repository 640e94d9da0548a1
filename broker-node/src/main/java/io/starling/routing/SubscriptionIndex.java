package io.starling.routing;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicTrie;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This node's subscriptions: which local sessions want which filters. Matching is lock-free and
 * runs on every publisher's event loop; changes are serialized by the tries.
 */
final class SubscriptionIndex {

    /** A subscription with the subscriber it delivers to. */
    record Entry(Subscriber subscriber, Subscription subscription) {
    }

    /**
     * The members of one shared subscription {@code $share/group/filter} (spec 4.8.2). Each message
     * goes to one member, round robin, online members first.
     */
    static final class SharedGroup {
        final String sharedFilter;
        final CopyOnWriteArrayList<Entry> members = new CopyOnWriteArrayList<>();
        private final AtomicInteger next = new AtomicInteger();

        SharedGroup(String sharedFilter) {
            this.sharedFilter = sharedFilter;
        }

        /** Picks a member, skipping {@code exclude}; online members win over offline ones. */
        Entry pick(String exclude) {
            List<Entry> snapshot = members;
            int n = snapshot.size();
            if (n == 0) {
                return null;
            }
            int start = Math.floorMod(next.getAndIncrement(), n);
            Entry offline = null;
            for (int i = 0; i < n; i++) {
                Entry e = snapshot.get((start + i) % n);
                if (e.subscriber().clientId().equals(exclude)) {
                    continue;
                }
                if (e.subscriber().isOnline()) {
                    return e;
                }
                if (offline == null) {
                    offline = e;
                }
            }
            return offline;
        }
    }

    private final TopicTrie<String, Entry> direct = new TopicTrie<>();
    private final TopicTrie<String, SharedGroup> shared = new TopicTrie<>();
    private final Object sharedLock = new Object();
    private int sharedMembers; // guarded by sharedLock

    /** @return true when this client already had a subscription to exactly this filter. */
    boolean add(Subscriber subscriber, Subscription sub) {
        TopicFilter f = sub.filter();
        Entry entry = new Entry(subscriber, sub);
        if (!f.isShared()) {
            return direct.put(f.levels(), sub.clientId(), entry) != null;
        }
        synchronized (sharedLock) {
            SharedGroup group = shared.get(f.levels(), f.shareGroup());
            if (group == null) {
                group = new SharedGroup(f.value());
                shared.put(f.levels(), f.shareGroup(), group);
            }
            for (int i = 0; i < group.members.size(); i++) {
                if (group.members.get(i).subscriber().clientId().equals(sub.clientId())) {
                    group.members.set(i, entry);
                    return true;
                }
            }
            group.members.add(entry);
            sharedMembers++;
            return false;
        }
    }

    /** @return true when the subscription existed. */
    boolean remove(String clientId, TopicFilter f) {
        return remove(clientId, f, null);
    }

    /** Removes the subscription only if it delivers to {@code owner} (any subscriber when null). */
    boolean remove(String clientId, TopicFilter f, Subscriber owner) {
        if (!f.isShared()) {
            if (owner != null) {
                Entry e = direct.get(f.levels(), clientId);
                if (e == null || e.subscriber() != owner) {
                    return false;
                }
            }
            return direct.remove(f.levels(), clientId) != null;
        }
        synchronized (sharedLock) {
            SharedGroup group = shared.get(f.levels(), f.shareGroup());
            if (group == null) {
                return false;
            }
            boolean removed = group.members.removeIf(e -> e.subscriber().clientId().equals(clientId)
                    && (owner == null || e.subscriber() == owner));
            if (removed) {
                sharedMembers--;
            }
            if (group.members.isEmpty()) {
                shared.remove(f.levels(), f.shareGroup());
            }
            return removed;
        }
    }

    SharedGroup sharedGroup(TopicFilter f) {
        return shared.get(f.levels(), f.shareGroup());
    }

    TopicTrie<String, Entry> direct() {
        return direct;
    }

    TopicTrie<String, SharedGroup> shared() {
        return shared;
    }

    int size() {
        synchronized (sharedLock) {
            return direct.size() + sharedMembers;
        }
    }
}
