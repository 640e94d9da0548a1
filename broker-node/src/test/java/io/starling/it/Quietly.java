package io.starling.it;

/** Pauses for the load tests' threads, which have nowhere to throw an interruption. */
final class Quietly {
    private Quietly() {
    }

    /** Sleeps; an interruption ends the sleep early and stays set on the thread. */
    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
