package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.HostConfig;
import io.starling.tls.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.output.FrameConsumerResultCallback;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.output.ToStringConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;

/**
 * The built image started by Testcontainers as a user would start it: one node, read-only root file
 * system with a tmpfs /tmp (as the chart and the compose file run it), and clients from outside the
 * container on its published ports.
 */
class SingleNodeContainerIT {

    private static GenericContainer<?> node() throws Exception {
        return new GenericContainer<>(Engine.starling())
                .withTmpFs(Map.of("/tmp", "rw"))
                .withCreateContainerCmdModifier(c -> c.getHostConfig().withReadonlyRootfs(true));
    }

    /**
     * With no configuration at all the image's listeners face the container's network, so without
     * authentication the node must not start open to it: it exits and says which keys to set
     * (the secure default of Mosquitto 2.0's local-only mode, but loud instead of unreachable).
     */
    @Test
    void withNoConfigurationRefusesToStartOpenAndSaysWhy() throws Exception {
        DockerClient docker = DockerClientFactory.lazyClient();
        String id = docker.createContainerCmd(Engine.starling().asCanonicalNameString())
                .withLabels(DockerClientFactory.DEFAULT_LABELS)
                .withHostConfig(HostConfig.newHostConfig().withReadonlyRootfs(true).withTmpFs(Map.of("/tmp", "rw")))
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            int exit = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
            ToStringConsumer logs = new ToStringConsumer();
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new FrameConsumerResultCallback() {
                {
                    addConsumer(OutputFrame.OutputType.STDOUT, logs);
                    addConsumer(OutputFrame.OutputType.STDERR, logs);
                }
            }).awaitCompletion(10, TimeUnit.SECONDS);
            String out = logs.toUtf8String();
            assertTrue(exit != 0, "a node open to anonymous clients on 0.0.0.0 ran (exit " + exit + "):\n" + out);
            assertTrue(out.contains("not a loopback address, and no authentication is configured")
                    && out.contains("auth.allow-anonymous: true"), "the refusal names the keys to set:\n" + out);
        } finally {
            docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        }
    }

    /** One variable opens it to anonymous clients; it then serves MQTT and metrics as user 10001. */
    @Test
    void anonymousNodePublishesAndSubscribesAsItsUser() throws Exception {
        try (GenericContainer<?> c = node().withEnv("STARLING_AUTH_ALLOW_ANONYMOUS", "true")
                .withExposedPorts(1883, 8080)
                .waitingFor(Wait.forHttp("/health/ready").forPort(8080).withStartupTimeout(Duration.ofSeconds(120)))) {
            c.start();
            assertEquals("10001", c.execInContainer("id", "-u").getStdout().trim(), "runs as the image's user");
            assertFalse(c.execInContainer("touch", "/etc/x").getExitCode() == 0, "the root file system is read-only");
            String uri = "tcp://127.0.0.1:" + c.getMappedPort(1883);
            roundTrip(uri, new MqttConnectOptions());
            String metrics = get("http://127.0.0.1:" + c.getMappedPort(8080) + "/metrics");
            assertTrue(metrics.contains("starling_messages_received_total"), metrics);
            assertTrue(c.getLogs().contains("is not loopback and accepts anonymous clients"),
                    "an open listener is warned about in the log:\n" + c.getLogs());
        }
    }

    /** TLS from a mounted certificate and key (as the chart mounts its Secret), verified by the client. */
    @Test
    void tlsFromMountedCertificate() throws Exception {
        TestPki.Issued ca = TestPki.ca("container test CA");
        TestPki.Issued server = TestPki.server(ca, "localhost");
        try (GenericContainer<?> c = node()
                .withCopyToContainer(Transferable.of(TestPki.pem(server.certificate()), 0644), "/etc/starling/tls/tls.crt")
                .withCopyToContainer(Transferable.of(TestPki.pem(server.keys().getPrivate()), 0644), "/etc/starling/tls/tls.key")
                .withEnv(Map.of("STARLING_LISTENER_TCP_ENABLED", "false",
                        "STARLING_LISTENER_TLS_ENABLED", "true",
                        "STARLING_LISTENER_TLS_CERT_FILE", "/etc/starling/tls/tls.crt",
                        "STARLING_LISTENER_TLS_KEY_FILE", "/etc/starling/tls/tls.key",
                        "STARLING_AUTH_ALLOW_ANONYMOUS", "true"))
                .withExposedPorts(8883, 8080)
                .waitingFor(Wait.forHttp("/health/ready").forPort(8080).withStartupTimeout(Duration.ofSeconds(120)))) {
            c.start();
            String uri = "ssl://localhost:" + c.getMappedPort(8883);
            MqttConnectOptions trusting = new MqttConnectOptions();
            trusting.setSocketFactory(trusting(ca.certificate()));
            roundTrip(uri, trusting);

            // A client that does not trust the CA is refused by its own check of the server's certificate.
            MqttConnectOptions other = new MqttConnectOptions();
            other.setSocketFactory(trusting(TestPki.ca("some other CA").certificate()));
            MqttException e = assertThrows(MqttException.class, () -> connect(uri, "untrusting", other).disconnect());
            assertTrue(causes(e, SSLHandshakeException.class), "refused by certificate verification: " + e);
        }
    }

    private static void roundTrip(String uri, MqttConnectOptions options) throws Exception {
        BlockingQueue<String> got = new ArrayBlockingQueue<>(10);
        MqttClient sub = connect(uri, "sub", options);
        MqttClient pub = connect(uri, "pub", options);
        try {
            sub.subscribe("container/#", 1, (t, m) -> got.add(t + "=" + new String(m.getPayload(), StandardCharsets.UTF_8)));
            pub.publish("container/hello", "from outside".getBytes(StandardCharsets.UTF_8), 1, false);
            assertEquals("container/hello=from outside", got.poll(10, TimeUnit.SECONDS));
        } finally {
            pub.disconnect();
            sub.disconnect();
        }
    }

    private static MqttClient connect(String uri, String id, MqttConnectOptions options) throws MqttException {
        MqttClient c = new MqttClient(uri, id, new MemoryPersistence());
        options.setConnectionTimeout(10);
        c.connect(options);
        return c;
    }

    private static SSLSocketFactory trusting(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx.getSocketFactory();
    }

    private static boolean causes(Throwable t, Class<? extends Throwable> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    static String get(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return r.body();
    }
}
