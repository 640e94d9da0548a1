package io.starling.auth;

import io.vertx.core.Future;

/**
 * Decides whether a CONNECT's client may connect, as who. Called on the connection's event loop;
 * an implementation that is slow (a password hash, an HTTP call) does its work elsewhere and
 * completes the future later, and the connection reads nothing more meanwhile. One that can
 * answer at once returns a completed future, so the CONNECT goes on in the same task.
 */
public interface Authenticator {
    /** What a CONNECT says of its client, and where it comes from. */
    record Credentials(String clientId, String username, byte[] password, String remoteAddress) {
    }

    /**
     * The decision: allowed, or the CONNACK reason code (5.0; the connection maps it for 3.1.1),
     * the rule that decided (for the log line and nothing else) and why, never the password.
     */
    record Decision(boolean allowed, int reasonCode, String rule, String why) {
        public static Decision allow(String rule) {
            return new Decision(true, 0, rule, "");
        }

        public static Decision refuse(int reasonCode, String rule, String why) {
            return new Decision(false, reasonCode, rule, why);
        }
    }

    Future<Decision> authenticate(Credentials credentials);

    /** Every client: a listener with no authentication, where anonymous clients are allowed. */
    Authenticator ANYONE = c -> Future.succeededFuture(Decision.allow("no authentication configured"));
}
