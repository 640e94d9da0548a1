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
 * @param via             how it reached the session: {@link #ROUTED} by this node's routes, or by
 *                        the path that fills a session in after it moved ({@link #RELAYED} by its
 *                        old owner, {@link #REPUBLISHED} for a node that died), which a moved
 *                        session takes before what its new routes bring (spec 4.6, issue 9);
 *                        {@link #ROUTED_AGAIN} by this node's routes for a QoS 2 message they routed
 *                        before, to a session that came here since and may hold it already
 */
public record Delivery(Message message, int qos, boolean retain, int[] subscriptionIds, String sharedFilter,
                       long seq, Acceptance acceptance, int via) {
    public static final int[] NO_IDS = new int[0];
    public static final int ROUTED = 0;
    public static final int RELAYED = 1;
    public static final int REPUBLISHED = 2;
    public static final int ROUTED_AGAIN = 3;

    public Delivery(Message message, int qos, boolean retain, int[] subscriptionIds, String sharedFilter) {
        this(message, qos, retain, subscriptionIds, sharedFilter, 0, null, ROUTED);
    }

    public Delivery withSeq(long s) {
        return new Delivery(message, qos, retain, subscriptionIds, sharedFilter, s, acceptance, via);
    }

    public Delivery withAcceptance(Acceptance a) {
        return new Delivery(message, qos, retain, subscriptionIds, sharedFilter, seq, a, via);
    }

    public Delivery withVia(int how) {
        return new Delivery(message, qos, retain, subscriptionIds, sharedFilter, seq, acceptance, how);
    }

    /** The session has it as safely as it will (stored, or not to be stored): the acknowledgement may go. */
    public void accepted() {
        if (acceptance != null) {
            acceptance.done();
        }
    }

    /** The session could not take it: the publisher hears why instead of a success. */
    public void refused(PublishRefused why) {
        if (acceptance != null) {
            acceptance.refuse(why);
        }
    }
}
