package io.starling.protocol;

/**
 * A peer broke a rule of the specification. Carries the 5.0 reason code the broker answers with
 * (MALFORMED_PACKET, PROTOCOL_ERROR, PACKET_TOO_LARGE, ...) and the normative statement broken, so
 * that the one disconnect path can log, count and answer it without knowing where it was found.
 */
public final class ProtocolViolation extends Exception {
    private final int reasonCode;
    private final String rule;

    /**
     * @param reasonCode the 5.0 reason code to answer with
     * @param rule       the normative statement, e.g. "MQTT-1.5.4-1", or a spec section
     * @param message    what was wrong, for the log line
     */
    public ProtocolViolation(int reasonCode, String rule, String message) {
        super(message, null, false, false);
        this.reasonCode = reasonCode;
        this.rule = rule;
    }

    public int reasonCode() {
        return reasonCode;
    }

    public String rule() {
        return rule;
    }

    public static ProtocolViolation malformed(String rule, String message) {
        return new ProtocolViolation(ReasonCode.MALFORMED_PACKET, rule, message);
    }

    public static ProtocolViolation protocolError(String rule, String message) {
        return new ProtocolViolation(ReasonCode.PROTOCOL_ERROR, rule, message);
    }

    @Override
    public String toString() {
        return "[" + rule + "] " + getMessage() + " (" + ReasonCode.name(reasonCode) + ")";
    }
}
