package io.starling.loadtest.compare;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The benchmark's certificates, made at run time in its temporary directory and never kept: a CA
 * and a server certificate for 127.0.0.1 and localhost signed by it, both with the same kind of
 * key (EC P-256 or RSA-2048), as PEM files that Starling and Mosquitto both read.
 */
record TlsFiles(String keyType, Path caFile, Path certFile, Path keyFile) {

    /** "ec" (P-256, ECDSA with SHA-256) or "rsa" (2048 bits, SHA-256 with RSA). */
    static TlsFiles generate(Path workDir, String keyType) throws IOException, GeneralSecurityException {
        Path dir = Files.createTempDirectory(workDir, "tls-" + keyType);
        KeyPair caKeys = keys(keyType);
        KeyPair serverKeys = keys(keyType);
        Instant now = Instant.now();
        X500Name caName = new X500Name("CN=Starling benchmark CA " + keyType);
        try {
            var ca = certificate(caName, caKeys, caName, caKeys, true, now, null);
            var server = certificate(caName, caKeys, new X500Name("CN=localhost"), serverKeys, false, now,
                    new GeneralNames(new GeneralName[] {new GeneralName(GeneralName.dNSName, "localhost"),
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            TlsFiles f = new TlsFiles(keyType, dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"));
            Files.writeString(f.caFile, pem(ca));
            Files.writeString(f.certFile, pem(server));
            Files.writeString(f.keyFile, pem(new JcaPKCS8Generator(serverKeys.getPrivate(), null).generate()));
            return f;
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** What the report says about the key, e.g. "EC P-256". */
    String description() {
        return keyType.equals("rsa") ? "RSA-2048" : "EC P-256";
    }

    private static KeyPair keys(String keyType) throws GeneralSecurityException {
        if (keyType.equals("rsa")) {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        }
        if (!keyType.equals("ec")) {
            throw new IllegalArgumentException("key type must be ec or rsa, not " + keyType);
        }
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static java.security.cert.X509Certificate certificate(X500Name issuer, KeyPair issuerKeys, X500Name subject,
            KeyPair subjectKeys, boolean isCa, Instant now, GeneralNames sans)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(now.toEpochMilli()
                + (isCa ? 0 : 1)), Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(7))),
                subject, subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(isCa ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        String alg = issuerKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder(alg).build(issuerKeys.getPrivate())));
    }

    private static String pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(o);
        }
        return s.toString();
    }
}
