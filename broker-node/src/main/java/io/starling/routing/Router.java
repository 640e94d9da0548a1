package io.starling.routing;

import io.starling.retain.RetainedStore;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Matches a published message against the subscriptions and hands one delivery to each matching
 * session. Runs on the publisher's event loop; deliveries hop to each subscriber's own context
 * through its mailbox, which keeps per-publisher order (spec 4.6).
 */
public final class Router {
    private final SubscriptionIndex index = new SubscriptionIndex();
    private final RetainedStore retained;

    public Router(RetainedStore retained) {
        this.retained = retained;
    }

    public RetainedStore retained() {
        return retained;
    }

    /**
     * Routes a message: updates the retained store when RETAIN is set, then delivers it.
     *
     * @return how many subscriptions it reached (5.0 PUBACK says 0x10 when none)
     */
    public int publish(TopicName topic, Message message) {
        if (message.retain()) {
            // [MQTT-3.3.1-5] store it; [MQTT-3.3.1-6] an empty payload removes it [MQTT-3.3.1-7].
            if (message.payload().length == 0) {
                retained.remove(topic);
            } else {
                retained.put(topic, message);
            }
        }
        Matches matches = new Matches(message);
        index.direct().matchTopic(topic.levels(), topic.isSystem(), matches::direct);
        index.shared().matchTopic(topic.levels(), topic.isSystem(), matches::shared);
        return matches.deliver();
    }

    /** @return true when the client already had this filter (Retain Handling 1, [MQTT-3.3.1-10]). */
    public boolean subscribe(Subscriber subscriber, Subscription subscription) {
        return index.add(subscriber, subscription);
    }

    /** @return true when the subscription existed (UNSUBACK 0x00 rather than 0x11). */
    public boolean unsubscribe(String clientId, TopicFilter filter) {
        return index.remove(clientId, filter);
    }

    /**
     * Gives a shared-subscription delivery that its member could not complete to another member
     * of the same group (spec 4.8.2). If no other member exists it goes back to {@code fallback}.
     *
     * @return false when it reached nobody
     */
    public boolean redeliverShared(Delivery delivery, String fromClientId, Subscriber fallback) {
        TopicFilter filter = TopicFilter.of(delivery.sharedFilter());
        SubscriptionIndex.SharedGroup group = index.sharedGroup(filter);
        SubscriptionIndex.Entry member = group == null ? null : group.pick(fromClientId);
        if (member == null) {
            if (fallback != null) {
                fallback.deliver(delivery);
            }
            return fallback != null;
        }
        Subscription s = member.subscription();
        member.subscriber().deliver(new Delivery(delivery.message(), Math.min(delivery.message().qos(), s.qos()),
                false, s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()},
                delivery.sharedFilter()));
        return true;
    }

    public int subscriptionCount() {
        return index.size();
    }

    /** The matches of one publish, merged so a client with overlapping subscriptions gets one copy. */
    private static final class Matches {
        private final Message message;
        private final List<SubscriptionIndex.Entry> direct = new ArrayList<>(4);
        private final List<SubscriptionIndex.Entry> shared = new ArrayList<>(0);
        private final List<String> sharedFilters = new ArrayList<>(0);

        Matches(Message message) {
            this.message = message;
        }

        void direct(String clientId, SubscriptionIndex.Entry entry) {
            Subscription s = entry.subscription();
            // [MQTT-3.8.3-3] No Local: not to the publisher's own subscription.
            if (s.noLocal() && clientId.equals(message.publisherId())) {
                return;
            }
            direct.add(entry);
        }

        void shared(String group, SubscriptionIndex.SharedGroup members) {
            SubscriptionIndex.Entry member = members.pick(null);
            if (member != null) {
                shared.add(member);
                sharedFilters.add(members.sharedFilter);
            }
        }

        int deliver() {
            if (direct.size() == 1) {
                SubscriptionIndex.Entry e = direct.get(0);
                Subscription s = e.subscription();
                e.subscriber().deliver(new Delivery(message, Math.min(message.qos(), s.qos()),
                        s.retainAsPublished() && message.retain(), ids(s), null));
            } else if (direct.size() > 1) {
                deliverMerged();
            }
            for (int i = 0; i < shared.size(); i++) {
                Subscription s = shared.get(i).subscription();
                // Retain As Published has no meaning for shared subscriptions; RETAIN is 0 for live messages.
                shared.get(i).subscriber().deliver(new Delivery(message, Math.min(message.qos(), s.qos()), false,
                        ids(s), sharedFilters.get(i)));
            }
            return direct.size() + shared.size();
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
                subscribers.get(c.getKey()).deliver(new Delivery(message, qos, retain, ids, null));
            }
        }

        private static int[] ids(Subscription s) {
            return s.subscriptionId() == 0 ? Delivery.NO_IDS : new int[] {s.subscriptionId()};
        }
    }
}
