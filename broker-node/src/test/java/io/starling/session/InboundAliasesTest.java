package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.ReasonCode;
import org.junit.jupiter.api.Test;

/** Topic aliases a client sets: [MQTT-3.3.2-8] to [MQTT-3.3.2-12], and spec 3.3.2.3.4. */
class InboundAliasesTest {
    final InboundAliases aliases = new InboundAliases(3);

    @Test
    void aPublishWithoutAnAliasKeepsItsTopic() throws Exception {
        assertEquals("a/b", aliases.resolve("a/b", null));
    }

    @Test
    void anAliasSetWithATopicStandsForItLater() throws Exception {
        assertEquals("a/b", aliases.resolve("a/b", 2));
        assertEquals("a/b", aliases.resolve("", 2), "[MQTT-3.3.2-12] the alias alone names the topic");
        assertEquals("c", aliases.resolve("c", 2), "[MQTT-3.3.2-11] a new topic replaces the mapping");
        assertEquals("c", aliases.resolve("", 2));
    }

    @Test
    void aliasZeroAndAliasesAboveTheMaximumAreInvalid() {
        ProtocolViolation zero = assertThrows(ProtocolViolation.class, () -> aliases.resolve("a", 0));
        assertEquals(ReasonCode.TOPIC_ALIAS_INVALID, zero.reasonCode(), "[MQTT-3.3.2-8]");
        ProtocolViolation above = assertThrows(ProtocolViolation.class, () -> aliases.resolve("a", 4));
        assertEquals(ReasonCode.TOPIC_ALIAS_INVALID, above.reasonCode(), "[MQTT-3.3.2-9]");
    }

    @Test
    void anAliasUsedBeforeItWasSetIsAProtocolError() throws Exception {
        aliases.resolve("a", 1);
        ProtocolViolation v = assertThrows(ProtocolViolation.class, () -> aliases.resolve("", 3));
        assertEquals(ReasonCode.PROTOCOL_ERROR, v.reasonCode());
    }
}
