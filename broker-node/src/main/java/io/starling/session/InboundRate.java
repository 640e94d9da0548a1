package io.starling.session;

/**
 * One client's allowance of PUBLISH packets and bytes per second (limits.client-messages-rate,
 * limits.client-bytes-rate, or its listener's): two token buckets, each holding one second's
 * worth, kept as the time at which each would be empty (the generic cell rate algorithm), so a
 * take is a few additions and no timer runs while the client keeps within them.
 *
 * <p>A publish is taken even when the buckets cannot cover it: the client then owes the
 * difference, the connection stops being read until the debt is paid, and its QoS 1/2
 * acknowledgements go out only then. Only what a client sends while owing more than a second's
 * worth is not taken (QoS 0 is dropped there); that can only be what one socket read already held
 * when the pause began. Bytes are the topic's and the payload's: what the broker routes and
 * stores. Confined to the connection's context.
 */
final class InboundRate {
    static final long BURST_NANOS = 1_000_000_000L;

    /** Which bucket a client is over. */
    enum Limit {
        MESSAGES("client-messages-rate"), BYTES("client-bytes-rate");

        final String key;

        Limit(String key) {
            this.key = key;
        }
    }

    private final double nanosPerMessage;
    private final double nanosPerByte;
    private long messagesEmptyAt = Long.MIN_VALUE / 4;
    private long bytesEmptyAt = Long.MIN_VALUE / 4;

    private InboundRate(long messagesPerSecond, long bytesPerSecond) {
        this.nanosPerMessage = messagesPerSecond > 0 ? (double) BURST_NANOS / messagesPerSecond : 0;
        this.nanosPerByte = bytesPerSecond > 0 ? (double) BURST_NANOS / bytesPerSecond : 0;
    }

    /** The allowance, or null when neither rate is limited (0), which costs a connection nothing. */
    static InboundRate of(long messagesPerSecond, long bytesPerSecond) {
        return messagesPerSecond <= 0 && bytesPerSecond <= 0 ? null : new InboundRate(messagesPerSecond, bytesPerSecond);
    }

    /**
     * Takes a publish of {@code bytes} at {@code now} (System.nanoTime()).
     *
     * @param mustTake a QoS 1/2 publish, which is never refused here (its acknowledgement waits instead)
     * @return -1 when refused (owing more than a second's worth and not {@code mustTake}), else the
     *         nanoseconds until the client owes nothing again (0: within its rates)
     */
    long take(int bytes, long now, boolean mustTake) {
        long floor = now - BURST_NANOS;
        long m = Math.max(messagesEmptyAt, floor);
        long b = Math.max(bytesEmptyAt, floor);
        if (!mustTake && (m - now > BURST_NANOS || b - now > BURST_NANOS)) {
            return -1;
        }
        if (nanosPerMessage > 0) {
            messagesEmptyAt = m + (long) nanosPerMessage;
        }
        if (nanosPerByte > 0) {
            bytesEmptyAt = b + (long) (nanosPerByte * bytes);
        }
        return owed(now);
    }

    /** Nanoseconds until the client owes nothing (0: it owes nothing now). */
    long owed(long now) {
        long until = Math.max(nanosPerMessage > 0 ? messagesEmptyAt : Long.MIN_VALUE,
                nanosPerByte > 0 ? bytesEmptyAt : Long.MIN_VALUE);
        return Math.max(0, until - now);
    }

    /** The bucket the client owes most to, for the log line and the metric label. */
    Limit over() {
        if (nanosPerByte <= 0) {
            return Limit.MESSAGES;
        }
        if (nanosPerMessage <= 0) {
            return Limit.BYTES;
        }
        return messagesEmptyAt >= bytesEmptyAt ? Limit.MESSAGES : Limit.BYTES;
    }
}
