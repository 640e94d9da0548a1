package io.starling.auth;

/** Runs starling-passwd in this JVM for tests in other packages (its class is package-private to run). */
public final class PasswdCommandTestAccess {
    private PasswdCommandTestAccess() {
    }

    public static int run(String... args) {
        return new PasswdCommand(System.out, System.err, p -> null).run(args);
    }
}
