package io.starling.routing;

/**
 * One message on its way to one session: the message with what this subscriber's subscriptions
 * made of it.
 *
 * @param qos             the minimum of the published QoS and the subscription's maximum [MQTT-3.8.4-8]
 * @param retain          the RETAIN flag to send (Retain As Published, [MQTT-3.3.1-12], [MQTT-3.3.1-13])
 * @param subscriptionIds every matching Subscription Identifier, empty when none (spec 3.3.4)
 * @param sharedFilter    the full {@code $share/...} filter this came through, or null; a shared
 *                        delivery that its member cannot complete goes back to the group
 */
public record Delivery(Message message, int qos, boolean retain, int[] subscriptionIds, String sharedFilter) {
    public static final int[] NO_IDS = new int[0];
}
