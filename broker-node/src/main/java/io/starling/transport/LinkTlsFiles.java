package io.starling.transport;

import io.starling.cluster.forwarding.LinkTls;
import io.starling.config.BrokerConfig;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

/**
 * Reads cluster.link-tls.* into what the links take: the key in any form OpenSSL writes (read as
 * the listeners read theirs, {@link TlsContext#privateKey}) handed on as PKCS#8, and checked
 * against its certificate first, so that a renewal caught half-written is refused rather than
 * breaking every new link.
 */
public final class LinkTlsFiles {
    private LinkTlsFiles() {
    }

    /** @throws GeneralSecurityException or IOException with the file and what is wrong with it */
    public static LinkTls read(BrokerConfig.LinkTlsFiles files) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = TlsContext.certificates(Path.of(files.certFile()));
        PrivateKey key = TlsContext.privateKey(Path.of(files.keyFile()), files.keyPassword());
        TlsContext.matches(key, chain.get(0), files.keyFile(), files.certFile());
        TlsContext.certificates(Path.of(files.caFile())); // a bundle that holds no certificate is refused here
        String pkcs8 = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        return new LinkTls(Buffer.buffer(Files.readAllBytes(Path.of(files.certFile()))), Buffer.buffer(pkcs8),
                Buffer.buffer(Files.readAllBytes(Path.of(files.caFile()))));
    }

    /** The certificate this node presents, for the log line. */
    public static String subject(BrokerConfig.LinkTlsFiles files) {
        try {
            X509Certificate c = TlsContext.certificates(Path.of(files.certFile())).get(0);
            return c.getSubjectX500Principal().getName() + " (valid until " + c.getNotAfter().toInstant() + ")";
        } catch (IOException | GeneralSecurityException e) {
            return "?";
        }
    }
}
