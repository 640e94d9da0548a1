package io.starling.metrics;

/**
 * Why a message was not delivered: the {@code reason} label of {@code starling_messages_dropped_total}.
 * An enum, not a string, so that the counter is an array slot and not a map lookup on the
 * publish path, and so that every reason is exported (at 0) before it first happens, which
 * Prometheus' rate() and alerts need.
 */
public enum DropReason {
    /** A QoS 0 message for a session whose client is offline (not kept, spec 3.1.2.4). */
    OFFLINE_QOS0("offline_qos0"),
    /** The session's queue held mqtt.max-queued-messages already. */
    QUEUE_FULL("queue_full"),
    /** This node's session queues held mqtt.max-queued-bytes already (QoS 0; QoS 1/2 is refused instead). */
    MEMORY_LIMIT("memory_limit"),
    /** Its Message Expiry Interval ran out before it was sent [MQTT-3.3.2-5]. */
    EXPIRED("expired"),
    /** Larger than the client's Maximum Packet Size [MQTT-3.1.2-25]. */
    TOO_LARGE("too_large"),
    /** The session ended (expiry, clean start) with the message queued or in flight. */
    SESSION_ENDED("session_ended"),
    /** Routed to a session that no longer exists on this node. */
    NO_SESSION("no_session"),
    /** A client published to $SYS, or where the ACL file does not let it. */
    NOT_AUTHORIZED("not_authorized"),
    /** Its topic was longer or deeper than limits.max-topic-length / limits.max-topic-levels. */
    TOPIC_LIMIT("topic_limit"),
    /** A QoS 0 publish from a client that owed more than a second over its rate (limits.client-*-rate). */
    RATE_LIMIT("rate_limit"),
    /** The link to the node that should get a QoS 0 message was down. */
    LINK_UNAVAILABLE("link_unavailable"),
    /** A shared subscription's group had no member left to take the message. */
    NO_SHARED_MEMBER("no_shared_member");

    private final String tag;

    DropReason(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
