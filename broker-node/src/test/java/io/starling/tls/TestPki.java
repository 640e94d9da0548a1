package io.starling.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
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
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made by the tests, never kept: a CA, server and client certificates signed by it,
 * written as PEM (and PKCS#12) files the way openssl or cert-manager would write them.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A key pair and its certificate; {@link #issuer} is null for a self-signed CA. */
    public record Issued(KeyPair keys, X509Certificate certificate, Issued issuer) {
        public List<X509Certificate> chain() {
            List<X509Certificate> c = new ArrayList<>();
            for (Issued i = this; i != null; i = i.issuer) {
                c.add(i.certificate);
            }
            return c;
        }

        /** Writes {@code name}.crt (chain without the root) and {@code name}.key (PKCS#8) into dir. */
        public Path[] write(Path dir, String name) throws IOException {
            Path crt = dir.resolve(name + ".crt");
            Path key = dir.resolve(name + ".key");
            List<X509Certificate> chain = chain();
            Files.writeString(crt, pem(chain.subList(0, Math.max(1, chain.size() - 1)).toArray()));
            Files.writeString(key, pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate()));
            return new Path[] {crt, key};
        }
    }

    private TestPki() {
    }

    public static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        return g.generateKeyPair();
    }

    public static KeyPair ec() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    public static Issued ca(String cn) throws Exception {
        KeyPair keys = ec();
        return new Issued(keys, sign(name("CN=" + cn + ",O=Starling tests"), keys, null, keys.getPublic(), true,
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), null), null);
    }

    /** A leaf certificate for {@code subject} (e.g. "CN=device-1,O=Acme") with the given SANs. */
    public static Issued leaf(Issued ca, String subject, KeyPair keys, Instant from, Instant until, GeneralName... sans)
            throws Exception {
        return new Issued(keys, sign(name(subject), ca.keys(), ca.certificate(), keys.getPublic(), false, from, until,
                sans.length == 0 ? null : new GeneralNames(sans)), ca);
    }

    /** A server certificate for localhost and 127.0.0.1, valid now. */
    public static Issued server(Issued ca, String cn) throws Exception {
        return leaf(ca, "CN=" + cn, rsa(), Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)),
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
    }

    public static Issued client(Issued ca, String subject, GeneralName... sans) throws Exception {
        return leaf(ca, subject, ec(), Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), sans);
    }

    /** An RFC 2253 name as openssl -subj would encode it: the rightmost part first in the certificate. */
    static X500Name name(String rfc2253) {
        return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
    }

    private static X509Certificate sign(X500Name subject, KeyPair signer, X509Certificate issuerCert,
                                        java.security.PublicKey subjectKey, boolean isCa, Instant from, Instant until,
                                        GeneralNames sans) throws Exception {
        X500Name issuer = issuerCert == null ? subject : X500Name.getInstance(issuerCert.getSubjectX500Principal().getEncoded());
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(from), Date.from(until), subject, subjectKey);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(isCa ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        if (sans != null) {
            b.addExtension(Extension.subjectAlternativeName, false, sans);
        }
        String alg = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        ContentSigner cs = new JcaContentSignerBuilder(alg).build(signer.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(b.build(cs));
    }

    public static String pem(Object... objects) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        }
        return s.toString();
    }

    /** The key as OpenSSL's traditional form ("BEGIN RSA PRIVATE KEY" / "BEGIN EC PRIVATE KEY"). */
    public static String traditional(PrivateKey key) throws IOException {
        return pem(key);
    }

    /** The key as encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY"). */
    public static String encrypted(PrivateKey key, String password) throws Exception {
        var enc = new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                .setPassword(password.toCharArray()).build();
        return pem(new JcaPKCS8Generator(key, enc).generate());
    }

    public static Path pkcs12(Issued leaf, Path file, String password) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", leaf.keys().getPrivate(), password.toCharArray(),
                leaf.chain().toArray(new X509Certificate[0]));
        try (var out = Files.newOutputStream(file)) {
            ks.store(out, password.toCharArray());
        }
        return file;
    }

    public static Path writeCa(Issued ca, Path file) throws IOException {
        Files.writeString(file, pem(ca.certificate()));
        return file;
    }
}
