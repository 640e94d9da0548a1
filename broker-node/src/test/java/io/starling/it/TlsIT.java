package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.starling.config.ListenerConfig.Kind;
import io.starling.tls.TestPki;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One node with four listeners, as a user would run it: tcp, tls on a random port with client
 * certificates required and the certificate's CN as the username, ws, and wss (the tls listener's
 * certificate, no client certificates). The certificates are made here and mounted the way a
 * Kubernetes Secret is ({@code ..data} a symlink to a timestamped directory), so that a renewal
 * is a symlink swap. Checked with mosquitto_pub/mosquitto_sub, Paho v3 and v5 and the HiveMQ client.
 */
class TlsIT {
    static Path dir;
    static TestPki.Issued ca;
    static TestPki.Issued device;
    static BrokerFixture broker;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-tls");
        ca = TestPki.ca("Starling test CA");
        // For localhost alone (no IP address): a client that connects to 127.0.0.1 must refuse it.
        mount("..2026_12_01", TestPki.leaf(ca, "CN=localhost", TestPki.rsa(), Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)),
                new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName, "localhost")));
        device = TestPki.client(ca, "CN=sensor-1,O=Acme");
        device.write(dir, "sensor-1");
        broker = new BrokerFixture()
                .with("listener.tls.enabled", true).with("listener.tls.port", 0)
                .with("listener.tls.cert-file", dir.resolve("tls.crt")).with("listener.tls.key-file", dir.resolve("tls.key"))
                .with("listener.tls.ca-file", dir.resolve("ca.crt"))
                .with("listener.tls.client-auth", "required").with("listener.tls.identity", "cn")
                .with("listener.ws.enabled", true).with("listener.ws.port", 0)
                .with("listener.wss.enabled", true).with("listener.wss.port", 0)
                .with("listener.wss.client-auth", "none").with("listener.wss.identity", "none");
        broker.start();
    }

    /** Writes a Secret's files into dir/{@code version} and points ..data (and so tls.crt, tls.key, ca.crt) at it. */
    static void mount(String version, TestPki.Issued server) throws Exception {
        Path v = Files.createDirectories(dir.resolve(version));
        Path[] files = server.write(v, "tls");
        TestPki.writeCa(ca, v.resolve("ca.crt"));
        assertTrue(Files.exists(files[0]));
        Path tmp = dir.resolve("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, dir.relativize(v));
        Files.move(tmp, dir.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (String f : List.of("tls.crt", "tls.key", "ca.crt")) {
            if (!Files.exists(dir.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(dir.resolve(f), Path.of("..data", f));
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
    }

    static Object[] run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        return new Object[] {p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)};
    }

    /** mosquitto_pub to the tls listener as {@code host}, with the client certificate files given (or none). */
    static Object[] mosquittoPub(String host, Path[] clientCert, String version) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", host, "-p", String.valueOf(broker.port(Kind.TLS)),
                "-V", version, "--cafile", dir.resolve("ca.crt").toString(), "-t", "tls/test", "-m", "hi", "-q", "1"));
        if (clientCert != null) {
            cmd.addAll(List.of("--cert", clientCert[0].toString(), "--key", clientCert[1].toString()));
        }
        return run(cmd);
    }

    static void requireMosquittoClients() {
        Assumptions.assumeTrue(MosquittoClientsIT.onPath("mosquitto_pub") && MosquittoClientsIT.onPath("mosquitto_sub"),
                "mosquitto_pub / mosquitto_sub not on the PATH (apt-get install mosquitto-clients)");
    }

    @Test
    void mosquittoClientsWithAClientCertificatePublishAndSubscribe() throws Exception {
        requireMosquittoClients();
        Path[] cert = {dir.resolve("sensor-1.crt"), dir.resolve("sensor-1.key")};
        for (String version : List.of("mqttv311", "mqttv5")) {
            Process sub = new ProcessBuilder("mosquitto_sub", "-h", "localhost", "-p", String.valueOf(broker.port(Kind.TLS)),
                    "-V", version, "--cafile", dir.resolve("ca.crt").toString(), "--cert", cert[0].toString(),
                    "--key", cert[1].toString(), "-t", "tls/" + version, "-q", "1", "-C", "1", "-W", "15")
                    .redirectErrorStream(true).start();
            Object[] pub = null;
            for (int i = 0; i < 50 && !sub.waitFor(200, TimeUnit.MILLISECONDS); i++) {
                pub = run(List.of("mosquitto_pub", "-h", "localhost", "-p", String.valueOf(broker.port(Kind.TLS)), "-V", version,
                        "--cafile", dir.resolve("ca.crt").toString(), "--cert", cert[0].toString(), "--key", cert[1].toString(),
                        "-t", "tls/" + version, "-m", "over tls " + version, "-q", "1"));
                assertEquals(0, pub[0], pub[1].toString());
            }
            assertTrue(sub.waitFor(15, TimeUnit.SECONDS));
            String got = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, sub.exitValue(), got);
            assertEquals("over tls " + version, got.trim());
        }
    }

    @Test
    void refusedHandshakesTellTheClientWhy() throws Exception {
        requireMosquittoClients();
        String failures = "starling_tls_handshake_failures_total{listener=\"tls\",reason=\"";
        double noCert = broker.metricOrZero(failures + "no_client_certificate\"}");
        double unknown = broker.metricOrZero(failures + "unknown_ca\"}");
        double expiredBefore = broker.metricOrZero(failures + "certificate_expired\"}");
        Object[] none = mosquittoPub("localhost", null, "mqttv5");
        assertNotEquals(0, none[0], "no client certificate on a listener that requires one: " + none[1]);

        TestPki.Issued otherCa = TestPki.ca("Someone else's CA");
        Path[] stranger = TestPki.client(otherCa, "CN=stranger").write(dir, "stranger");
        Object[] unknownCa = mosquittoPub("localhost", stranger, "mqttv5");
        assertNotEquals(0, unknownCa[0], "a client certificate from an unknown CA: " + unknownCa[1]);

        Path[] expired = TestPki.leaf(ca, "CN=expired", TestPki.ec(), Instant.now().minus(Duration.ofDays(60)),
                Instant.now().minus(Duration.ofDays(1))).write(dir, "expired");
        Object[] old = mosquittoPub("localhost", expired, "mqttv5");
        assertNotEquals(0, old[0], "an expired client certificate: " + old[1]);
        assertEquals(noCert + 1, broker.metric(failures + "no_client_certificate\"}"), "counted by why");
        assertEquals(unknown + 1, broker.metric(failures + "unknown_ca\"}"), "counted by why");
        assertEquals(expiredBefore + 1, broker.metric(failures + "certificate_expired\"}"), "counted by why");

        // The server's certificate names localhost only: a client that asked for 127.0.0.1 refuses it.
        Object[] wrongHost = mosquittoPub("127.0.0.1", new Path[] {dir.resolve("sensor-1.crt"), dir.resolve("sensor-1.key")},
                "mqttv5");
        assertNotEquals(0, wrongHost[0], "a server certificate for another host name: " + wrongHost[1]);
        assertTrue(wrongHost[1].toString().toLowerCase().contains("certificate verify failed")
                || wrongHost[1].toString().toLowerCase().contains("tls"), wrongHost[1].toString());
    }

    /** Trust in the test CA, and (with {@code client}) a key and certificate to show. */
    static SSLContext sslContext(TestPki.Issued client) throws Exception {
        return sslContextFor(ca, client);
    }

    /** Trust in {@code ca}, and (with {@code client}) a key and certificate to show. */
    static SSLContext sslContextFor(TestPki.Issued ca, TestPki.Issued client) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (client != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("me", client.keys().getPrivate(), new char[0], client.chain().toArray(new X509Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    @Test
    void pahoV5WithAClientCertificateAndWithoutOne() throws Exception {
        String uri = "ssl://localhost:" + broker.port(Kind.TLS);
        javax.net.ssl.SSLSocketFactory withCert = sslContext(device).getSocketFactory();
        javax.net.ssl.SSLSocketFactory without = sslContext(null).getSocketFactory();
        try (PahoV5Client sub = PahoV5Client.connect(uri, "tls-v5-sub", o -> {
            o.setSocketFactory(withCert);
            o.setHttpsHostnameVerificationEnabled(true);
        }); PahoV5Client pub = PahoV5Client.connect(uri, "tls-v5-pub", o -> {
            o.setSocketFactory(withCert);
            o.setHttpsHostnameVerificationEnabled(true);
        })) {
            sub.subscribe("tls/paho", 1);
            pub.publish("tls/paho", "from paho", 1, false);
            PahoV5Client.Received r = sub.inbox.poll(5, TimeUnit.SECONDS);
            assertTrue(r != null && r.text().equals("from paho"), "received " + r);
        }
        assertThrows(org.eclipse.paho.mqttv5.common.MqttException.class, () -> PahoV5Client.connect(uri, "tls-v5-none",
                o -> o.setSocketFactory(without)));
    }

    @Test
    void pahoV3OverWebSocketAndHiveMqOverSecureWebSocket() throws Exception {
        MqttClient ws = new MqttClient("ws://127.0.0.1:" + broker.port(Kind.WS) + "/mqtt", "ws-v3", new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        ws.connect(o);
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        ws.subscribe("web/#", 1, (topic, m) -> got.add(topic + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));

        Mqtt5BlockingClient wss = Mqtt5Client.builder().identifier("wss-v5").serverHost("localhost")
                .serverPort(broker.port(Kind.WSS))
                .sslConfig().trustManagerFactory(trustOnly()).applySslConfig()
                .webSocketConfig().serverPath("mqtt").applyWebSocketConfig()
                .buildBlocking();
        wss.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes inbox = wss.publishes(MqttGlobalPublishFilter.ALL)) {
            wss.subscribeWith().topicFilter("web/#").qos(MqttQos.EXACTLY_ONCE).send();
            // A packet larger than one read and than the first frame buffer, split as the client likes.
            byte[] big = new byte[200_000];
            java.util.Arrays.fill(big, (byte) 'x');
            wss.publishWith().topic("web/big").qos(MqttQos.AT_LEAST_ONCE).payload(big).send();
            Optional<Mqtt5Publish> r = inbox.receive(10, TimeUnit.SECONDS);
            assertTrue(r.isPresent(), "wss subscriber got nothing");
            assertEquals(200_000, r.get().getPayloadAsBytes().length);
            ws.publish("web/small", "from ws".getBytes(StandardCharsets.UTF_8), 1, false);
            Optional<Mqtt5Publish> small = inbox.receive(10, TimeUnit.SECONDS);
            assertTrue(small.isPresent());
            assertEquals("from ws", new String(small.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
        } finally {
            wss.disconnect();
        }
        String first = got.poll(10, TimeUnit.SECONDS);
        assertTrue(first != null && first.startsWith("web/big "), "ws subscriber got " + first);
        assertEquals("web/small from ws", got.poll(10, TimeUnit.SECONDS));
        ws.disconnect();
        ws.close();
    }

    static TrustManagerFactory trustOnly() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf;
    }

    @Test
    void plainMqttOnTheTlsPortAndOtherHttpOnTheWebSocketPortAreAnsweredAsWhatTheyAre() throws Exception {
        double before = broker.metricOrZero("starling_foreign_protocol_connections_total{protocol=\"plain\"}");
        try (Socket s = new Socket("127.0.0.1", broker.port(Kind.TLS))) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(new byte[] {0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 0});
            out.flush();
            assertEquals(-1, s.getInputStream().read(), "closed without an answer");
        }
        assertEquals(before + 1, broker.metric("starling_foreign_protocol_connections_total{protocol=\"plain\"}"));
        var http = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + broker.port(Kind.WS) + "/other")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(404, http.statusCode());
        // A text frame is not MQTT [MQTT-6.0.0-1]: the broker closes the WebSocket.
        java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
        var socket = java.net.http.HttpClient.newHttpClient().newWebSocketBuilder().subprotocols("mqtt")
                .buildAsync(java.net.URI.create("ws://127.0.0.1:" + broker.port(Kind.WS) + "/mqtt"),
                        new java.net.http.WebSocket.Listener() {
                            @Override
                            public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket w, int code, String reason) {
                                closed.complete(code);
                                return null;
                            }
                        }).get(5, TimeUnit.SECONDS);
        assertEquals("mqtt", socket.getSubprotocol());
        socket.sendText("CONNECT", true);
        assertEquals(1003, closed.get(5, TimeUnit.SECONDS), "closed as an invalid message type");
    }

    /** The subject of the certificate a new TLS connection to the tls listener is served. */
    static String servedSubject() throws Exception {
        try (SSLSocket s = (SSLSocket) sslContext(device).getSocketFactory().createSocket("localhost", broker.port(Kind.TLS))) {
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    @Test
    void aRenewedCertificateServesNewConnectionsWhileConnectedClientsStay() throws Exception {
        String uri = "ssl://localhost:" + broker.port(Kind.TLS);
        javax.net.ssl.SSLSocketFactory withCert = sslContext(device).getSocketFactory();
        try (PahoV5Client stays = PahoV5Client.connect(uri, "tls-renewal", o -> o.setSocketFactory(withCert))) {
            stays.subscribe("renewal/#", 1);
            String before = servedSubject();
            assertEquals("CN=localhost", before);
            TestPki.Issued renewed = TestPki.leaf(ca, "CN=localhost,O=renewed", TestPki.rsa(),
                    Instant.now().minus(Duration.ofMinutes(5)), Instant.now().plus(Duration.ofDays(90)),
                    new org.bouncycastle.asn1.x509.GeneralName(org.bouncycastle.asn1.x509.GeneralName.dNSName, "localhost"));
            mount("..2026_12_02", renewed);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            String now = before;
            while (now.equals(before) && System.nanoTime() < deadline) {
                Thread.sleep(250);
                now = servedSubject();
            }
            assertEquals("CN=localhost,O=renewed", now, "new connections get the renewed certificate");
            assertTrue(stays.client.isConnected(), "the connected client keeps its session");
            try (PahoV5Client pub = PahoV5Client.connect(uri, "tls-renewal-pub", o -> o.setSocketFactory(withCert))) {
                pub.publish("renewal/x", "after renewal", 1, false);
            }
            PahoV5Client.Received r = stays.inbox.poll(5, TimeUnit.SECONDS);
            assertTrue(r != null && r.text().equals("after renewal"), "received " + r);
        }
    }
}
