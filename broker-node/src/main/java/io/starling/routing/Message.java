package io.starling.routing;

import io.starling.protocol.Properties;

/**
 * An application message as the broker routes it: immutable and shared by every subscriber it
 * reaches, so a publish to many subscribers copies nothing. {@code properties} holds only what is
 * forwarded unchanged (Payload Format Indicator, Content Type, Response Topic, Correlation Data,
 * User Properties, spec 3.3.2.3) and is never mutated after construction.
 *
 * @param expiresAtMillis wall-clock time at which the Message Expiry Interval runs out, or 0
 * @param publisherId     the client identifier of the publisher, for No Local [MQTT-3.8.3-3]
 * @param receivedNanos   {@link System#nanoTime()} when this node accepted it: from its client, or
 *                        on arrival from another node (nanoTime means nothing across processes, so a
 *                        forwarded or moved message starts its clock again here); 0 when unknown
 */
public record Message(String topic, byte[] payload, int qos, boolean retain, Properties properties,
                      long expiresAtMillis, String publisherId, long receivedNanos, long id) {
    /** Random per process in the high bits, a counter below: ids are unique across the cluster in practice. */
    private static final long ID_BASE = new java.security.SecureRandom().nextLong() & 0xFFFF_FFFF_0000_0000L;
    private static final java.util.concurrent.atomic.AtomicLong ID_COUNTER = new java.util.concurrent.atomic.AtomicLong();

    /** A new message, with a new id. */
    public Message(String topic, byte[] payload, int qos, boolean retain, Properties properties,
                   long expiresAtMillis, String publisherId, long receivedNanos) {
        this(topic, payload, qos, retain, properties, expiresAtMillis, publisherId, receivedNanos,
                ID_BASE ^ ID_COUNTER.incrementAndGet());
    }

    public boolean isExpired(long nowMillis) {
        return expiresAtMillis != 0 && nowMillis >= expiresAtMillis;
    }

    /** Seconds left of the Message Expiry Interval, rounded up, or null when it never expires. */
    public Long remainingExpirySeconds(long nowMillis) {
        if (expiresAtMillis == 0) {
            return null;
        }
        return Math.max(0, (expiresAtMillis - nowMillis + 999) / 1000);
    }

    /** Copies the properties that a PUBLISH forwards unchanged [MQTT-3.3.2-4], [MQTT-3.3.2-17..20]. */
    public static Properties forwardedProperties(Properties in) {
        if (in == null || in == Properties.EMPTY) {
            return Properties.EMPTY;
        }
        Properties p = new Properties();
        p.payloadFormatIndicator = in.payloadFormatIndicator;
        p.contentType = in.contentType;
        p.responseTopic = in.responseTopic;
        p.correlationData = in.correlationData;
        p.userProperties = in.userProperties == null ? null : java.util.List.copyOf(in.userProperties);
        return p;
    }

    /**
     * This message without the time it was accepted ({@code receivedNanos} 0), for a replay of a
     * retained message: the delivery latency histogram leaves it out.
     */
    public Message withoutAcceptTime() {
        return receivedNanos == 0 ? this
                : new Message(topic, payload, qos, retain, properties, expiresAtMillis, publisherId, 0, id);
    }

    public Message withRetain(boolean retainFlag) {
        return retainFlag == retain ? this
                : new Message(topic, payload, qos, retainFlag, properties, expiresAtMillis, publisherId, receivedNanos, id);
    }
}
