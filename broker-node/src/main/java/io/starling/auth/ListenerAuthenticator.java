package io.starling.auth;

import io.starling.config.ListenerConfig;
import io.starling.config.TlsSettings;
import io.starling.protocol.ReasonCode;
import io.vertx.core.Future;
import java.security.cert.X509Certificate;

/**
 * What one listener asks of its clients, in front of the node's password check: a verified client
 * certificate, where the listener takes the username from it, is the whole authentication (as
 * Mosquitto's {@code use_identity_as_username}); a client without a username is let in only where
 * the listener allows anonymous clients; the rest goes to the node's authenticator (the password
 * file), or, without one, in only where a certificate or the listener's anonymity allows it. A
 * certificate CN that a TLS-terminating proxy verified (PROXY v2) counts as a certificate would.
 */
public final class ListenerAuthenticator implements Authenticator {
    /** The grant of a client let in by its certificate: stays across password reloads. */
    static final String CERTIFICATE = "certificate";
    static final String ANONYMOUS = "anonymous";

    private final ListenerConfig listener;
    private final Authenticator passwords;
    private final TlsSettings.Identity identity;

    /** @param passwords the node's authenticator, or null without a password file */
    public ListenerAuthenticator(ListenerConfig listener, Authenticator passwords) {
        this.listener = listener;
        this.passwords = passwords;
        this.identity = listener.tls() == null ? TlsSettings.Identity.NONE : listener.tls().identity();
    }

    @Override
    public Future<Decision> authenticate(Credentials c) {
        X509Certificate cert = c.certificate();
        String rule = "listener." + listener.name();
        if (identity != TlsSettings.Identity.NONE && cert != null) {
            String name = CertificateIdentity.of(cert, identity);
            if (name == null || name.isEmpty()) {
                return Future.succeededFuture(Decision.refuse(ReasonCode.NOT_AUTHORIZED, rule + ".identity",
                        "the client certificate (" + cert.getSubjectX500Principal().getName() + ") has no "
                                + identity.name().toLowerCase().replace('_', '-') + " to take the username from"));
            }
            return Future.succeededFuture(Decision.allow(rule + ".identity", CERTIFICATE).as(name));
        }
        if (listener.proxyIdentity() && c.proxiedCertificateCn() != null && !c.proxiedCertificateCn().isEmpty()) {
            // The proxy terminated TLS and verified the certificate; the listener trusts its header.
            return Future.succeededFuture(Decision.allow(rule + ".proxy-identity", CERTIFICATE).as(c.proxiedCertificateCn()));
        }
        if (c.username() == null && !(c.password() != null && passwords != null && passwords.readsPasswordWithoutUsername())) {
            return Future.succeededFuture(listener.allowAnonymous() ? Decision.allow(rule + ".allow-anonymous", ANONYMOUS)
                    : Decision.refuse(ReasonCode.NOT_AUTHORIZED, rule + ".allow-anonymous",
                            "no username, and anonymous clients are not allowed on the " + listener.name() + " listener"));
        }
        if (passwords != null) {
            return passwords.authenticate(c);
        }
        if (cert != null || listener.allowAnonymous()) {
            // No password file: a username is a name, not a proof; the certificate or the listener's openness lets it in.
            return Future.succeededFuture(Decision.allow(cert != null ? rule + ".client-auth" : rule + ".allow-anonymous",
                    ANONYMOUS));
        }
        return Future.succeededFuture(Decision.refuse(ReasonCode.NOT_AUTHORIZED, rule + ".client-auth",
                "no client certificate, and no password file to check the username against"));
    }

    @Override
    public boolean stillAllowed(String username, String grant) {
        if (CERTIFICATE.equals(grant) || ANONYMOUS.equals(grant)) {
            return true; // neither rests on a file that reloads
        }
        return passwords == null || passwords.stillAllowed(username, grant);
    }
}
