package io.starling.retain;

import io.starling.routing.Message;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.starling.topic.TopicTrie;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Retained messages in this process, indexed by the topic trie for wildcard lookups. */
public final class LocalRetainedStore implements RetainedStore {
    private final TopicTrie<String, Message> trie = new TopicTrie<>();

    @Override
    public void put(TopicName topic, Message message) {
        trie.put(topic.levels(), topic.value(), message);
    }

    @Override
    public void remove(TopicName topic) {
        trie.remove(topic.levels(), topic.value());
    }

    @Override
    public void match(TopicFilter filter, long nowMillis, Consumer<Message> out) {
        List<Message> expired = new ArrayList<>(0);
        trie.matchFilter(filter.levels(), (topic, message) -> {
            // Message Expiry applies to retained messages too (spec 3.3.2.3.3).
            if (message.isExpired(nowMillis)) {
                expired.add(message);
            } else {
                out.accept(message);
            }
        });
        for (Message m : expired) {
            // Only the expired message itself: a publisher may have replaced it meanwhile (the
            // check and the removal are one step under the trie's lock).
            removeIfSame(TopicName.of(m.topic()), m);
        }
    }

    /** Removes the topic's retained message if it is still {@code message} (the same object). */
    void removeIfSame(TopicName topic, Message message) {
        trie.remove(topic.levels(), topic.value(), message);
    }

    /** Every topic with a retained message (expired ones included until looked up). */
    public java.util.List<String> topics() {
        java.util.List<String> out = new java.util.ArrayList<>();
        trie.forEach((levels, topic, message) -> out.add(topic));
        return out;
    }

    @Override
    public int size() {
        return trie.size();
    }
}
