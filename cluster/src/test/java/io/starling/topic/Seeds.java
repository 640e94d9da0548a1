package io.starling.topic;

/**
 * The seed of the randomized topic tests: a fixed default, so that a run is reproducible, or
 * {@code -Dstarling.seed=N} to explore (surefire passes it to the forked test JVM). Every
 * randomized assertion message carries the seed.
 */
final class Seeds {
    static final long DEFAULT_SEED = 0x5EED_7091CL;

    private Seeds() {
    }

    static long seed() {
        return Long.getLong("starling.seed", DEFAULT_SEED);
    }
}
