package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.ssl.OpenSsl;
import io.starling.config.ListenerConfig.Kind;
import io.starling.tls.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code tls.provider: openssl} with the netty-tcnative BoringSSL natives the broker ships for
 * linux-x86_64: OpenSSL loads there, and a TLS listener on it serves real clients, in-process
 * (Paho on the JDK's TLS, mosquitto_pub/mosquitto_sub on the system's OpenSSL) and from the
 * runnable jar as a user starts it. EC P-256 server certificate, made here.
 */
class OpenSslTlsIT {
    static Path dir;
    static TestPki.Issued ca;
    static BrokerFixture broker;

    static boolean linuxX8664() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(linuxX8664(), "netty-tcnative natives are shipped for linux-x86_64 only");
        dir = Files.createTempDirectory("starling-openssl");
        ca = TestPki.ca("Starling OpenSSL test CA");
        TestPki.leaf(ca, "CN=localhost", TestPki.ec(), Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")).write(dir, "server");
        TestPki.writeCa(ca, dir.resolve("ca.crt"));
        broker = new BrokerFixture().with("tls.provider", "openssl")
                .with("listener.tls.enabled", true).with("listener.tls.port", 0)
                .with("listener.tls.cert-file", dir.resolve("server.crt"))
                .with("listener.tls.key-file", dir.resolve("server.key"))
                .with("listener.tls.allow-anonymous", true);
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
        TempDirs.delete(dir);
    }

    @Test
    void openSslLoadsOnLinuxX8664() {
        assertTrue(OpenSsl.isAvailable(), "OpenSSL did not load: " + OpenSsl.unavailabilityCause());
        assertTrue(OpenSsl.versionString().contains("BoringSSL"), OpenSsl.versionString());
        assertTrue(io.netty.handler.ssl.SslProvider.isTlsv13Supported(io.netty.handler.ssl.SslProvider.OPENSSL_REFCNT),
                "TLS 1.3 with BoringSSL");
    }

    @Test
    void pahoOnTheJdksTlsPublishesAndSubscribesThroughAnOpenSslListener() throws Exception {
        String uri = "ssl://localhost:" + broker.port(Kind.TLS);
        javax.net.ssl.SSLSocketFactory trustCa = TlsIT.sslContextFor(ca, null).getSocketFactory();
        try (PahoV5Client sub = PahoV5Client.connect(uri, "openssl-sub", o -> {
            o.setSocketFactory(trustCa);
            o.setHttpsHostnameVerificationEnabled(true);
        }); PahoV5Client pub = PahoV5Client.connect(uri, "openssl-pub", o -> o.setSocketFactory(trustCa))) {
            sub.subscribe("openssl/paho", 1);
            pub.publish("openssl/paho", "through boringssl", 1, false);
            PahoV5Client.Received r = sub.inbox.poll(5, TimeUnit.SECONDS);
            assertTrue(r != null && r.text().equals("through boringssl"), "received " + r);
        }
    }

    @Test
    void mosquittoClientsWithCafileThroughAnOpenSslListener() throws Exception {
        TlsIT.requireMosquittoClients();
        assertEquals("over openssl", roundTrip(broker.port(Kind.TLS), "openssl/mosquitto"));
    }

    @Test
    void theRunnableJarServesTlsWithOpenSsl() throws Exception {
        JarProcess.assumeBuilt();
        TlsIT.requireMosquittoClients();
        int tlsPort = JarProcess.freeLoopbackPort();
        try (JarProcess node = JarProcess.start(Map.of("STARLING_LISTENER_PORT", String.valueOf(JarProcess.freeLoopbackPort()),
                "STARLING_SYS_INTERVAL", "0", "STARLING_TLS_PROVIDER", "openssl",
                "STARLING_LISTENER_TLS_ENABLED", "true", "STARLING_LISTENER_TLS_PORT", String.valueOf(tlsPort),
                "STARLING_LISTENER_TLS_CERT_FILE", dir.resolve("server.crt").toString(),
                "STARLING_LISTENER_TLS_KEY_FILE", dir.resolve("server.key").toString(),
                "STARLING_LISTENER_TLS_ALLOW_ANONYMOUS", "true"))) {
            // Start-up refuses tls.provider openssl when the natives do not load, so this line is
            // only written when the jar carries them and they loaded.
            String line = node.await("TLS by OpenSSL", 30);
            assertTrue(line.contains("BoringSSL"), line);
            node.await("listening for MQTT (tls)", 30);
            assertEquals("over openssl", roundTrip(tlsPort, "openssl/jar"));
        }
    }

    /** mosquitto_sub waits for one message that mosquitto_pub sends (again, until it arrives) over TLS with --cafile. */
    private static String roundTrip(int port, String topic) throws Exception {
        String cafile = dir.resolve("ca.crt").toString();
        Process sub = new ProcessBuilder("mosquitto_sub", "-h", "localhost", "-p", String.valueOf(port), "-V", "mqttv5",
                "--cafile", cafile, "-t", topic, "-q", "1", "-C", "1", "-W", "15").redirectErrorStream(true).start();
        for (int i = 0; i < 50 && !sub.waitFor(200, TimeUnit.MILLISECONDS); i++) {
            Object[] pub = TlsIT.run(List.of("mosquitto_pub", "-h", "localhost", "-p", String.valueOf(port), "-V", "mqttv5",
                    "--cafile", cafile, "-t", topic, "-m", "over openssl", "-q", "1"));
            assertEquals(0, pub[0], pub[1].toString());
        }
        assertTrue(sub.waitFor(15, TimeUnit.SECONDS), "mosquitto_sub got nothing");
        String got = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, sub.exitValue(), got);
        return got.trim();
    }
}
