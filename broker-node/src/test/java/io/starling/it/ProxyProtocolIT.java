package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A listener with the PROXY protocol on, behind a real HAProxy with {@code send-proxy-v2} and
 * with a v1 header written by hand: the node names each client by its own address (here in the
 * log line of a refused CONNECT), and a connection without a header is refused and counted.
 */
class ProxyProtocolIT {
    static BrokerFixture broker;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("starling-proxy");
        Path pw = dir.resolve("passwd");
        assertEquals(0, io.starling.auth.PasswdCommandTestAccess.run("-c", "-b", pw.toString(), "alice", "a-pw"));
        broker = new BrokerFixture().with("auth.password-file", pw).with("listener.tcp.proxy-protocol", true)
                .with("listener.tcp.proxy-identity", "cn");
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
    }

    /** A 3.1.1 CONNECT with a username and password. */
    static byte[] connect(String clientId, String user, String password) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) 0xC2, 0, 60});
        for (String s : new String[] {clientId, user, password}) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            body.write(b.length >> 8);
            body.write(b.length & 0xFF);
            body.writeBytes(b);
        }
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        int n = body.size();
        do {
            int digit = n % 128;
            n /= 128;
            packet.write(n > 0 ? digit | 0x80 : digit);
        } while (n > 0);
        packet.writeBytes(body.toByteArray());
        return packet.toByteArray();
    }

    /** Sends {@code header} then a CONNECT from {@code source}; returns the CONNACK's 4 bytes (or what came before EOF). */
    static byte[] connectVia(String source, int port, byte[] header, byte[] connect) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(source, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(header);
            out.write(connect);
            out.flush();
            InputStream in = s.getInputStream();
            return in.readNBytes(4);
        }
    }

    @Test
    void aV1HeaderNamesTheClientInTheLogs() throws Exception {
        try (LogLines log = new LogLines()) {
            byte[] header = ("PROXY TCP4 10.1.2.3 127.0.0.1 5555 " + broker.port() + "\r\n").getBytes(StandardCharsets.US_ASCII);
            byte[] connack = connectVia("127.0.0.1", broker.port(), header, connect("pp-v1", "alice", "wrong"));
            assertArrayEquals(new byte[] {0x20, 2, 0, 4}, connack, "3.1.1 bad user name or password");
            assertNotNull(log.await("pp-v1", "10.1.2.3:5555", "refused"), "the log names the proxied address");
        }
    }

    /** A 3.1.1 CONNECT without username or password. */
    static byte[] connectAnonymous(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        packet.write(10 + 2 + id.length);
        packet.writeBytes(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, (byte) id.length});
        packet.writeBytes(id);
        return packet.toByteArray();
    }

    /**
     * A PROXY v2 header from a TLS-terminating proxy (spec 2.2.5, PP2_TYPE_SSL): source 10.9.8.7:4444,
     * the client's flags and verify result, and the certificate's CN as PP2_SUBTYPE_SSL_CN.
     */
    static byte[] v2WithCertificate(int clientFlags, int verify, String cn) {
        byte[] name = cn.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream ssl = new ByteArrayOutputStream();
        ssl.write(clientFlags);
        ssl.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(verify).array());
        ssl.writeBytes(new byte[] {0x22, 0, (byte) name.length});
        ssl.writeBytes(name);
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        h.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11});
        int length = 12 + 3 + ssl.size();
        h.write(length >> 8);
        h.write(length & 0xFF);
        h.writeBytes(new byte[] {10, 9, 8, 7, 127, 0, 0, 1, 0x11, 0x5C, 0x07, 0x5B}); // 10.9.8.7:4444 -> 127.0.0.1:1883
        h.writeBytes(new byte[] {0x20, (byte) (ssl.size() >> 8), (byte) (ssl.size() & 0xFF)});
        h.writeBytes(ssl.toByteArray());
        return h.toByteArray();
    }

    @Test
    void aCertificateCnThatTheProxyVerifiedIsTheUsername() throws Exception {
        java.util.logging.Logger protocol = java.util.logging.Logger.getLogger("io.starling.session.MqttProtocol");
        java.util.logging.Level level = protocol.getLevel();
        protocol.setLevel(java.util.logging.Level.FINE); // the line that names the identity is at DEBUG
        try (LogLines log = new LogLines()) {
            // PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN, verified: no password needed, known as device-7.
            byte[] connack = connectVia("127.0.0.1", broker.port(), v2WithCertificate(0x03, 0, "device-7"),
                    connectAnonymous("pp-cn"));
            assertArrayEquals(new byte[] {0x20, 2, 0, 0}, connack, "accepted on the proxy's word");
            assertNotNull(log.await("pp-cn", "10.9.8.7:4444", "device-7", "proxy-identity"),
                    "the client is known by its certificate's CN");
        } finally {
            protocol.setLevel(level);
        }
        // The proxy says the certificate did not verify (verify != 0): no identity from it.
        assertArrayEquals(new byte[] {0x20, 2, 0, 5}, connectVia("127.0.0.1", broker.port(),
                v2WithCertificate(0x03, 1, "device-7"), connectAnonymous("pp-cn-unverified")), "3.1.1 not authorized");
        // TLS, but no client certificate: no identity either.
        assertArrayEquals(new byte[] {0x20, 2, 0, 5}, connectVia("127.0.0.1", broker.port(),
                v2WithCertificate(0x01, 0, "device-7"), connectAnonymous("pp-no-cert")), "3.1.1 not authorized");
    }

    @Test
    void aConnectionWithoutAHeaderIsRefusedAndCounted() throws Exception {
        double before = broker.metricOrZero("starling_connections_refused_total{listener=\"tcp\",reason=\"no_proxy_header\"}");
        byte[] answer = connectVia("127.0.0.1", broker.port(), new byte[0], connect("x".repeat(120), "alice", "a-pw"));
        assertEquals(0, answer.length, "closed without an MQTT answer");
        assertEquals(before + 1, broker.metric("starling_connections_refused_total{listener=\"tcp\",reason=\"no_proxy_header\"}"));
    }

    @Test
    void behindHaproxyWithSendProxyV2EachClientKeepsItsAddress() throws Exception {
        Assumptions.assumeTrue(HaproxyProcess.installed(), "haproxy not installed (apt-get install haproxy)");
        Map<String, Integer> servers = new LinkedHashMap<>();
        servers.put("node1", broker.port());
        try (HaproxyProcess lb = HaproxyProcess.start(servers, " send-proxy-v2 check-send-proxy");
             LogLines log = new LogLines()) {
            byte[] connack = connectVia("127.0.0.5", lb.port(), new byte[0], connect("pp-v2", "alice", "wrong"));
            assertArrayEquals(new byte[] {0x20, 2, 0, 4}, connack);
            String line = log.await("pp-v2", "refused");
            assertNotNull(line);
            assertTrue(line.contains("(127.0.0.5:"), "the client's own address, not HAProxy's: " + line);
            try (PahoV5Client sub = PahoV5Client.connect(lb.uri(), "pp-sub", o -> {
                o.setUserName("alice");
                o.setPassword("a-pw".getBytes(StandardCharsets.UTF_8));
            }); PahoV5Client pub = PahoV5Client.connect(lb.uri(), "pp-pub", o -> {
                o.setUserName("alice");
                o.setPassword("a-pw".getBytes(StandardCharsets.UTF_8));
            })) {
                sub.subscribe("pp/#", 1);
                pub.publish("pp/x", "through haproxy", 1, false);
                PahoV5Client.Received r = sub.inbox.poll(5, TimeUnit.SECONDS);
                assertEquals("through haproxy", r == null ? null : r.text());
            }
        }
    }

    @Test
    void behindAHaproxyThatTerminatesTlsTheCertificatesCnIsTheUsername() throws Exception {
        Assumptions.assumeTrue(HaproxyProcess.installed(), "haproxy not installed (apt-get install haproxy)");
        TlsIT.requireMosquittoClients();
        Path dir = Files.createTempDirectory("starling-pp-tls");
        try {
            io.starling.tls.TestPki.Issued ca = io.starling.tls.TestPki.ca("pp-ca");
            Path caFile = io.starling.tls.TestPki.writeCa(ca, dir.resolve("ca.crt"));
            Path[] server = io.starling.tls.TestPki.server(ca, "haproxy").write(dir, "server");
            Path pem = dir.resolve("haproxy.pem"); // HAProxy's crt: certificate and key in one file
            Files.writeString(pem, Files.readString(server[0]) + Files.readString(server[1]));
            Path[] client = io.starling.tls.TestPki.client(ca, "CN=device-42,O=Acme").write(dir, "client");
            Map<String, Integer> servers = new LinkedHashMap<>();
            servers.put("node1", broker.port());
            java.util.logging.Logger protocol = java.util.logging.Logger.getLogger("io.starling.session.MqttProtocol");
            java.util.logging.Level level = protocol.getLevel();
            protocol.setLevel(java.util.logging.Level.FINE);
            try (HaproxyProcess lb = HaproxyProcess.start(servers, " send-proxy-v2-ssl-cn check-send-proxy",
                    " ssl crt " + pem + " ca-file " + caFile + " verify optional");
                 LogLines log = new LogLines()) {
                java.util.List<String> pub = new java.util.ArrayList<>(java.util.List.of("mosquitto_pub", "-h", "127.0.0.1",
                        "-p", String.valueOf(lb.port()), "--cafile", caFile.toString(), "-V", "mqttv311", "-t", "pp/tls",
                        "-m", "m", "-q", "1"));
                java.util.List<String> withCert = new java.util.ArrayList<>(pub);
                withCert.addAll(java.util.List.of("-i", "pp-haproxy-cn", "--cert", client[0].toString(), "--key", client[1].toString()));
                Object[] ok = TlsIT.run(withCert);
                assertEquals(0, ok[0], "with a certificate HAProxy verified: " + ok[1]);
                assertNotNull(log.await("pp-haproxy-cn", "device-42", "proxy-identity"),
                        "the client is known by its certificate's CN, from HAProxy's PPv2 SSL fields");
                java.util.List<String> noCert = new java.util.ArrayList<>(pub);
                noCert.addAll(java.util.List.of("-i", "pp-haproxy-nocert"));
                Object[] refused = TlsIT.run(noCert);
                assertTrue((Integer) refused[0] != 0, "TLS without a client certificate and no password: " + refused[1]);
                assertTrue(refused[1].toString().toLowerCase().contains("not authori"), refused[1].toString());
            } finally {
                protocol.setLevel(level);
            }
        } finally {
            TempDirs.delete(dir);
        }
    }
}
