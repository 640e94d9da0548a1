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
    record Credentials(String clientId, String username, byte[] password, String remoteAddress,
                       java.security.cert.X509Certificate certificate, String proxiedCertificateCn) {
        public Credentials(String clientId, String username, byte[] password, String remoteAddress) {
            this(clientId, username, password, remoteAddress, null, null);
        }

        public Credentials(String clientId, String username, byte[] password, String remoteAddress,
                           java.security.cert.X509Certificate certificate) {
            this(clientId, username, password, remoteAddress, certificate, null);
        }
    }

    /**
     * The decision: allowed, or the CONNACK reason code (5.0; the connection maps it for 3.1.1),
     * the rule that decided (for the log line and nothing else) and why, never the password; the
     * username the client is known by where it is not its CONNECT's (null: that one); rights that
     * came with the proof (a token's acl claim, a hook's answer; null: none), checked beside the
     * ACL file's; and when the proof runs out (epoch milliseconds, a token's exp; 0: never).
     */
    record Decision(boolean allowed, int reasonCode, String rule, String why, String grant, String username,
                    Acl rights, long expiresAtMillis) {
        public Decision(boolean allowed, int reasonCode, String rule, String why, String grant) {
            this(allowed, reasonCode, rule, why, grant, null, null, 0);
        }

        /** The same decision, the client known as {@code name} (e.g. from its certificate) rather than by its CONNECT's username. */
        public Decision as(String name) {
            return new Decision(allowed, reasonCode, rule, why, grant, name, rights, expiresAtMillis);
        }

        /** The same decision with rights of its own, to be checked beside the ACL file's. */
        public Decision withRights(Acl acl) {
            return new Decision(allowed, reasonCode, rule, why, grant, username, acl, expiresAtMillis);
        }

        /** The same decision, valid until {@code epochMillis} (0: for as long as the connection lasts). */
        public Decision until(long epochMillis) {
            return new Decision(allowed, reasonCode, rule, why, grant, username, rights, epochMillis);
        }

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

    /** A password alone (5.0 allows one without a username) is a proof here, e.g. a JWT; otherwise such a client is anonymous. */
    default boolean readsPasswordWithoutUsername() {
        return false;
    }
}
