package io.starling.loadtest.compare;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the load generator's result file: one flat JSON object of numbers, strings and booleans.
 * Nested values are not part of that format, so a regex is enough and no JSON library is needed.
 */
final class FlatJson {
    private static final Pattern MEMBER = Pattern.compile(
            "\"([^\"]+)\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9][0-9.eE+-]*|true|false|null)");

    private FlatJson() {
    }

    static Map<String, String> parse(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = MEMBER.matcher(json);
        while (m.find()) {
            String v = m.group(2);
            out.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("not a flat JSON object: " + json);
        }
        return out;
    }

    static double number(Map<String, String> values, String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException("the load generator's result has no '" + key + "': " + values.keySet());
        }
        return Double.parseDouble(v);
    }
}
