package io.starling.session;

import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.ReasonCode;
import java.util.HashMap;
import java.util.Map;

/**
 * Topic aliases a 5.0 client sets towards the broker [MQTT-3.3.2-10], at most the Topic Alias
 * Maximum the broker gave it in CONNACK; they live as long as the network connection
 * [MQTT-3.3.2-7]. The map is made with the first alias: most clients set none.
 */
final class InboundAliases {
    private final int maximum;
    private Map<Integer, String> aliases;

    InboundAliases(int maximum) {
        this.maximum = maximum;
    }

    /**
     * @param topic the PUBLISH's Topic Name, empty when it relies on the alias alone
     * @param alias its Topic Alias property, or null
     * @return the topic the PUBLISH is for [MQTT-3.3.2-11], [MQTT-3.3.2-12]
     */
    String resolve(String topic, Integer alias) throws ProtocolViolation {
        if (alias == null) {
            return topic;
        }
        if (alias == 0 || alias > maximum) {
            // [MQTT-3.3.2-8] alias 0, [MQTT-3.3.2-9] above our Topic Alias Maximum
            throw new ProtocolViolation(ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-9",
                    "topic alias " + alias + " outside 1.." + maximum);
        }
        if (topic.isEmpty()) {
            String known = aliases == null ? null : aliases.get(alias);
            if (known == null) {
                throw ProtocolViolation.protocolError("3.3.2.3.4", "topic alias " + alias + " used before it was set");
            }
            return known;
        }
        if (aliases == null) {
            aliases = new HashMap<>();
        }
        aliases.put(alias, topic);
        return topic;
    }
}
