package io.starling.topic;

import java.util.List;

/**
 * The topic filter of a subscription, possibly a shared subscription "$share/{ShareName}/{filter}"
 * [MQTT 4.8.2]. Immutable; validated once in {@link #of(String)}.
 *
 * <p>Wildcards [MQTT 4.7.1]: '+' matches exactly one level (which may be empty), '#' matches any
 * number of levels including none, so "sport/#" matches "sport" as well as "sport/tennis". A filter
 * whose first level is a wildcard does not match a topic name starting with '$' [MQTT-4.7.2-1].
 *
 * <p>{@link #matches(TopicName)} is the plain reference implementation; routing goes through a
 * {@link TopicTrie}.
 */
public final class TopicFilter {
    static final String SHARE_PREFIX = "$share/";

    private final String value;
    private final String shareGroup;
    private final String filter;
    private final List<String> levels;
    private final boolean wildcards;

    private TopicFilter(String value, String shareGroup, String filter, String[] levels, boolean wildcards) {
        this.value = value;
        this.shareGroup = shareGroup;
        this.filter = filter;
        this.levels = List.of(levels);
        this.wildcards = wildcards;
    }

    /**
     * Validates and splits a topic filter.
     *
     * <p>A filter that starts with "$share/" is a shared subscription and must have the form
     * "$share/{ShareName}/{filter}"; "$share" alone or "$shared/x" are ordinary filters.
     *
     * @throws InvalidTopicException naming the rule broken: empty [MQTT-4.7.3-1], U+0000
     *         [MQTT-4.7.3-2], more than 65,535 UTF-8 bytes [MQTT-4.7.3-3], an unpaired surrogate
     *         [MQTT-1.5.4-1], a misplaced '#' [MQTT-4.7.1-1] or '+' [MQTT-4.7.1-2], a malformed
     *         shared subscription [MQTT-4.8.2-1], [MQTT-4.8.2-2]
     * @throws NullPointerException  if {@code value} is null
     */
    public static TopicFilter of(String value) {
        Topics.checkCommon(value, "topic filter");
        String group = null;
        String filter = value;
        if (value.startsWith(SHARE_PREFIX)) {
            int nameStart = SHARE_PREFIX.length();
            int slash = value.indexOf('/', nameStart);
            int nameEnd = slash < 0 ? value.length() : slash;
            // [MQTT-4.8.2-1] A Shared Subscription's Topic Filter MUST start with "$share/" and MUST
            // contain a ShareName that is at least one character long.
            if (nameEnd == nameStart) {
                throw new InvalidTopicException("MQTT-4.8.2-1",
                        "shared subscription has an empty ShareName: " + Topics.quote(value));
            }
            group = value.substring(nameStart, nameEnd);
            // [MQTT-4.8.2-2] The ShareName MUST NOT contain the characters "/", "+" or "#", but MUST
            // be followed by a "/" character. This "/" character MUST be followed by a Topic Filter.
            if (group.indexOf('+') >= 0 || group.indexOf('#') >= 0) {
                throw new InvalidTopicException("MQTT-4.8.2-2",
                        "ShareName must not contain '+' or '#': " + Topics.quote(value));
            }
            if (slash < 0) {
                throw new InvalidTopicException("MQTT-4.8.2-2",
                        "ShareName must be followed by '/' and a topic filter: " + Topics.quote(value));
            }
            if (slash == value.length() - 1) {
                throw new InvalidTopicException("MQTT-4.8.2-2",
                        "shared subscription has an empty topic filter: " + Topics.quote(value));
            }
            filter = value.substring(slash + 1);
        }
        String[] levels = Topics.split(filter);
        boolean wildcards = false;
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.indexOf('#') >= 0) {
                // [MQTT-4.7.1-1] The multi-level wildcard character MUST be specified either on its
                // own or following a topic level separator. In either case it MUST be the last
                // character specified in the Topic Filter.
                if (level.length() != 1 || i != levels.length - 1) {
                    throw new InvalidTopicException("MQTT-4.7.1-1",
                            "'#' must be alone in the last level: " + Topics.quote(value));
                }
                wildcards = true;
            } else if (level.indexOf('+') >= 0) {
                // [MQTT-4.7.1-2] The single-level wildcard can be used at any level in the Topic
                // Filter, including first and last levels. Where it is used, it MUST occupy an
                // entire level of the filter.
                if (level.length() != 1) {
                    throw new InvalidTopicException("MQTT-4.7.1-2",
                            "'+' must occupy an entire level: " + Topics.quote(value));
                }
                wildcards = true;
            }
        }
        return new TopicFilter(value, group, filter, levels, wildcards);
    }

    /** The filter as given, including any "$share/{ShareName}/" prefix. */
    public String value() {
        return value;
    }

    /** Whether this is a shared subscription "$share/{ShareName}/{filter}" [MQTT 4.8.2]. */
    public boolean isShared() {
        return shareGroup != null;
    }

    /** The ShareName of a shared subscription, or null if not shared. */
    public String shareGroup() {
        return shareGroup;
    }

    /** The topic filter proper: without the "$share/{ShareName}/" prefix; {@link #value()} if not shared. */
    public String filter() {
        return filter;
    }

    /** Whether {@link #filter()} contains '+' or '#'. */
    public boolean hasWildcards() {
        return wildcards;
    }

    /** The levels of {@link #filter()}, at least one, possibly empty strings; unmodifiable. */
    public List<String> levels() {
        return levels;
    }

    /**
     * Whether this filter matches the topic name. The reference implementation, level by level;
     * the broker routes through {@link TopicTrie#matchTopic}, which must agree with this.
     */
    public boolean matches(TopicName topic) {
        List<String> t = topic.levels();
        // [MQTT-4.7.2-1] The Server MUST NOT match Topic Filters starting with a wildcard character
        // (# or +) with Topic Names beginning with a $ character.
        if (topic.isSystem() && isWildcard(levels.get(0))) {
            return false;
        }
        int i = 0;
        for (; i < levels.size(); i++) {
            String level = levels.get(i);
            if (level.equals("#")) {
                // [MQTT 4.7.1.2] '#' matches the parent level too: "sport/#" matches "sport".
                return true;
            }
            if (i >= t.size()) {
                return false;
            }
            if (!level.equals("+") && !level.equals(t.get(i))) {
                return false;
            }
        }
        return i == t.size();
    }

    private static boolean isWildcard(String level) {
        return level.equals("+") || level.equals("#");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TopicFilter && ((TopicFilter) o).value.equals(value);
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
