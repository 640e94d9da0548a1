package io.starling.retain;

import io.starling.routing.Message;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.function.Consumer;

/**
 * Retained messages, one per topic (spec 3.3.1.3). Implementations are safe to call from any
 * event loop. The single-node store is in memory; the clustered one shares them between nodes.
 */
public interface RetainedStore {
    void put(TopicName topic, Message message);

    void remove(TopicName topic);

    /** Every unexpired retained message whose topic the filter matches. */
    void match(TopicFilter filter, long nowMillis, Consumer<Message> out);

    int size();
}
