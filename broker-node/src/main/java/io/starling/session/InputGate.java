package io.starling.session;

/**
 * Whether a connection's input is read, with the reasons to stop kept apart so that one reason's
 * end does not resume reading while another still holds: a CONNECT waiting for its session,
 * QoS 0 flow control ({@link QosZeroPause}), a 3.1.1 publisher with as many unacknowledged
 * QoS 1/2 publishes as the broker's Receive Maximum, a client over its rates ({@link RatePause}), and a publish or subscribe waiting for the HTTP hook's answer. Confined to the connection's context.
 */
final class InputGate {
    static final int CONNECTING = 1;
    static final int QOS0_PAUSE = 2;
    static final int UNACKNOWLEDGED = 4;
    static final int OVER_RATE = 8;
    static final int AUTHORIZING = 16;

    private final Runnable pause;
    private final Runnable resume;
    private int reasons;

    InputGate(Runnable pause, Runnable resume) {
        this.pause = pause;
        this.resume = resume;
    }

    void close(int reason) {
        if (reasons == 0) {
            pause.run();
        }
        reasons |= reason;
    }

    void open(int reason) {
        if ((reasons & reason) == 0) {
            return;
        }
        reasons &= ~reason;
        if (reasons == 0) {
            resume.run();
        }
    }

    boolean closedFor(int reason) {
        return (reasons & reason) != 0;
    }
}
