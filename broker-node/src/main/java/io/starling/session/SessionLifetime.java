package io.starling.session;

import io.starling.protocol.Connect;

/**
 * Decides when a session's Will Message is published and when the session ends (spec 3.1.2.5,
 * 3.1.2.11.2, 3.1.3.2.2). It does no I/O and knows nothing of timers: each event returns a
 * {@link Plan} that {@link SessionRef} carries out, and a timer it asked for comes back as
 * {@link #timerFired}.
 *
 * <p>Only intervals and the order of events matter here, never the time of day, so no clock is
 * needed: a timer asked for {@code d} ms after the connection was lost fires {@code d} ms later.
 *
 * <p>Every connection starts a new generation. A timer carries the generation it was armed in, so one
 * that fires after a later connection (its cancellation raced with its firing) does nothing.
 *
 * <p>Not thread-safe: confined to the session's context, like the rest of the session state.
 */
final class SessionLifetime {
    /** A Session Expiry Interval of 0xFFFFFFFF means the session does not expire (spec 3.1.2.11.2). */
    static final long NEVER_EXPIRES = 0xFFFF_FFFFL;

    enum Kind { WILL_DELAY, SESSION_EXPIRY }

    /** A timer to arm: when it fires, pass it back to {@link #timerFired}. */
    record Timer(Kind kind, long delayMillis, int generation) {
    }

    /**
     * What to do, in this order: cancel the timers armed so far, publish {@code will}, end the session,
     * arm {@code willTimer} and {@code expiryTimer}. Absent parts are null or false.
     */
    record Plan(boolean cancelTimers, Connect.Will will, boolean endSession, Timer willTimer, Timer expiryTimer) {
        static final Plan NOTHING = new Plan(false, null, false, null, null);
    }

    private Connect.Will will; // of the current connection, or pending after it was lost
    private int generation;
    private boolean connected;
    private boolean ended;

    /**
     * A connection claims the session.
     *
     * @param existing  the session exists already (it was not created for this connection)
     * @param takeover  the session is still attached to another connection, which is being closed
     * @param cleanStart the new connection asked for Clean Start
     * @param newWill   the new connection's will, or null
     */
    Plan connected(boolean existing, boolean takeover, boolean cleanStart, Connect.Will newWill) {
        Connect.Will publish = null;
        if (will != null) {
            if (takeover && willDelaySeconds(will) == 0) {
                // [MQTT-3.1.4-3] the old connection is closed; its will goes out as in spec 3.1.2.5.
                publish = will;
            } else if (existing && cleanStart) {
                // The old session ends, so its will goes out now, delay or not (spec 3.1.3.2.2).
                publish = will;
            }
            // Otherwise the session is resumed within the Will Delay Interval: [MQTT-3.1.3-9] no will.
        }
        will = newWill;
        generation++;
        connected = true;
        ended = false;
        // Clean Start: [MQTT-3.1.2-4] the existing session is discarded and a new one starts.
        return new Plan(true, publish, existing && cleanStart, null, null);
    }

    /**
     * The connection holding the session closed.
     *
     * @param publishWill  false after a DISCONNECT that discards the will
     * @param expirySeconds the Session Expiry Interval now in force
     */
    Plan connectionLost(boolean publishWill, long expirySeconds) {
        connected = false;
        if (!publishWill) {
            will = null; // [MQTT-3.1.2-10] a normal DISCONNECT discards the will
        }
        Connect.Will publish = null;
        Timer willTimer = null;
        if (will != null) {
            // Spec 3.1.3.2.2: the will waits for its delay or the end of the session, whichever comes first.
            long delay = Math.min(willDelaySeconds(will), expirySeconds);
            if (delay == 0) {
                publish = will;
                will = null;
            } else {
                willTimer = new Timer(Kind.WILL_DELAY, delay * 1000, generation);
            }
        }
        if (expirySeconds == 0) {
            ended = true; // [MQTT-3.1.2-23] Session Expiry Interval 0: the session ends with the connection
            return new Plan(true, publish, true, null, null);
        }
        Timer expiryTimer = expirySeconds < NEVER_EXPIRES
                ? new Timer(Kind.SESSION_EXPIRY, expirySeconds * 1000, generation)
                : null; // spec 3.1.2.11.2: 0xFFFFFFFF never expires
        return new Plan(false, publish, false, willTimer, expiryTimer);
    }

    /** A timer from an earlier plan fired. */
    Plan timerFired(Timer timer) {
        if (timer.generation() != generation || connected || ended) {
            return Plan.NOTHING; // armed for an earlier connection, or the session is gone
        }
        if (timer.kind() == Kind.WILL_DELAY) {
            if (will == null) {
                return Plan.NOTHING;
            }
            Connect.Will publish = will;
            will = null;
            return new Plan(false, publish, false, null, null); // [MQTT-3.1.2-8] the delay has elapsed
        }
        Connect.Will publish = will; // the session ends before the will delay: the will goes now (3.1.3.2.2)
        will = null;
        ended = true;
        return new Plan(true, publish, true, null, null);
    }

    /** The will of the current connection, or the one still pending after it was lost; null if none. */
    Connect.Will will() {
        return will;
    }

    /** The Will Delay Interval in seconds, 0 when absent (spec 3.1.3.2.2). */
    static long willDelaySeconds(Connect.Will w) {
        Long d = w.properties() == null ? null : w.properties().willDelayInterval;
        return d == null ? 0 : d;
    }
}
