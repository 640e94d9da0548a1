package io.starling.topic;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of {@link TopicName#of}, {@link TopicFilter#of} and matching. On any
 * string, {@code of} either succeeds or throws {@link InvalidTopicException}, nothing else, and
 * accepts exactly what a reference written here from MQTT 5.0 section 4.7 and 4.8.2 accepts. An
 * accepted filter and name match, by {@link TopicFilter#matches}, by a {@link TopicTrie} of
 * subscriptions ({@code matchTopic}) and by a trie of retained topics ({@code matchFilter}), exactly
 * when a naive reference says so: the filter turned into a regular expression, plus the rule that
 * a filter starting with a wildcard does not match a topic starting with '$' [MQTT-4.7.2-1].
 *
 * <p>Half the inputs derive the name from the filter (each '+' and '#' replaced by fuzzed levels),
 * so that matches are common; the other half take two independent strings. Either string may get a
 * lone surrogate or a U+0000: Jazzer's strings have no lone surrogates of their own.
 * Seeds: {@code TopicFuzzTestInputs/namesAndFilters/}, written by {@link TopicFuzzSeeds}.
 */
class TopicFuzzTest {
    static final int MAX_TEXT = 200;
    static final int MAX_LEVEL = 12;
    static final int MAX_HASH_LEVELS = 3;
    static final int MAX_KIND = 7;

    /** A filter and a name to try, as the fuzzer input gives them. */
    record Case(String filter, String name) {
        static Case read(FuzzedDataProvider data) {
            boolean derive = data.consumeInt(0, 1) == 1;
            String filter = damage(data.consumeString(MAX_TEXT), data);
            String name = derive ? derive(filter, data) : damage(data.consumeString(MAX_TEXT), data);
            return new Case(filter, name);
        }

        /**
         * Kind 1, 2: a lone high or low surrogate; 3: U+0000; anything else: the string as is. The
         * 65,535-byte limit [MQTT-4.7.3-3] is left to TopicNameTest: under Jazzer's instrumentation
         * a string that long costs milliseconds, and a corpus holding some ran at 2,000 inputs/s.
         */
        private static String damage(String s, FuzzedDataProvider data) {
            int kind = data.consumeInt(0, MAX_KIND);
            if (kind == 0 || kind > 3) {
                return s;
            }
            int at = data.consumeInt(0, s.length());
            String insert = kind == 1 ? "\uD800" : kind == 2 ? "\uDC00" : "\u0000";
            return s.substring(0, at) + insert + s.substring(at);
        }

        /** A name the filter should match: its '+' levels and '#' replaced by fuzzed levels. */
        private static String derive(String filter, FuzzedDataProvider data) {
            String f = filter;
            if (f.startsWith("$share/")) {
                int slash = f.indexOf('/', "$share/".length());
                f = slash < 0 ? "" : f.substring(slash + 1);
            }
            String[] levels = f.split("/", -1);
            List<String> name = new ArrayList<>();
            for (String level : levels) {
                if (level.equals("+")) {
                    name.add(level(data));
                } else if (level.equals("#")) {
                    // '#' also matches the parent level, so zero levels is a match, unless nothing would be left.
                    int n = Math.max(data.consumeInt(0, MAX_HASH_LEVELS), name.isEmpty() ? 1 : 0);
                    for (int i = 0; i < n; i++) {
                        name.add(level(data));
                    }
                } else {
                    name.add(level);
                }
            }
            return String.join("/", name);
        }

        private static String level(FuzzedDataProvider data) {
            return data.consumeString(MAX_LEVEL).replace("/", "").replace("+", "").replace("#", "");
        }
    }

    @FuzzTest
    @Timeout(10)
    void namesAndFilters(FuzzedDataProvider data) {
        Case c = Case.read(data);
        Reference ref = Reference.ofFilter(c.filter());
        TopicFilter filter = filter(c.filter(), ref);
        TopicName name = name(c.name(), Reference.validName(c.name()));
        if (filter != null && name != null) {
            checkMatching(filter, name, Reference.matches(ref.levels, c.name()));
        }
    }

    /** @return the filter, or null when rightly rejected */
    private static TopicFilter filter(String s, Reference ref) {
        TopicFilter filter;
        try {
            filter = TopicFilter.of(s);
        } catch (InvalidTopicException e) {
            assertFalse(e.rule() == null || e.rule().isBlank(), "an InvalidTopicException names its rule");
            if (ref != null) {
                fail("valid filter rejected: " + e + " for " + quote(s));
            }
            return null;
        }
        if (ref == null) {
            fail("invalid filter accepted: " + quote(s));
        }
        assertEquals(s, filter.value());
        assertEquals(ref.group != null, filter.isShared(), () -> "shared: " + quote(s));
        assertEquals(ref.group, filter.shareGroup(), () -> "ShareName of " + quote(s));
        assertEquals(ref.filter, filter.filter(), () -> "filter part of " + quote(s));
        assertEquals(ref.levels, filter.levels(), () -> "levels of " + quote(s));
        assertEquals(ref.filter.contains("+") || ref.filter.contains("#"), filter.hasWildcards(),
                () -> "wildcards in " + quote(s));
        return filter;
    }

    /** @return the topic name, or null when rightly rejected */
    private static TopicName name(String s, boolean valid) {
        TopicName name;
        try {
            name = TopicName.of(s);
        } catch (InvalidTopicException e) {
            assertFalse(e.rule() == null || e.rule().isBlank(), "an InvalidTopicException names its rule");
            if (valid) {
                fail("valid topic name rejected: " + e + " for " + quote(s));
            }
            return null;
        }
        if (!valid) {
            fail("invalid topic name accepted: " + quote(s));
        }
        assertEquals(s, name.value());
        assertEquals(List.of(s.split("/", -1)), name.levels(), () -> "levels of " + quote(s));
        assertEquals(s.startsWith("$"), name.isSystem(), () -> "system topic: " + quote(s));
        return name;
    }

    private static void checkMatching(TopicFilter filter, TopicName name, boolean expected) {
        assertEquals(expected, filter.matches(name), () -> "TopicFilter.matches(" + quote(filter.value()) + ", " + quote(name.value()) + ")");

        TopicTrie<String, Boolean> subscriptions = new TopicTrie<>();
        subscriptions.put(filter.levels(), "subscriber", Boolean.TRUE);
        List<String> visited = new ArrayList<>(1);
        subscriptions.matchTopic(name.levels(), name.isSystem(), (k, v) -> visited.add(k));
        assertEquals(expected ? List.of("subscriber") : List.of(), visited,
                () -> "TopicTrie.matchTopic(" + quote(filter.value()) + ", " + quote(name.value()) + ")");

        TopicTrie<String, Boolean> retained = new TopicTrie<>();
        retained.put(name.levels(), "retained", Boolean.TRUE);
        visited.clear();
        retained.matchFilter(filter.levels(), (k, v) -> visited.add(k));
        assertEquals(expected ? List.of("retained") : List.of(), visited,
                () -> "TopicTrie.matchFilter(" + quote(filter.value()) + ", " + quote(name.value()) + ")");
    }

    /** A filter as the reference reads it: the ShareName or null, the filter part and its levels. */
    private record Reference(String group, String filter, List<String> levels) {
        /** @return null when the filter is invalid */
        static Reference ofFilter(String s) {
            if (!validString(s)) {
                return null;
            }
            String group = null;
            String f = s;
            // 4.8.2: "$share/{ShareName}/{filter}"; the ShareName is at least one character
            // [MQTT-4.8.2-1], holds no '/', '+' or '#', and is followed by '/' and a filter [MQTT-4.8.2-2].
            if (s.startsWith("$share/")) {
                String rest = s.substring("$share/".length());
                int slash = rest.indexOf('/');
                if (slash <= 0) {
                    return null;
                }
                group = rest.substring(0, slash);
                f = rest.substring(slash + 1);
                if (group.contains("+") || group.contains("#") || f.isEmpty()) {
                    return null;
                }
            }
            List<String> levels = List.of(f.split("/", -1));
            for (int i = 0; i < levels.size(); i++) {
                String level = levels.get(i);
                // [MQTT-4.7.1-1] '#' alone, as the last level; [MQTT-4.7.1-2] '+' a whole level.
                if (level.contains("#") && !(level.equals("#") && i == levels.size() - 1)) {
                    return null;
                }
                if (level.contains("+") && !level.equals("+")) {
                    return null;
                }
            }
            return new Reference(group, f, levels);
        }

        /** [MQTT-3.3.2-2] no wildcard characters in a topic name, and the common rules. */
        static boolean validName(String s) {
            return validString(s) && !s.contains("+") && !s.contains("#");
        }

        /**
         * [MQTT-4.7.3-1] at least one character; [MQTT-4.7.3-2] no U+0000; [MQTT-1.5.4-1] well-formed
         * (no unpaired surrogate); [MQTT-4.7.3-3] at most 65,535 bytes of UTF-8.
         */
        static boolean validString(String s) {
            return !s.isEmpty() && s.indexOf('\u0000') < 0
                    && StandardCharsets.UTF_8.newEncoder().canEncode(s)
                    && s.getBytes(StandardCharsets.UTF_8).length <= 65_535;
        }

        /**
         * The filter levels as a regular expression over the whole name (4.7.1). Each distinct level
         * stands for one private-use character in both, so the expression stays short: a quoted
         * literal of 65,535 characters takes the JDK seconds to compile.
         */
        static boolean matches(List<String> levels, String name) {
            String first = levels.get(0);
            if (name.startsWith("$") && (first.equals("+") || first.equals("#"))) {
                return false; // [MQTT-4.7.2-1]
            }
            Map<String, Character> tokens = new HashMap<>();
            StringBuilder re = new StringBuilder("(?s)");
            for (int i = 0; i < levels.size(); i++) {
                String level = levels.get(i);
                if (level.equals("#")) {
                    // 4.7.1.2: any number of levels, including the parent's own: "a/#" matches "a".
                    re.append(i == 0 ? ".*" : "(/.*)?");
                    break;
                }
                if (i > 0) {
                    re.append('/');
                }
                // 4.7.1.3: '+' is exactly one level, which may be empty.
                re.append(level.equals("+") ? "[^/]" : String.valueOf(token(tokens, level)));
            }
            StringBuilder tokenized = new StringBuilder();
            for (String level : name.split("/", -1)) {
                if (tokenized.length() > 0) {
                    tokenized.append('/');
                }
                tokenized.append(token(tokens, level));
            }
            return Pattern.matches(re.toString(), tokenized);
        }

        private static char token(Map<String, Character> tokens, String level) {
            return tokens.computeIfAbsent(level, k -> (char) (0xE000 + tokens.size()));
        }
    }

    private static String quote(String s) {
        String shown = s.length() > 120 ? s.substring(0, 120) + "...(" + s.length() + " chars)" : s;
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : shown.toCharArray()) {
            sb.append(ch < 0x20 || Character.isSurrogate(ch) ? String.format("\\u%04X", (int) ch) : String.valueOf(ch));
        }
        return sb.append('"').toString();
    }
}
