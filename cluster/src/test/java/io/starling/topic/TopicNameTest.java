package io.starling.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TopicNameTest {

    static void assertInvalid(String topic, String rule) {
        InvalidTopicException e = assertThrows(InvalidTopicException.class, () -> TopicName.of(topic),
                () -> "expected invalid: " + Topics.quote(topic));
        assertEquals(rule, e.rule(), () -> "rule for " + Topics.quote(topic) + ": " + e);
    }

    @Test
    void emptyIsInvalid() {
        assertInvalid("", "MQTT-4.7.3-1");
    }

    @Test
    void wildcardsAreInvalid() {
        assertInvalid("+", "MQTT-3.3.2-2");
        assertInvalid("#", "MQTT-3.3.2-2");
        assertInvalid("sport/+", "MQTT-3.3.2-2");
        assertInvalid("sport/tennis/#", "MQTT-3.3.2-2");
        assertInvalid("sport#", "MQTT-3.3.2-2");
        assertInvalid("a+b", "MQTT-3.3.2-2");
    }

    @Test
    void nullCharacterIsInvalid() {
        assertInvalid("\u0000", "MQTT-4.7.3-2");
        assertInvalid("a/\u0000/b", "MQTT-4.7.3-2");
    }

    @Test
    void unpairedSurrogateIsInvalid() {
        assertInvalid("a\uD800", "MQTT-1.5.4-1");
        assertInvalid("\uDC00a", "MQTT-1.5.4-1");
        assertEquals("a\uD83D\uDE00", TopicName.of("a\uD83D\uDE00").value());
    }

    @Test
    void atMost65535Utf8Bytes() {
        assertEquals(65_535, TopicName.of("a".repeat(65_535)).value().length());
        assertInvalid("a".repeat(65_536), "MQTT-4.7.3-3");
        // 2-byte characters: 32767 * 2 + 1 = 65535 bytes, though only 32768 chars.
        TopicName.of("\u00e9".repeat(32_767) + "a");
        assertInvalid("\u00e9".repeat(32_767) + "ab", "MQTT-4.7.3-3");
        // 3-byte characters: 21845 * 3 = 65535.
        TopicName.of("\u20ac".repeat(21_845));
        assertInvalid("\u20ac".repeat(21_845) + "a", "MQTT-4.7.3-3");
        // 4-byte characters (surrogate pairs): 16383 * 4 + 3 = 65535.
        TopicName.of("\uD83D\uDE00".repeat(16_383) + "abc");
        assertInvalid("\uD83D\uDE00".repeat(16_383) + "abcd", "MQTT-4.7.3-3");
        // 65535 separators: 65536 empty levels.
        assertEquals(65_536, TopicName.of("/".repeat(65_535)).levels().size());
    }

    @Test
    void nullIsRejected() {
        assertThrows(NullPointerException.class, () -> TopicName.of(null));
    }

    @Test
    void levelsKeepEmptyLevels() {
        assertEquals(List.of("sport", "tennis", "player1"), TopicName.of("sport/tennis/player1").levels());
        assertEquals(List.of("a", "", "b"), TopicName.of("a//b").levels());
        assertEquals(List.of("", "finance"), TopicName.of("/finance").levels());
        assertEquals(List.of("finance", ""), TopicName.of("finance/").levels());
        assertEquals(List.of("", ""), TopicName.of("/").levels());
        assertEquals(List.of("Accounts payable"), TopicName.of("Accounts payable").levels());
        assertThrows(UnsupportedOperationException.class, () -> TopicName.of("a/b").levels().set(0, "x"));
    }

    @Test
    void systemTopicsStartWithDollar() {
        // [MQTT-4.7.2-1] only the first character counts.
        assertTrue(TopicName.of("$SYS/monitor/Clients").isSystem());
        assertTrue(TopicName.of("$").isSystem());
        assertFalse(TopicName.of("/$SYS").isSystem());
        assertFalse(TopicName.of("a/$SYS").isSystem());
        assertFalse(TopicName.of("SYS$").isSystem());
    }

    @Test
    void valueSemantics() {
        TopicName a = TopicName.of("sport/tennis");
        assertEquals(a, TopicName.of("sport/tennis"));
        assertEquals(a.hashCode(), TopicName.of("sport/tennis").hashCode());
        assertEquals("sport/tennis", a.toString());
        assertEquals("sport/tennis", a.value());
        // [MQTT 4.7.3] Topic names are case sensitive, and "/finance" is not "finance".
        assertNotEquals(TopicName.of("ACCOUNTS"), TopicName.of("Accounts"));
        assertNotEquals(TopicName.of("/finance"), TopicName.of("finance"));
        assertNotEquals(a, TopicFilter.of("sport/tennis"));
    }

    @Test
    void exceptionCarriesRuleWithoutStackTrace() {
        InvalidTopicException e = assertThrows(InvalidTopicException.class, () -> TopicName.of("a/#"));
        assertEquals("MQTT-3.3.2-2", e.rule());
        assertEquals(0, e.getStackTrace().length);
        assertTrue(e.toString().startsWith("[MQTT-3.3.2-2] "), e.toString());
        assertTrue(e instanceof IllegalArgumentException);
    }
}
