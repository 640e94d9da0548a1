package io.starling.bench;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.starling.topic.TopicTrie;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Subscriptions laid out in {@link TopicTrie}s the way the broker's (package-private)
 * SubscriptionIndex lays them out: plain filters keyed by client id, shared subscriptions under
 * their filter part keyed by ShareName with the members in the value. So a lookup here costs what
 * the index's lookup costs, without the Router's delivery work (that is {@link FanoutBenchmark}).
 *
 * <p>Not thread-safe: the counting visitors are reused so that a lookup allocates only what the
 * trie itself allocates. One instance per benchmark thread.
 */
final class SubscriptionTries {
    /** The members of one shared subscription; one of them gets each message, round robin. */
    static final class Group {
        final List<String> members = new ArrayList<>(2);
        private int next;

        String pick() {
            return members.get(Math.floorMod(next++, members.size()));
        }
    }

    private final TopicTrie<String, TopicFilter> direct = new TopicTrie<>();
    private final TopicTrie<String, Group> shared = new TopicTrie<>();
    private final DirectCounter directCounter = new DirectCounter();
    private final SharedCounter sharedCounter = new SharedCounter();

    SubscriptionTries(List<Workload.Sub> subs) {
        for (Workload.Sub s : subs) {
            TopicFilter f = s.filter();
            if (!f.isShared()) {
                direct.put(f.levels(), s.clientId(), f);
                continue;
            }
            Group g = shared.get(f.levels(), f.shareGroup());
            if (g == null) {
                g = new Group();
                shared.put(f.levels(), f.shareGroup(), g);
            }
            g.members.add(s.clientId());
        }
    }

    /** How many clients get a message on this topic: every plain match, one member per shared match. */
    int match(TopicName topic) {
        directCounter.count = 0;
        sharedCounter.count = 0;
        direct.matchTopic(topic.levels(), topic.isSystem(), directCounter);
        if (!shared.isEmpty()) {
            shared.matchTopic(topic.levels(), topic.isSystem(), sharedCounter);
        }
        return directCounter.count + sharedCounter.count;
    }

    /** (path, key) entries in both tries: plain subscriptions plus shared groups. */
    int entries() {
        return direct.size() + shared.size();
    }

    private static final class DirectCounter implements BiConsumer<String, TopicFilter> {
        int count;

        @Override
        public void accept(String clientId, TopicFilter filter) {
            count++;
        }
    }

    /** Picks the member as the broker would, so that the lookup is not cheaper than the real one. */
    private static final class SharedCounter implements BiConsumer<String, Group> {
        int count;

        @Override
        public void accept(String shareName, Group group) {
            if (group.pick() != null) {
                count++;
            }
        }
    }
}
