package io.starling;

import java.util.logging.LogManager;

/**
 * java.util.logging's LogManager closes every handler in a shutdown hook of its own, which runs
 * alongside the node's: every line a graceful leave (SIGTERM) logged was lost, so an operator could
 * not see what the leave did. This one keeps its handlers until the node has left
 * ({@link #leaveDone}). Chosen by {@link Main} before anything logs.
 */
public final class ShutdownLogManager extends LogManager {
    private static volatile boolean leaving = true;

    @Override
    public void reset() {
        if (!leaving) {
            super.reset();
        }
    }

    /** The node has left: logging may now shut down as usual. */
    static void leaveDone() {
        leaving = false;
        LogManager m = LogManager.getLogManager();
        if (m instanceof ShutdownLogManager) {
            m.reset();
        }
    }
}
