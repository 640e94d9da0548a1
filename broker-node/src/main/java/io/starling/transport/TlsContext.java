package io.starling.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.starling.config.ConfigException;
import io.starling.config.TlsSettings;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS listener's server context, built from its files and rebuilt when they change. A new
 * context serves new connections only: established ones keep the session they negotiated. A file
 * that cannot be used (unreadable, not PEM, a key that is not the certificate's) is refused at
 * start-up and, on a reload, logged while the old context stays: a half-written renewal must not
 * take the listener down.
 */
public final class TlsContext {
    private static final Logger log = LoggerFactory.getLogger(TlsContext.class);
    /** For OpenSSL's key encryptions the JDK lacks (AES-CBC with PKCS#7 padding); not installed JVM-wide. */
    private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

    private final String listener;
    private final TlsSettings settings;
    private volatile SslContext current;
    private volatile X509Certificate serving;

    /** @throws ConfigException when the files do not make a context */
    public TlsContext(String listener, TlsSettings settings) {
        this.listener = listener;
        this.settings = settings;
        try {
            install(build(settings));
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new ConfigException("the " + listener + " listener's TLS settings do not make a server context: " + e.getMessage());
        }
        log.info("{} listener: TLS by {}", listener, implementation(settings.provider()));
    }

    /** What does the handshakes, for the start-up log: "OpenSSL (BoringSSL)" or "the JDK (SunJSSE)". */
    static String implementation(String provider) {
        if (provider.equals("openssl")) {
            return "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative)";
        }
        javax.net.ssl.SSLContext jdk;
        try {
            jdk = javax.net.ssl.SSLContext.getDefault();
        } catch (GeneralSecurityException e) {
            return "the JDK";
        }
        return "the JDK (" + jdk.getProvider().getName() + ")";
    }

    public SslContext current() {
        return current;
    }

    /** The certificate new connections are served. */
    public X509Certificate certificate() {
        return serving;
    }

    public TlsSettings settings() {
        return settings;
    }

    /** Rebuilds from the files as they are now; on failure logs why and keeps serving the old context. */
    public void reload() {
        try {
            install(build(settings));
            log.info("{} listener: TLS certificate reloaded; new connections get {} (valid until {})", listener,
                    serving.getSubjectX500Principal().getName(), serving.getNotAfter().toInstant());
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            log.error("{} listener: TLS files changed but cannot be used ({}); still serving {}", listener,
                    e.getMessage(), serving.getSubjectX500Principal().getName());
        }
    }

    private void install(Built b) {
        SslContext old = current;
        current = b.context;
        serving = b.certificate;
        // An OpenSSL context is reference-counted: each engine holds its own reference, so the
        // listener's is dropped here and the native context goes once its last connection has.
        io.netty.util.ReferenceCountUtil.release(old);
    }

    private record Built(SslContext context, X509Certificate certificate) {
    }

    private static Built build(TlsSettings s) throws IOException, GeneralSecurityException {
        SslContextBuilder b;
        X509Certificate leaf;
        if (!s.keystoreFile().isEmpty()) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            char[] pw = s.keystorePassword().toCharArray();
            try (InputStream in = new FileInputStream(s.keystoreFile())) {
                ks.load(in, pw);
            }
            String alias = null;
            for (String a : java.util.Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(a)) {
                    alias = a;
                    break;
                }
            }
            if (alias == null) {
                throw new GeneralSecurityException(s.keystoreFile() + " holds no private key");
            }
            leaf = (X509Certificate) ks.getCertificate(alias);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            b = SslContextBuilder.forServer(kmf);
        } else {
            List<X509Certificate> chain = certificates(Path.of(s.certFile()));
            PrivateKey key = privateKey(Path.of(s.keyFile()), s.keyPassword());
            leaf = chain.get(0);
            matches(key, leaf, s.keyFile(), s.certFile());
            b = SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]));
        }
        b.sslProvider(provider(s.provider())).protocols(s.protocols());
        if (!s.ciphers().isEmpty()) {
            b.ciphers(s.ciphers());
        }
        if (!s.caFile().isEmpty()) {
            b.trustManager(certificates(Path.of(s.caFile())).toArray(new X509Certificate[0]));
        }
        b.clientAuth(switch (s.clientAuth()) {
            case NONE -> ClientAuth.NONE;
            case OPTIONAL -> ClientAuth.OPTIONAL;
            case REQUIRED -> ClientAuth.REQUIRE;
        });
        return new Built(b.build(), leaf);
    }

    static SslProvider provider(String name) {
        if (name.equals("openssl")) {
            if (!OpenSsl.isAvailable()) {
                // Only linux-x86_64 natives are shipped (ADR 0013): elsewhere the JDK's TLS is the way.
                throw new ConfigException("tls.provider is openssl (the default), but OpenSSL (netty-tcnative, shipped for "
                        + "linux-x86_64 only) cannot be loaded here; set tls.provider: jdk: " + OpenSsl.unavailabilityCause());
            }
            // The reference-counted engines: SslHandler frees each one's native SSL when its channel
            // closes. SslProvider.OPENSSL's engines are freed by a finalizer instead, which keeps
            // every closed connection's native memory until a GC has run the finalizer queue.
            return SslProvider.OPENSSL_REFCNT;
        }
        return SslProvider.JDK;
    }

    static List<X509Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(pem)) {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(c -> (X509Certificate) c).toList();
            if (certs.isEmpty()) {
                throw new GeneralSecurityException(pem + " holds no certificate");
            }
            return certs;
        }
    }

    /** A PEM private key: PKCS#8 (plain or encrypted), or OpenSSL's traditional RSA/EC forms (PKCS#1, SEC 1). */
    static PrivateKey privateKey(Path pem, String password) throws IOException, GeneralSecurityException {
        try (Reader r = Files.newBufferedReader(pem); PEMParser parser = new PEMParser(r)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                try {
                    if (o instanceof PrivateKeyInfo info) {
                        return converter.getPrivateKey(info);
                    }
                    if (o instanceof PEMKeyPair pair) {
                        return converter.getKeyPair(pair).getPrivate();
                    }
                    if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
                        return converter.getPrivateKey(enc.decryptPrivateKeyInfo(
                                new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password.toCharArray())));
                    }
                    if (o instanceof PEMEncryptedKeyPair enc) {
                        return converter.getKeyPair(enc.decryptKeyPair(
                                new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password.toCharArray()))).getPrivate();
                    }
                } catch (org.bouncycastle.operator.OperatorCreationException
                         | org.bouncycastle.pkcs.PKCSException e) {
                    throw new GeneralSecurityException(pem + ": cannot decrypt the key (wrong key-password?): " + e.getMessage());
                }
            }
        }
        throw new GeneralSecurityException(pem + " holds no PEM private key");
    }

    /** A key and certificate from two files renewed apart must belong together, or every handshake would fail. */
    static void matches(PrivateKey key, X509Certificate cert, String keyFile, String certFile)
            throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return; // another kind: the handshake will tell
        }
        byte[] probe = "starling key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(cert.getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new GeneralSecurityException("the key in " + keyFile + " is not the key of the certificate in " + certFile);
        }
    }
}
