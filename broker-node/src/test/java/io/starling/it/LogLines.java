package io.starling.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** The log lines of io.starling loggers in this JVM while open (nodes started in-process log through JUL). */
final class LogLines extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("io.starling");
    private final List<String> lines = new CopyOnWriteArrayList<>();

    LogLines() {
        logger.addHandler(this);
    }

    @Override
    public void publish(LogRecord r) {
        Object[] params = r.getParameters();
        String m = r.getMessage();
        if (params != null && m != null && m.contains("{0")) {
            m = java.text.MessageFormat.format(m, params);
        }
        lines.add(m);
    }

    /** The first line containing every part, waiting up to 5 s for it; null if none came. */
    String await(String... parts) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        do {
            for (String l : lines) {
                if (java.util.Arrays.stream(parts).allMatch(l::contains)) {
                    return l;
                }
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return null;
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
