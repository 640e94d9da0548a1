package io.starling.session;

import java.util.HashMap;
import java.util.Map;

/**
 * Topic aliases the broker assigns towards one 5.0 client, at most the client's Topic Alias
 * Maximum [MQTT-3.3.2-9]; first come, first served. They live as long as the network connection
 * [MQTT-3.3.2-7].
 */
final class OutboundAliases {
    private final int maximum;
    private final Map<String, Integer> aliases = new HashMap<>();

    OutboundAliases(int maximum) {
        this.maximum = maximum;
    }

    /** @return the alias already sent for this topic, or 0. */
    int existing(String topic) {
        Integer a = aliases.get(topic);
        return a == null ? 0 : a;
    }

    /** @return a new alias for this topic, or 0 when all are taken. */
    int assign(String topic) {
        if (aliases.size() >= maximum) {
            return 0;
        }
        int alias = aliases.size() + 1;
        aliases.put(topic, alias);
        return alias;
    }

    void forget(String topic) {
        aliases.remove(topic);
    }
}
