package io.starling.routing;

import io.starling.topic.TopicFilter;

/**
 * One session's subscription to one filter, with its options (spec 3.8.3.1).
 *
 * @param subscriptionId the Subscription Identifier, 0 when none (spec 3.8.2.1.2)
 */
public record Subscription(String clientId, TopicFilter filter, int qos, boolean noLocal,
                           boolean retainAsPublished, int retainHandling, int subscriptionId) {
}
