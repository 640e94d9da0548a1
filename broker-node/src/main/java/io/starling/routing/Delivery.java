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
 * @param seq             the session's sequence number once the message is kept in the replicated
 *                        session store, 0 before
 * @param acceptance      what the publisher's acknowledgement waits for, or null when nothing waits
 */
public record Delivery(Message message, int qos, boolean retain, int[] subscriptionIds, String sharedFilter,
                       long seq, Acceptance acceptance) {
    public static final int[] NO_IDS = new int[0];

    public Delivery(Message message, int qos, boolean retain, int[] subscriptionIds, String sharedFilter) {
        this(message, qos, retain, subscriptionIds, sharedFilter, 0, null);
    }

    public Delivery withSeq(long s) {
        return new Delivery(message, qos, retain, subscriptionIds, sharedFilter, s, acceptance);
    }

    public Delivery withAcceptance(Acceptance a) {
        return new Delivery(message, qos, retain, subscriptionIds, sharedFilter, seq, a);
    }

    /** The session has it as safely as it will (stored, or not to be stored): the acknowledgement may go. */
    public void accepted() {
        if (acceptance != null) {
            acceptance.done();
        }
    }
}
