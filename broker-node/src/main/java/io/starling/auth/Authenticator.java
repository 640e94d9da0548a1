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
    record Decision(boolean allowed, int reasonCode, String rule, String why, String grant) {
        public static Decision allow(String rule) {
            return allow(rule, null);
        }

        /** @param grant what the permission rests on, for {@link #stillAllowed} (e.g. the user's hash) */
        public static Decision allow(String rule, String grant) {
            return new Decision(true, 0, rule, "", grant);
        }

        public static Decision refuse(int reasonCode, String rule, String why) {
            return new Decision(false, reasonCode, rule, why, null);
        }
    }

    Future<Decision> authenticate(Credentials credentials);

    /**
     * After the authenticator's files were reloaded: whether a client connected as {@code
     * username} on the strength of {@code grant} may stay. Cheap, called for every connected client.
     */
    default boolean stillAllowed(String username, String grant) {
        return true;
    }

    /** Every client: a listener with no authentication, where anonymous clients are allowed. */
    Authenticator ANYONE = c -> Future.succeededFuture(Decision.allow("no authentication configured"));
}
