package io.starling.topic;

/** Checks and helpers shared by {@link TopicName} and {@link TopicFilter}. */
final class Topics {
    /** [MQTT-1.5.4-1] ... [MQTT-4.7.3-3]: a UTF-8 Encoded String is at most 65,535 bytes. */
    static final int MAX_BYTES = 65_535;

    private Topics() {
    }

    /**
     * The rules every topic name and topic filter obeys: non-empty, no U+0000, at most 65,535 bytes
     * of well-formed UTF-8. {@code what} is "topic name" or "topic filter", for the message.
     */
    static void checkCommon(String s, String what) {
        if (s == null) {
            throw new NullPointerException(what);
        }
        // [MQTT-4.7.3-1] All Topic Names and Topic Filters MUST be at least one character long.
        if (s.isEmpty()) {
            throw new InvalidTopicException("MQTT-4.7.3-1", what + " must not be empty");
        }
        int bytes = 0;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '\u0000') {
                // [MQTT-4.7.3-2] Topic Names and Topic Filters MUST NOT include the null character.
                throw new InvalidTopicException("MQTT-4.7.3-2",
                        what + " contains U+0000 at index " + i + ": " + quote(s));
            }
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                // [MQTT-1.5.4-1] The character data in a UTF-8 Encoded String MUST be well-formed
                // UTF-8; an unpaired surrogate has no UTF-8 encoding (U+D800..U+DFFF).
                throw new InvalidTopicException("MQTT-1.5.4-1",
                        what + " contains an unpaired surrogate at index " + i + ": " + quote(s));
            } else {
                bytes += 3;
            }
        }
        // [MQTT-4.7.3-3] Topic Names and Topic Filters are UTF-8 Encoded Strings; they MUST NOT
        // encode to more than 65,535 bytes.
        if (bytes > MAX_BYTES) {
            throw new InvalidTopicException("MQTT-4.7.3-3",
                    what + " encodes to " + bytes + " UTF-8 bytes, more than " + MAX_BYTES);
        }
    }

    /** Splits at every '/', keeping empty levels: "a//b" has 3 levels, "/" has 2 empty ones. */
    static String[] split(String s) {
        int count = 1;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '/') {
                count++;
            }
        }
        String[] levels = new String[count];
        int start = 0;
        int k = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '/') {
                levels[k++] = s.substring(start, i);
                start = i + 1;
            }
        }
        levels[k] = s.substring(start);
        return levels;
    }

    /** The string for a log line: quoted, U+0000 made visible, long ones cut. */
    static String quote(String s) {
        String shown = s.length() > 100 ? s.substring(0, 100) + "...(" + s.length() + " chars)" : s;
        return '"' + shown.replace("\u0000", "\\u0000") + '"';
    }
}
