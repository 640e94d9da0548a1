package io.starling.loadtest;

import java.util.Locale;
import java.util.Map;

/**
 * Writes one flat JSON object (string, integer, decimal and boolean values only). Hand-written
 * because the result is flat by design, so a script can read it without a schema, and a JSON
 * library for twenty fields would be the largest dependency of the tool.
 */
public final class JsonWriter {
    private JsonWriter() {
    }

    public static String object(Map<String, ?> fields) {
        StringBuilder sb = new StringBuilder("{\n");
        String sep = "";
        for (Map.Entry<String, ?> e : fields.entrySet()) {
            sb.append(sep).append("  ");
            string(sb, e.getKey());
            sb.append(": ");
            value(sb, e.getValue());
            sep = ",\n";
        }
        return sb.append("\n}\n").toString();
    }

    private static void value(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long) {
            sb.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            // JSON has no NaN or infinity; a rate that could not be computed reads 0.
            sb.append(Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "0");
        } else {
            throw new IllegalArgumentException("not a flat JSON value: " + v.getClass());
        }
    }

    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
