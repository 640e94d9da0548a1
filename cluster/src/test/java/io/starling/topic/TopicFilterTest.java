package io.starling.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TopicFilterTest {

    static void assertInvalid(String filter, String rule) {
        InvalidTopicException e = assertThrows(InvalidTopicException.class, () -> TopicFilter.of(filter),
                () -> "expected invalid: " + Topics.quote(filter));
        assertEquals(rule, e.rule(), () -> "rule for " + Topics.quote(filter) + ": " + e);
    }

    static void assertMatches(String filter, String topic) {
        assertTrue(TopicFilter.of(filter).matches(TopicName.of(topic)), filter + " should match " + topic);
    }

    static void assertNoMatch(String filter, String topic) {
        assertFalse(TopicFilter.of(filter).matches(TopicName.of(topic)), filter + " should not match " + topic);
    }

    // ---- validation -------------------------------------------------------------------------

    @Test
    void emptyIsInvalid() {
        assertInvalid("", "MQTT-4.7.3-1");
    }

    @Test
    void nullCharacterIsInvalid() {
        assertInvalid("a/\u0000", "MQTT-4.7.3-2");
        assertInvalid("$share/g\u0000/a", "MQTT-4.7.3-2");
    }

    @Test
    void atMost65535Utf8Bytes() {
        TopicFilter.of("a".repeat(65_533) + "/#");
        assertInvalid("a".repeat(65_534) + "/#", "MQTT-4.7.3-3");
        assertInvalid("\u20ac".repeat(21_845) + "/#", "MQTT-4.7.3-3");
    }

    @Test
    void multiLevelWildcardMustBeAloneInLastLevel() {
        // [MQTT 4.7.1.2] examples
        TopicFilter.of("#");
        TopicFilter.of("sport/tennis/#");
        TopicFilter.of("/#");
        assertInvalid("sport/tennis#", "MQTT-4.7.1-1");
        assertInvalid("sport/tennis/#/ranking", "MQTT-4.7.1-1");
        assertInvalid("#/a", "MQTT-4.7.1-1");
        assertInvalid("##", "MQTT-4.7.1-1");
        assertInvalid("a/#b", "MQTT-4.7.1-1");
        assertInvalid("#/#", "MQTT-4.7.1-1");
    }

    @Test
    void singleLevelWildcardMustOccupyWholeLevel() {
        // [MQTT 4.7.1.3] examples
        TopicFilter.of("+");
        TopicFilter.of("+/tennis/#");
        TopicFilter.of("sport/+/player1");
        TopicFilter.of("+/+");
        TopicFilter.of("/+");
        TopicFilter.of("+/");
        assertInvalid("sport+", "MQTT-4.7.1-2");
        assertInvalid("++", "MQTT-4.7.1-2");
        assertInvalid("a/+b/c", "MQTT-4.7.1-2");
    }

    @Test
    void wildcardsAndLevels() {
        TopicFilter f = TopicFilter.of("sport/+/player1/#");
        assertTrue(f.hasWildcards());
        assertEquals(List.of("sport", "+", "player1", "#"), f.levels());
        assertFalse(TopicFilter.of("sport/tennis").hasWildcards());
        assertEquals(List.of("", "a", ""), TopicFilter.of("/a/").levels());
        assertFalse(f.isShared());
        assertNull(f.shareGroup());
        assertEquals(f.value(), f.filter());
    }

    // ---- matching: the examples of MQTT 5 section 4.7 ----------------------------------------

    @Test
    void multiLevelWildcardExamples() {
        // [MQTT 4.7.1.2]
        assertMatches("sport/tennis/player1/#", "sport/tennis/player1");
        assertMatches("sport/tennis/player1/#", "sport/tennis/player1/ranking");
        assertMatches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon");
        assertNoMatch("sport/tennis/player1/#", "sport/tennis/player2");
        assertNoMatch("sport/tennis/player1/#", "sport/tennis");
        assertMatches("sport/#", "sport");
        assertMatches("#", "sport");
        assertMatches("#", "/");
        assertMatches("#", "sport/tennis/player1");
    }

    @Test
    void singleLevelWildcardExamples() {
        // [MQTT 4.7.1.3]
        assertMatches("sport/tennis/+", "sport/tennis/player1");
        assertMatches("sport/tennis/+", "sport/tennis/player2");
        assertNoMatch("sport/tennis/+", "sport/tennis/player1/ranking");
        assertNoMatch("sport/+", "sport");
        assertMatches("sport/+", "sport/");
        assertNoMatch("sport/+", "sport/tennis/player1");
        assertMatches("+/+", "/finance");
        assertMatches("/+", "/finance");
        assertNoMatch("+", "/finance");
        assertMatches("+/+", "/");
        assertMatches("+", "sport");
        assertNoMatch("+", "sport/");
        assertMatches("+/tennis/#", "sport/tennis");
        assertMatches("sport/+/player1", "sport/tennis/player1");
    }

    @Test
    void dollarTopicExamples() {
        // [MQTT 4.7.2] [MQTT-4.7.2-1]
        assertNoMatch("#", "$SYS/x");
        assertNoMatch("#", "$SYS");
        assertNoMatch("+", "$SYS");
        assertNoMatch("+/#", "$SYS");
        assertNoMatch("+/monitor/Clients", "$SYS/monitor/Clients");
        assertMatches("$SYS/#", "$SYS/monitor/Clients");
        assertMatches("$SYS/#", "$SYS");
        assertMatches("$SYS/monitor/+", "$SYS/monitor/Clients");
        assertMatches("$SYS/monitor/Clients", "$SYS/monitor/Clients");
        // only the first character of the topic counts
        assertMatches("#", "a/$SYS");
        assertMatches("+/$SYS", "a/$SYS");
        assertMatches("+", "SYS$");
    }

    @Test
    void literalMatchingIsExact() {
        // [MQTT 4.7.3] case sensitive, leading '/' is a distinct level, spaces allowed.
        assertMatches("Accounts payable", "Accounts payable");
        assertNoMatch("ACCOUNTS", "Accounts");
        assertNoMatch("/finance", "finance");
        assertNoMatch("finance", "/finance");
        assertNoMatch("a/b", "a/b/");
        assertMatches("a//b", "a//b");
        assertNoMatch("a//b", "a/b");
    }

    // ---- shared subscriptions [MQTT 4.8.2] -----------------------------------------------------

    @Test
    void sharedSubscriptionParsing() {
        TopicFilter f = TopicFilter.of("$share/consumer1/sport/tennis/+");
        assertTrue(f.isShared());
        assertEquals("consumer1", f.shareGroup());
        assertEquals("sport/tennis/+", f.filter());
        assertEquals("$share/consumer1/sport/tennis/+", f.value());
        assertEquals(List.of("sport", "tennis", "+"), f.levels());
        assertTrue(f.hasWildcards());

        TopicFilter g = TopicFilter.of("$share/g/#");
        assertEquals("#", g.filter());
        assertEquals("g", g.shareGroup());

        TopicFilter h = TopicFilter.of("$share/g//");
        assertEquals("/", h.filter());
        assertEquals(List.of("", ""), h.levels());
        assertFalse(TopicFilter.of("$share/g/a").hasWildcards());
        assertEquals("$SYS/#", TopicFilter.of("$share/$g/$SYS/#").filter());
    }

    @Test
    void notSharedUnlessPrefixedByShareSlash() {
        for (String s : new String[] {"$share", "$shared/a", "$SHARE/g/a", "a/$share/g/b"}) {
            TopicFilter f = TopicFilter.of(s);
            assertFalse(f.isShared(), s);
            assertEquals(s, f.filter());
        }
    }

    @Test
    void sharedSubscriptionInvalidForms() {
        assertInvalid("$share/", "MQTT-4.8.2-1");
        assertInvalid("$share//a", "MQTT-4.8.2-1");
        assertInvalid("$share/g", "MQTT-4.8.2-2");
        assertInvalid("$share/g/", "MQTT-4.8.2-2");
        assertInvalid("$share/g+/a", "MQTT-4.8.2-2");
        assertInvalid("$share/+/a", "MQTT-4.8.2-2");
        assertInvalid("$share/g#/a", "MQTT-4.8.2-2");
        assertInvalid("$share/#", "MQTT-4.8.2-2");
        // the filter part obeys the ordinary rules
        assertInvalid("$share/g/a#", "MQTT-4.7.1-1");
        assertInvalid("$share/g/a+", "MQTT-4.7.1-2");
    }

    @Test
    void sharedFilterMatchesThroughItsFilterPart() {
        assertMatches("$share/g/sport/#", "sport");
        assertMatches("$share/g/+/tennis", "sport/tennis");
        assertNoMatch("$share/g/#", "$SYS/x");
        assertMatches("$share/g/$SYS/#", "$SYS/x");
    }

    @Test
    void valueSemantics() {
        assertEquals(TopicFilter.of("a/+"), TopicFilter.of("a/+"));
        assertEquals(TopicFilter.of("a/+").hashCode(), TopicFilter.of("a/+").hashCode());
        assertEquals("$share/g/a", TopicFilter.of("$share/g/a").toString());
        assertNotEquals(TopicFilter.of("$share/g/a"), TopicFilter.of("a"));
        assertThrows(NullPointerException.class, () -> TopicFilter.of(null));
    }

    // ---- the reference matcher against a regular-expression oracle ----------------------------

    @Test
    void matchesAgreesWithRegexOracle() {
        long seed = Seeds.seed();
        Random random = new Random(seed);
        String[] alphabet = {"", "$SYS", "$x", "a", "b"};
        for (int i = 0; i < 20_000; i++) {
            String topic = randomPath(random, alphabet, false);
            String filter = randomPath(random, alphabet, true);
            if (topic.isEmpty() || filter.isEmpty()) {
                continue;
            }
            boolean expected = regexOracle(filter, topic);
            boolean actual = TopicFilter.of(filter).matches(TopicName.of(topic));
            assertEquals(expected, actual, "seed=" + seed + " filter=" + filter + " topic=" + topic);
        }
    }

    private static String randomPath(Random random, String[] alphabet, boolean wildcards) {
        int n = 1 + random.nextInt(4);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append('/');
            }
            if (wildcards && i == n - 1 && random.nextInt(4) == 0) {
                sb.append('#');
            } else if (wildcards && random.nextInt(4) == 0) {
                sb.append('+');
            } else {
                sb.append(alphabet[random.nextInt(alphabet.length)]);
            }
        }
        return sb.toString();
    }

    /** An independent matcher: the filter as a regular expression over the whole topic string. */
    private static boolean regexOracle(String filter, String topic) {
        if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) {
            return false;
        }
        String[] levels = filter.split("/", -1);
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < levels.length; i++) {
            if (levels[i].equals("#")) {
                // "#" alone matches everything; "x/#" matches "x" and "x/anything".
                regex.append(i == 0 ? ".*" : "(/.*)?");
                break;
            }
            if (i > 0) {
                regex.append('/');
            }
            regex.append(levels[i].equals("+") ? "[^/]*" : Pattern.quote(levels[i]));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(topic).matches();
    }
}
