package io.starling.topic;

/**
 * A topic name or topic filter broke a rule of the specification. Carries the normative statement
 * broken (e.g. "MQTT-4.7.3-1") so that the caller can log it and pick the reason code to answer
 * with (0x90 Topic Name invalid, 0x8F Topic Filter invalid, 0x9E Shared Subscriptions not
 * supported, ...) without parsing the message.
 *
 * <p>No stack trace is recorded: this is raised on input from clients, on the publish path, and the
 * interesting part is the rule, not where it was checked.
 */
public final class InvalidTopicException extends IllegalArgumentException {
    private final String rule;

    /**
     * @param rule    the normative statement, e.g. "MQTT-4.7.3-1", or a spec section
     * @param message what was wrong, for the log line
     */
    public InvalidTopicException(String rule, String message) {
        super(message);
        this.rule = rule;
    }

    /** The normative statement broken, e.g. "MQTT-4.7.1-1". */
    public String rule() {
        return rule;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    @Override
    public String toString() {
        return "[" + rule + "] " + getMessage();
    }
}
