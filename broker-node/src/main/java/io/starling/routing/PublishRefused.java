package io.starling.routing;

/**
 * A QoS 1/2 message the broker could not take for every session that matches it: a store write
 * failed, a bound was reached, no node confirmed a forward. The publisher must not get a success
 * code (issue 9): MQTT 5.0 gets {@link #reasonCode()} in its PUBACK/PUBREC, 3.1.1 has its
 * connection closed without one, so that it resends.
 */
public final class PublishRefused extends RuntimeException {
    private final int reasonCode;

    /** @param reasonCode a 5.0 PUBACK/PUBREC reason code of 0x80 or above, e.g. 0x97 quota exceeded */
    public PublishRefused(int reasonCode, String why) {
        super(why, null, false, false);
        this.reasonCode = reasonCode;
    }

    public int reasonCode() {
        return reasonCode;
    }

    /** The reason code a publisher gets for any failure of the routing of its message. */
    public static int reasonCodeOf(Throwable failure) {
        return failure instanceof PublishRefused r ? r.reasonCode : io.starling.protocol.ReasonCode.UNSPECIFIED_ERROR;
    }
}
