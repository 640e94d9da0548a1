package io.starling.topic;

import java.util.List;

/**
 * The topic name of a PUBLISH packet (or of a will message, or of a retained message): a concrete
 * topic, no wildcards. Immutable; validated once in {@link #of(String)} and split into its levels
 * there, so that matching on the publish path does not split again.
 *
 * <p>Levels are separated by '/' and may be empty: "a//b" has the levels "a", "", "b" and "/finance"
 * has "" and "finance" [MQTT 4.7.1.1]. Topic names are case sensitive and may contain spaces
 * [MQTT 4.7.3].
 */
public final class TopicName {
    private final String value;
    private final List<String> levels;

    private TopicName(String value, String[] levels) {
        this.value = value;
        this.levels = List.of(levels);
    }

    /**
     * Validates and splits a topic name.
     *
     * @throws InvalidTopicException naming the rule broken: empty [MQTT-4.7.3-1], a wildcard
     *         character [MQTT-3.3.2-2], U+0000 [MQTT-4.7.3-2], more than 65,535 UTF-8 bytes
     *         [MQTT-4.7.3-3], an unpaired surrogate [MQTT-1.5.4-1]
     * @throws NullPointerException  if {@code value} is null
     */
    public static TopicName of(String value) {
        Topics.checkCommon(value, "topic name");
        // [MQTT-3.3.2-2] The Topic Name in the PUBLISH packet MUST NOT contain wildcard characters.
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '+' || c == '#') {
                throw new InvalidTopicException("MQTT-3.3.2-2",
                        "topic name contains the wildcard '" + c + "' at index " + i + ": " + Topics.quote(value));
            }
        }
        return new TopicName(value, Topics.split(value));
    }

    /** The topic name as given. */
    public String value() {
        return value;
    }

    /**
     * Whether the name starts with '$' (e.g. "$SYS/broker/uptime"): such topics are not matched by
     * filters starting with a wildcard [MQTT-4.7.2-1].
     */
    public boolean isSystem() {
        return value.charAt(0) == '$';
    }

    /** The levels, at least one, possibly empty strings; unmodifiable. */
    public List<String> levels() {
        return levels;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicName && ((TopicName) o).value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value;
    }
}
