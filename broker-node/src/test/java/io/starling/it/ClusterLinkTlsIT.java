package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.tls.TestPki;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two node processes whose forwarding links run on mutual TLS (cluster.link-tls.*): messages
 * cross between them, and a link from anything without a certificate from the cluster's CA is
 * refused at the handshake and logged.
 */
class ClusterLinkTlsIT {
    static Path dir;
    static TestPki.Issued ca;
    static ClusterFixture cluster;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-link-tls");
        ca = TestPki.ca("cluster-ca");
        Path caFile = TestPki.writeCa(ca, dir.resolve("ca.crt"));
        cluster = new ClusterFixture(2);
        for (int i = 0; i < 2; i++) {
            Path[] files = TestPki.client(ca, "CN=node" + (i + 1) + ",O=Starling").write(dir, "node" + i);
            cluster.withEnv(i, "STARLING_CLUSTER_LINK_TLS_CERT_FILE", files[0].toString())
                    .withEnv(i, "STARLING_CLUSTER_LINK_TLS_KEY_FILE", files[1].toString())
                    .withEnv(i, "STARLING_CLUSTER_LINK_TLS_CA_FILE", caFile.toString());
        }
        cluster.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
        TempDirs.delete(dir);
    }

    @Test
    void messagesCrossTheTlsLinks() throws Exception {
        try (PahoV5Client sub = PahoV5Client.connect("tcp://127.0.0.1:" + cluster.mqttPort(1), "link-tls-sub", null);
             PahoV5Client pub = PahoV5Client.connect("tcp://127.0.0.1:" + cluster.mqttPort(0), "link-tls-pub", null)) {
            sub.subscribe("links/tls", 1);
            // The route reaches node 0 over the link; until then node 0 answers "no subscribers".
            long deadline = System.nanoTime() + 20_000_000_000L;
            PahoV5Client.Received r = null;
            for (int i = 0; r == null && System.nanoTime() < deadline; i++) {
                pub.publish("links/tls", "m" + i, 1, false);
                r = sub.poll(500);
            }
            assertNotNull(r, "a message from node 0 reached node 1's subscriber");
            assertTrue(cluster.process(0).output().contains("node links: mutual TLS"), "the node says its links use TLS");
        }
    }

    static SSLSocket tlsTo(int port, TestPki.Issued presenting) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (presenting != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("me", presenting.keys().getPrivate(), "pw".toCharArray(),
                    presenting.chain().toArray(new java.security.cert.Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "pw".toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
        s.setSoTimeout(5000);
        s.setEnabledProtocols(new String[] {"TLSv1.2"}); // the server's refusal of a client certificate comes within the handshake
        return s;
    }

    @Test
    void aPeerWithACertificateFromTheClustersCaIsAccepted() throws Exception {
        try (SSLSocket s = tlsTo(cluster.linkPort(0), TestPki.client(ca, "CN=node9,O=Starling"))) {
            s.startHandshake();
            assertEquals("CN=node1,O=Starling", s.getSession().getPeerPrincipal().getName(), "node 0 presents its own");
        }
    }

    @Test
    void linksWithoutTheClustersCertificateAreRefused() throws Exception {
        int port = cluster.linkPort(0);
        // Plain TCP, as a node without link TLS would connect: closed without an answer.
        try (Socket plain = new Socket("127.0.0.1", port)) {
            plain.setSoTimeout(5000);
            plain.getOutputStream().write(new byte[] {0, 0, 0, 10, 1, 'n', 'o', 'd', 'e', '-', 'x', 'x', 'x', 'x'});
            InputStream in = plain.getInputStream();
            assertEquals(-1, in.read(), "a plain link is closed");
        }
        // No certificate, and one from another CA: the handshake fails.
        try (SSLSocket none = tlsTo(port, null)) {
            assertThrows(java.io.IOException.class, () -> {
                none.startHandshake();
                none.getInputStream().read();
            });
        }
        TestPki.Issued stranger = TestPki.client(TestPki.ca("other-ca"), "CN=intruder");
        try (SSLSocket other = tlsTo(port, stranger)) {
            assertThrows(java.io.IOException.class, () -> {
                other.startHandshake();
                other.getInputStream().read();
            });
        }
        cluster.process(0).await("link connection refused: TLS handshake failed", 10);
    }
}
