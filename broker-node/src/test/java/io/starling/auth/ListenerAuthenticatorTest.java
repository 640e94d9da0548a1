package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.config.ListenerConfig;
import io.starling.config.TlsSettings;
import io.starling.protocol.ReasonCode;
import io.starling.tls.TestPki;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What each listener asks of a client, before and instead of the password file. */
class ListenerAuthenticatorTest {
    static ListenerConfig tls(boolean anonymous, TlsSettings.ClientAuth clientAuth, TlsSettings.Identity identity) {
        return new ListenerConfig(ListenerConfig.Kind.TLS, "0.0.0.0", 8883, null, false, anonymous, 0,
                new TlsSettings("c", "k", "", "", "", "ca", clientAuth, identity, "1.2", List.of(), "jdk"));
    }

    /** A password check that knows one user, "alice" with "pw". */
    static final Authenticator PASSWORDS = c -> Future.succeededFuture(
            "alice".equals(c.username()) && "pw".equals(new String(c.password(), StandardCharsets.UTF_8))
                    ? Authenticator.Decision.allow("auth.password-file", "hash-1")
                    : Authenticator.Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.password-file", "no"));

    static Authenticator.Decision decide(Authenticator a, String user, String password, X509Certificate cert) {
        return a.authenticate(new Authenticator.Credentials("c1", user,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), "127.0.0.1:1", cert)).result();
    }

    @Test
    void aCertificateIdentityIsTheUsernameAndNeedsNoPassword() throws Exception {
        X509Certificate cert = TestPki.client(TestPki.ca("ca"), "CN=device-9").certificate();
        var a = new ListenerAuthenticator(tls(false, TlsSettings.ClientAuth.REQUIRED, TlsSettings.Identity.CN), PASSWORDS);
        Authenticator.Decision d = decide(a, "whatever-it-says", null, cert);
        assertTrue(d.allowed());
        assertEquals("device-9", d.username(), "the certificate's CN replaces the CONNECT's username");
        assertTrue(a.stillAllowed("device-9", d.grant()), "a password reload does not touch certificate clients");
        X509Certificate noCn = TestPki.client(TestPki.ca("ca"), "O=nameless").certificate();
        Authenticator.Decision refused = decide(a, null, null, noCn);
        assertFalse(refused.allowed());
        assertEquals(ReasonCode.NOT_AUTHORIZED, refused.reasonCode());
    }

    @Test
    void withoutAnIdentityTheCertificateAndThePasswordFileBothCount() throws Exception {
        X509Certificate cert = TestPki.client(TestPki.ca("ca"), "CN=device-9").certificate();
        var a = new ListenerAuthenticator(tls(false, TlsSettings.ClientAuth.REQUIRED, TlsSettings.Identity.NONE), PASSWORDS);
        assertTrue(decide(a, "alice", "pw", cert).allowed());
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, decide(a, "alice", "wrong", cert).reasonCode());
        assertEquals(ReasonCode.NOT_AUTHORIZED, decide(a, null, null, cert).reasonCode(), "no username, anonymous off");
        var certificatesOnly = new ListenerAuthenticator(tls(false, TlsSettings.ClientAuth.REQUIRED, TlsSettings.Identity.NONE), null);
        assertTrue(decide(certificatesOnly, "anyone", null, cert).allowed(), "no password file: the certificate suffices");
    }

    @Test
    void optionalCertificatesFallBackToPasswordsAndAnonymity() throws Exception {
        var a = new ListenerAuthenticator(tls(false, TlsSettings.ClientAuth.OPTIONAL, TlsSettings.Identity.CN), PASSWORDS);
        assertTrue(decide(a, "alice", "pw", null).allowed());
        assertEquals(ReasonCode.NOT_AUTHORIZED, decide(a, null, null, null).reasonCode());
        var open = new ListenerAuthenticator(tls(true, TlsSettings.ClientAuth.OPTIONAL, TlsSettings.Identity.CN), null);
        assertTrue(decide(open, null, null, null).allowed());
        var closed = new ListenerAuthenticator(tls(false, TlsSettings.ClientAuth.OPTIONAL, TlsSettings.Identity.NONE), null);
        assertEquals(ReasonCode.NOT_AUTHORIZED, decide(closed, "bob", null, null).reasonCode(),
                "no certificate and no password file to check bob against");
    }

    @Test
    void aPlainListenerLetsAnonymousClientsInOnlyWhereAllowed() {
        var closed = new ListenerAuthenticator(new ListenerConfig(ListenerConfig.Kind.TCP, "0.0.0.0", 1883, null, false,
                false, 0, null), PASSWORDS);
        assertEquals(ReasonCode.NOT_AUTHORIZED, decide(closed, null, null, null).reasonCode());
        assertTrue(decide(closed, "alice", "pw", null).allowed());
        var open = new ListenerAuthenticator(new ListenerConfig(ListenerConfig.Kind.WS, "0.0.0.0", 8083, "/mqtt", false,
                true, 0, null), PASSWORDS);
        assertTrue(decide(open, null, null, null).allowed());
        assertFalse(decide(open, "alice", "wrong", null).allowed(), "a username given is still checked");
    }
}
