package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.starling.config.TlsSettings.Identity;
import io.starling.tls.TestPki;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.Test;

/** Each kind of identity a client certificate gives, as Mosquitto and EMQX take them. */
class CertificateIdentityTest {
    @Test
    void everyKind() throws Exception {
        X509Certificate cert = TestPki.client(TestPki.ca("ca"), "CN=device-7,OU=sensors,O=Acme\\, Inc.,C=DE",
                new GeneralName(GeneralName.dNSName, "device-7.acme.example"),
                new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://acme/device-7"),
                new GeneralName(GeneralName.rfc822Name, "device-7@acme.example")).certificate();
        assertEquals("device-7", CertificateIdentity.of(cert, Identity.CN));
        assertEquals("CN=device-7,OU=sensors,O=Acme\\, Inc.,C=DE", CertificateIdentity.of(cert, Identity.DN));
        assertEquals("device-7.acme.example", CertificateIdentity.of(cert, Identity.SAN_DNS));
        assertEquals("spiffe://acme/device-7", CertificateIdentity.of(cert, Identity.SAN_URI));
        assertEquals("device-7@acme.example", CertificateIdentity.of(cert, Identity.SAN_EMAIL));
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded())),
                CertificateIdentity.of(cert, Identity.SHA256));
    }

    @Test
    void theMostSpecificCommonNameAndMissingKinds() throws Exception {
        X509Certificate cert = TestPki.client(TestPki.ca("ca"), "CN=outer,O=x,CN=inner").certificate();
        // The first CN in the certificate (the rightmost in RFC 2253), as Mosquitto takes it.
        assertEquals("inner", CertificateIdentity.of(cert, Identity.CN));
        assertNull(CertificateIdentity.of(cert, Identity.SAN_DNS));
        X509Certificate noCn = TestPki.client(TestPki.ca("ca"), "O=no common name").certificate();
        assertNull(CertificateIdentity.of(noCn, Identity.CN));
    }
}
