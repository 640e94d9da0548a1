package io.starling.session;

import io.starling.config.BrokerConfig;
import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Properties;
import io.starling.protocol.ReasonCode;
import io.starling.topic.InvalidTopicException;
import io.starling.topic.TopicName;
import java.util.UUID;

/**
 * What a CONNECT asks for and what the broker grants (spec 3.1, 3.2), or why it is refused.
 * Decided from the packet and the configuration alone: no I/O, so every rule is unit-testable.
 *
 * @param connAck the properties of the 5.0 CONNACK that accepts it (empty for 3.1.1)
 */
record ConnectTerms(String clientId, boolean cleanStart, int keepAliveSeconds, long expirySeconds,
                    int clientReceiveMaximum, int clientTopicAliasMaximum, Long clientMaximumPacketSize,
                    Connect.Will will, Properties connAck) {

    /** A refused CONNECT: the 5.0 reason code, the rule, and why, for the CONNACK and the log. */
    record Refusal(int reasonCode, String rule, String why) {
    }

    /** @return the terms, or a {@link Refusal} */
    static Object negotiate(Connect c, BrokerConfig config, boolean leaving) {
        MqttVersion version = c.version();
        Properties p = c.properties() == null ? Properties.EMPTY : c.properties();
        if (leaving) {
            // This node is leaving the cluster: the client should connect to another one.
            return new Refusal(ReasonCode.SERVER_UNAVAILABLE, "4.13", "this node is shutting down");
        }
        if (p.authenticationMethod != null) {
            return new Refusal(ReasonCode.BAD_AUTHENTICATION_METHOD, "MQTT-4.12.0-1",
                    "enhanced authentication method '" + p.authenticationMethod + "' is not supported");
        }
        String id = c.clientId();
        Properties ack = new Properties();
        if (id.isEmpty()) {
            if (version == MqttVersion.V3_1 || (version == MqttVersion.V3_1_1 && !c.cleanStart())) {
                // [MQTT-3.1.3-8] an empty identifier needs Clean Session; 3.1 needs 1 to 23 characters.
                return new Refusal(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "MQTT-3.1.3-8",
                        "empty client identifier without clean session");
            }
            id = "auto-" + UUID.randomUUID();
            if (version.isV5()) {
                ack.assignedClientIdentifier = id; // [MQTT-3.2.2-16]
            }
        }
        int cap = config.maxKeepAliveSeconds();
        int keepAlive = c.keepAliveSeconds();
        if (version.isV5() && (keepAlive == 0 || keepAlive > cap)) {
            keepAlive = cap; // [MQTT-3.2.2-21] the client must use the Server Keep Alive
            ack.serverKeepAlive = cap;
        }
        long maxExpiry = config.maxSessionExpirySeconds();
        long expiry;
        int receiveMaximum;
        int aliasMaximum = 0;
        if (version.isV5()) {
            long requested = p.sessionExpiryInterval == null ? 0 : p.sessionExpiryInterval;
            expiry = Math.min(requested, maxExpiry);
            if (expiry != requested) {
                ack.sessionExpiryInterval = expiry;
            }
            receiveMaximum = p.receiveMaximum == null ? 65_535 : p.receiveMaximum;
            aliasMaximum = p.topicAliasMaximum == null ? 0 : p.topicAliasMaximum;
            ack.receiveMaximum = config.receiveMaximum();
            ack.maximumPacketSize = (long) config.maxPacketSize();
            if (config.topicAliasMaximum() > 0) {
                ack.topicAliasMaximum = config.topicAliasMaximum();
            }
        } else {
            // 3.1.1: Clean Session 0 keeps the session until the broker's cap.
            expiry = c.cleanStart() ? 0 : maxExpiry;
            receiveMaximum = config.maxInflight();
            ack = Properties.EMPTY;
        }
        Connect.Will will = c.will();
        if (will != null) {
            try {
                TopicName.of(will.topic());
            } catch (InvalidTopicException e) {
                return new Refusal(ReasonCode.TOPIC_NAME_INVALID, e.rule(), "will topic: " + e.getMessage());
            }
        }
        Long maxPacket = version.isV5() ? p.maximumPacketSize : null; // [MQTT-3.1.2-24]
        return new ConnectTerms(id, c.cleanStart(), keepAlive, expiry, receiveMaximum, aliasMaximum, maxPacket, will, ack);
    }
}
