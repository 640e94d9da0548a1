package io.starling.session;

import io.starling.metrics.BrokerMetrics;
import io.starling.metrics.DropReason;
import io.starling.protocol.Ack;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection a session is attached to, as the session sees it: its version and the topic
 * aliases assigned towards it, which live as long as the network connection [MQTT-3.3.2-7]. It
 * turns a delivery into the PUBLISH this client gets (alias, remaining expiry, subscription
 * identifiers) and counts what went and what was too large for it.
 */
final class Attachment {
    private static final Logger log = LoggerFactory.getLogger(Attachment.class);

    private final String clientId;
    private final Outbound out;
    private final MqttVersion version;
    private final OutboundAliases aliases;
    private final BrokerMetrics metrics;
    /** The client's read rights (ACL file): a message it may not read is not sent. */
    private final java.util.function.Predicate<String> mayRead;

    Attachment(String clientId, Outbound out, MqttVersion version, int clientTopicAliasMaximum, BrokerMetrics metrics,
               java.util.function.Predicate<String> mayRead) {
        this.mayRead = mayRead;
        this.clientId = clientId;
        this.out = out;
        this.version = version;
        this.aliases = new OutboundAliases(clientTopicAliasMaximum);
        this.metrics = metrics;
    }

    boolean writable() {
        return out.writable();
    }

    void send(Ack ack) {
        out.send(ack);
    }

    /**
     * Sends {@code d} with {@code packetId} (0 for QoS 0), DUP set on a re-delivery.
     *
     * @return false when the PUBLISH exceeds the client's Maximum Packet Size, or the client may not
     *         read its topic: it is then discarded as if delivered [MQTT-3.1.2-25], and counted
     */
    boolean publish(Delivery d, int packetId, boolean dup, long now) {
        Message m = d.message();
        if (!mayRead.test(m.topic())) {
            metrics.dropped(DropReason.NOT_AUTHORIZED);
            return false;
        }
        String topic = m.topic();
        Properties props = Properties.EMPTY;
        boolean newAlias = false;
        if (version.isV5()) {
            Long remaining = m.remainingExpirySeconds(now);
            int alias = aliases.existing(topic);
            if (alias == 0) {
                alias = aliases.assign(topic);
                newAlias = alias != 0;
            } else {
                topic = ""; // spec 3.3.2.3.4: alias already known to the client: send it alone.
            }
            if (remaining != null || d.subscriptionIds().length > 0 || alias != 0) {
                props = Message.forwardedProperties(m.properties());
                if (props == Properties.EMPTY) {
                    props = new Properties();
                }
                // [MQTT-3.3.2-6] the expiry sent is what is left of it.
                props.messageExpiryInterval = remaining;
                for (int id : d.subscriptionIds()) {
                    props.addSubscriptionIdentifier(id);
                }
                props.topicAlias = alias == 0 ? null : alias;
            } else {
                props = m.properties();
            }
        }
        boolean sent = out.send(new Publish(d.qos(), dup, d.retain(), topic, packetId, props, m.payload()));
        if (sent) {
            metrics.messageSent(d.qos());
            if (!dup) {
                metrics.delivered(m.receivedNanos()); // a resend would count the wait for the client
            }
        } else {
            if (newAlias) {
                aliases.forget(m.topic());
            }
            metrics.dropped(DropReason.TOO_LARGE);
            log.debug("client {}: message on {} exceeds the client's Maximum Packet Size; dropped", clientId, m.topic());
        }
        return sent;
    }
}
