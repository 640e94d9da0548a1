package io.starling.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration is read from YAML and STARLING_* variables; every invalid value names its key. */
class ConfigLoaderTest {
    @TempDir
    Path dir;

    Path yaml(String text) throws Exception {
        Path p = dir.resolve("starling-" + System.nanoTime() + ".yaml");
        Files.writeString(p, text);
        return p;
    }

    static String failure(Path file, Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(file, env)).getMessage();
    }

    static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "message should name '" + part + "': " + message);
        }
    }

    @Test
    void noFileAndNoEnvironmentGivesTheDocumentedDefaults() {
        BrokerConfig c = ConfigLoader.load(null, Map.of());
        assertEquals("127.0.0.1", c.listenerHost());
        assertEquals(1883, c.listenerPort());
        assertFalse(c.allowAnonymousNonLoopback());
        assertEquals(1_048_576, c.maxPacketSize());
        assertEquals(300, c.maxKeepAliveSeconds());
        assertEquals(10, c.connectTimeoutSeconds());
        assertEquals(100, c.receiveMaximum());
        assertEquals(100, c.maxInflight());
        assertEquals(1000, c.maxQueuedMessages());
        assertEquals(4_294_967_295L, c.maxSessionExpirySeconds());
        assertEquals(10, c.topicAliasMaximum());
        assertEquals(10, c.sysIntervalSeconds());
    }

    /** Mosquitto's default (no persistence) without configuration; a directory alone asks for interval. */
    @Test
    void persistenceIsOffByDefaultAndADirectoryAloneMeansInterval() {
        assertEquals(new BrokerConfig.Persistence("none", "", 1000, 1000), ConfigLoader.load(null, Map.of()).persistence());
        assertEquals("interval", ConfigLoader.load(null, Map.of("STARLING_PERSISTENCE_DIR", "/data/store")).persistence().mode());
        BrokerConfig.Persistence sync = ConfigLoader.load(null, Map.of("STARLING_PERSISTENCE_DIR", "/data/store",
                "STARLING_PERSISTENCE_MODE", "sync", "STARLING_PERSISTENCE_INTERVAL_MS", "50")).persistence();
        assertEquals(new BrokerConfig.Persistence("sync", "/data/store", 50, 1000), sync);
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(null, Map.of("STARLING_PERSISTENCE_MODE", "sync")));
        assertTrue(e.getMessage().contains("persistence.dir"), e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(null, Map.of("STARLING_PERSISTENCE_MODE", "fsync")));
    }

    @Test
    void nestedYamlIsRead() throws Exception {
        BrokerConfig c = ConfigLoader.load(yaml("listener:\n  port: 1884\nmqtt:\n  max-queued-messages: 5000\n"), Map.of());
        assertEquals(1884, c.listenerPort());
        assertEquals(5000, c.maxQueuedMessages());
    }

    @Test
    void emptyFileMeansDefaults() throws Exception {
        assertEquals(1883, ConfigLoader.load(yaml(""), Map.of()).listenerPort());
    }

    @Test
    void unknownKeyInYamlStopsStartUp() throws Exception {
        String m = failure(yaml("mqtt:\n  max-packet-sise: 2048\n"), Map.of());
        assertMentions(m, "mqtt.max-packet-sise");
    }

    @Test
    void unknownTopLevelKeyStopsStartUp() throws Exception {
        assertMentions(failure(yaml("listner:\n  port: 1884\n"), Map.of()), "listner.port");
    }

    @Test
    void portAboveRangeInFileNamesTheKey() throws Exception {
        assertMentions(failure(yaml("listener:\n  port: 70000\n"), Map.of()), "listener.port", "65535", "70000");
    }

    @Test
    void negativePortFromEnvironmentNamesTheKeyAndTheVariable() {
        assertMentions(failure(null, Map.of("STARLING_LISTENER_PORT", "-1")),
                "listener.port", "STARLING_LISTENER_PORT");
    }

    @Test
    void nonNumberInFileNamesTheKey() throws Exception {
        assertMentions(failure(yaml("mqtt:\n  max-inflight: lots\n"), Map.of()), "mqtt.max-inflight", "lots");
    }

    @Test
    void nonNumberFromEnvironmentNamesTheKey() {
        assertMentions(failure(null, Map.of("STARLING_MQTT_MAX_PACKET_SIZE", "1MB")),
                "mqtt.max-packet-size", "STARLING_MQTT_MAX_PACKET_SIZE", "1MB");
    }

    @Test
    void fractionIsNotAWholeNumber() throws Exception {
        assertMentions(failure(yaml("mqtt:\n  receive-maximum: 1.5\n"), Map.of()), "mqtt.receive-maximum");
    }

    @Test
    void maxPacketSizeBelowItsMinimumNamesTheKey() throws Exception {
        assertMentions(failure(yaml("mqtt:\n  max-packet-size: 10\n"), Map.of()), "mqtt.max-packet-size");
    }

    @Test
    void connectTimeoutOfZeroIsRefused() {
        assertMentions(failure(null, Map.of("STARLING_MQTT_CONNECT_TIMEOUT", "0")), "mqtt.connect-timeout");
    }

    @Test
    void invalidBooleanNamesTheKey() throws Exception {
        assertMentions(failure(yaml("listener:\n  allow-anonymous-non-loopback: maybe\n"), Map.of()),
                "listener.allow-anonymous-non-loopback");
    }

    @Test
    void environmentVariableWinsOverTheFile() throws Exception {
        Path f = yaml("listener:\n  port: 1884\nmqtt:\n  max-inflight: 7\n");
        BrokerConfig c = ConfigLoader.load(f, Map.of("STARLING_LISTENER_PORT", "1999"));
        assertEquals(1999, c.listenerPort(), "environment over file");
        assertEquals(7, c.maxInflight(), "file over default");
    }

    @Test
    void invalidEnvironmentValueFailsEvenWhenTheFileIsValid() throws Exception {
        assertMentions(failure(yaml("listener:\n  port: 1884\n"), Map.of("STARLING_LISTENER_PORT", "http")),
                "listener.port", "STARLING_LISTENER_PORT");
    }

    @Test
    void nonLoopbackHostWithoutAllowAnonymousFails() throws Exception {
        assertMentions(failure(yaml("listener:\n  host: 0.0.0.0\n"), Map.of()),
                "listener.host", "listener.tcp.allow-anonymous");
    }

    @Test
    void nonLoopbackHostWithAllowAnonymousIsAccepted() throws Exception {
        BrokerConfig c = ConfigLoader.load(yaml("listener:\n  host: 0.0.0.0\n  allow-anonymous-non-loopback: true\n"),
                Map.of());
        assertEquals("0.0.0.0", c.listenerHost());
        assertFalse(c.listenerIsLoopback());
    }

    @Test
    void aNonLoopbackHostWithAPasswordFileNeedsNoAnonymousSwitch(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path pw = java.nio.file.Files.writeString(dir.resolve("passwd"), "");
        BrokerConfig c = ConfigLoader.load(yaml("listener:\n  host: 0.0.0.0\nauth:\n  password-file: " + pw + "\n"),
                Map.of());
        assertTrue(c.authenticates());
        assertFalse(c.authAllowAnonymous());
        assertEquals(pw.toString(), c.authPasswordFile());
        assertTrue(ConfigLoader.load(null, Map.of("STARLING_LISTENER_HOST", "0.0.0.0",
                "STARLING_AUTH_ALLOW_ANONYMOUS", "true")).authAllowAnonymous(), "or anonymous clients wanted there");
    }

    @Test
    void aPasswordFileThatCannotBeReadStopsStartUp(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertMentions(failure(null, Map.of("STARLING_AUTH_PASSWORD_FILE", dir.resolve("missing").toString())),
                "auth.password-file", "missing");
        assertMentions(failure(null, Map.of("STARLING_AUTH_PASSWORD_FILE", dir.toString())), "auth.password-file");
    }

    @Test
    void nonLoopbackHostFromEnvironmentFailsToo() {
        assertMentions(failure(null, Map.of("STARLING_LISTENER_HOST", "0.0.0.0")), "listener.host");
    }

    @Test
    void emptyHostNamesTheKey() {
        assertMentions(failure(null, Map.of("STARLING_LISTENER_HOST", " ")), "listener.host");
    }

    @Test
    void topLevelListIsRefused() throws Exception {
        Path f = yaml("- listener\n- port\n");
        assertMentions(failure(f, Map.of()), f.toString());
    }

    @Test
    void invalidYamlIsRefusedWithTheFileName() throws Exception {
        Path f = yaml("listener:\n  port: [1884\n");
        assertMentions(failure(f, Map.of()), f.toString());
    }

    @Test
    void missingFileIsRefusedWithItsName() {
        Path f = dir.resolve("does-not-exist.yaml");
        assertMentions(failure(f, Map.of()), f.toString());
    }

    @Test
    void clusterKeysForDiscoveryBackupsAndLinksHaveTheDocumentedDefaults() {
        BrokerConfig c = ConfigLoader.load(null, Map.of());
        assertEquals("", c.clusterKubernetesServiceDns());
        assertEquals(1, c.clusterBackupCount());
        assertEquals(5801, c.clusterLinkPort());
    }

    @Test
    void clusterKeysForDiscoveryBackupsAndLinksAreSetFromTheEnvironment() {
        BrokerConfig c = ConfigLoader.load(null, Map.of(
                "STARLING_CLUSTER_KUBERNETES_SERVICE_DNS", "starling-headless.default.svc.cluster.local",
                "STARLING_CLUSTER_BACKUP_COUNT", "2",
                "STARLING_CLUSTER_LINK_PORT", "6801"));
        assertEquals("starling-headless.default.svc.cluster.local", c.clusterKubernetesServiceDns());
        assertEquals(2, c.clusterBackupCount());
        assertEquals(6801, c.clusterLinkPort());
    }

    @Test
    void backupCountAboveHazelcastsMaximumNamesTheKey() {
        assertMentions(failure(null, Map.of("STARLING_CLUSTER_BACKUP_COUNT", "7")),
                "cluster.backup-count", "STARLING_CLUSTER_BACKUP_COUNT", "6", "7");
    }

    @Test
    void linkPortOutOfRangeNamesTheKey() throws Exception {
        assertMentions(failure(yaml("cluster:\n  link-port: 0\n"), Map.of()), "cluster.link-port", "65535");
        assertMentions(failure(null, Map.of("STARLING_CLUSTER_LINK_PORT", "70000")),
                "cluster.link-port", "STARLING_CLUSTER_LINK_PORT", "70000");
    }

    @Test
    void memberListAndKubernetesDnsTogetherAreRefusedNamingBothKeys() throws Exception {
        Path f = yaml("cluster:\n  members: 10.0.0.2:5701\n");
        assertMentions(failure(f, Map.of("STARLING_CLUSTER_KUBERNETES_SERVICE_DNS", "starling-headless")),
                "cluster.members", "cluster.kubernetes-service-dns");
    }

    @Test
    void everyKeyHasTheDocumentedEnvironmentName() {
        assertEquals("STARLING_LISTENER_ALLOW_ANONYMOUS_NON_LOOPBACK",
                BrokerConfig.KEYS.get("listener.allow-anonymous-non-loopback").envName());
        assertEquals("STARLING_MQTT_MAX_PACKET_SIZE", BrokerConfig.KEYS.get("mqtt.max-packet-size").envName());
        assertEquals("STARLING_SYS_INTERVAL", BrokerConfig.KEYS.get("sys.interval").envName());
    }

    @Test
    void metricsAreOnByDefaultOnPort8080OfTheListenersHost() {
        BrokerConfig c = ConfigLoader.load(null, Map.of());
        assertTrue(c.metricsEnabled());
        assertEquals("127.0.0.1", c.metricsHost());
        assertEquals(8080, c.metricsPort());
        BrokerConfig all = ConfigLoader.load(null, Map.of("STARLING_LISTENER_HOST", "0.0.0.0",
                "STARLING_LISTENER_ALLOW_ANONYMOUS_NON_LOOPBACK", "true"));
        assertEquals("0.0.0.0", all.metricsHost(), "metrics.host follows listener.host when not set");
    }

    @Test
    void metricsKeysAreSetFromFileAndEnvironment() throws Exception {
        BrokerConfig c = ConfigLoader.load(yaml("metrics:\n  host: 127.0.0.2\n  port: 9100\n"),
                Map.of("STARLING_METRICS_PORT", "9200"));
        assertEquals("127.0.0.2", c.metricsHost());
        assertEquals(9200, c.metricsPort(), "the environment wins over the file");
        assertFalse(ConfigLoader.load(null, Map.of("STARLING_METRICS_ENABLED", "false")).metricsEnabled());
    }

    @Test
    void metricsPortZeroOrOutOfRangeOrEnabledNotBooleanNamesTheKey() throws Exception {
        // 0 ("any free port") is refused: Prometheus and the probes must know the port beforehand.
        assertMentions(failure(yaml("metrics:\n  port: 0\n"), Map.of()), "metrics.port", "1", "65535");
        assertMentions(failure(null, Map.of("STARLING_METRICS_PORT", "70000")), "metrics.port",
                "STARLING_METRICS_PORT", "70000");
        assertMentions(failure(null, Map.of("STARLING_METRICS_ENABLED", "yes")), "metrics.enabled",
                "STARLING_METRICS_ENABLED", "true or false");
    }

    @Test
    void theDefaultIsOnePlainListenerOnLoopback() {
        BrokerConfig c = ConfigLoader.load(null, Map.of());
        assertEquals(1, c.listeners().size());
        ListenerConfig l = c.listeners().get(0);
        assertEquals(ListenerConfig.Kind.TCP, l.kind());
        assertEquals("127.0.0.1:1883", l.host() + ":" + l.port());
        assertTrue(l.allowAnonymous(), "loopback without a password file: anonymous, as before");
    }

    @Test
    void everyListenerIsSetFromTheFileAndTheEnvironment() throws Exception {
        Path crt = Files.writeString(dir.resolve("s.crt"), "x");
        Path key = Files.writeString(dir.resolve("s.key"), "x");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "x");
        BrokerConfig c = ConfigLoader.load(yaml("listener:\n  tls:\n    enabled: true\n    cert-file: " + crt
                + "\n    key-file: " + key + "\n    ca-file: " + ca + "\n    client-auth: required\n    identity: san-dns\n"
                + "  ws:\n    enabled: true\n    path: /ws\n"),
                Map.of("STARLING_LISTENER_WSS_ENABLED", "true", "STARLING_LISTENER_WSS_PORT", "9443",
                        "STARLING_LISTENER_WSS_CLIENT_AUTH", "none", "STARLING_LISTENER_WSS_IDENTITY", "none",
                        "STARLING_LISTENER_TCP_ENABLED", "false"));
        assertEquals(List.of(ListenerConfig.Kind.TLS, ListenerConfig.Kind.WS, ListenerConfig.Kind.WSS),
                c.listeners().stream().map(ListenerConfig::kind).toList());
        ListenerConfig tls = c.listener(ListenerConfig.Kind.TLS).orElseThrow();
        assertEquals(8883, tls.port());
        assertEquals(TlsSettings.ClientAuth.REQUIRED, tls.tls().clientAuth());
        assertEquals(TlsSettings.Identity.SAN_DNS, tls.tls().identity());
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), tls.tls().protocols());
        assertEquals("/ws", c.listener(ListenerConfig.Kind.WS).orElseThrow().path());
        ListenerConfig wss = c.listener(ListenerConfig.Kind.WSS).orElseThrow();
        assertEquals(9443, wss.port());
        assertEquals(crt.toString(), wss.tls().certFile(), "wss takes the tls listener's certificate");
        assertEquals(TlsSettings.ClientAuth.NONE, wss.tls().clientAuth(), "but its own client-auth");
        assertEquals("/mqtt", wss.path());
    }

    @Test
    void listenerMistakesNameTheirKeys() throws Exception {
        assertMentions(failure(null, Map.of("STARLING_LISTENER_TLS_ENABLED", "true")),
                "listener.tls.cert-file", "listener.tls.keystore-file");
        Path crt = Files.writeString(dir.resolve("s.crt"), "x");
        Path key = Files.writeString(dir.resolve("s.key"), "x");
        Map<String, String> tls = Map.of("STARLING_LISTENER_TLS_ENABLED", "true",
                "STARLING_LISTENER_TLS_CERT_FILE", crt.toString(), "STARLING_LISTENER_TLS_KEY_FILE", key.toString());
        java.util.function.BiFunction<String, String, Map<String, String>> plus = (k, v) -> {
            Map<String, String> m = new java.util.HashMap<>(tls);
            m.put(k, v);
            return m;
        };
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_CLIENT_AUTH", "required")), "listener.tls.ca-file");
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_IDENTITY", "cn")), "listener.tls.client-auth");
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_IDENTITY", "email")), "listener.tls.identity",
                "san-email", "email");
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_MIN_VERSION", "1.1")), "listener.tls.min-version", "1.2");
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_PORT", "1883")), "127.0.0.1:1883");
        assertMentions(failure(null, plus.apply("STARLING_LISTENER_TLS_KEY_FILE", dir.resolve("missing.key").toString())),
                "listener.tls.key-file", "missing.key");
        assertMentions(failure(null, Map.of("STARLING_LISTENER_TCP_ENABLED", "false")), "at least one");
        assertMentions(failure(null, Map.of("STARLING_LISTENER_WS_ENABLED", "true", "STARLING_LISTENER_WS_HOST", "0.0.0.0")),
                "listener.ws.host", "listener.ws.allow-anonymous");
    }

    @Test
    void aCertificateListenerOnTheNetworkNeedsNoPasswordFile() throws Exception {
        Path crt = Files.writeString(dir.resolve("s.crt"), "x");
        Path key = Files.writeString(dir.resolve("s.key"), "x");
        Path ca = Files.writeString(dir.resolve("ca.crt"), "x");
        BrokerConfig c = ConfigLoader.load(null, Map.of("STARLING_LISTENER_TCP_ENABLED", "false",
                "STARLING_LISTENER_TLS_ENABLED", "true", "STARLING_LISTENER_TLS_HOST", "0.0.0.0",
                "STARLING_LISTENER_TLS_CERT_FILE", crt.toString(), "STARLING_LISTENER_TLS_KEY_FILE", key.toString(),
                "STARLING_LISTENER_TLS_CA_FILE", ca.toString(), "STARLING_LISTENER_TLS_CLIENT_AUTH", "required"));
        assertFalse(c.listeners().get(0).allowAnonymous());
    }

    @Test
    void aListenerTakesTheNodesClientRatesUnlessItSetsItsOwn() throws Exception {
        BrokerConfig c = ConfigLoader.load(yaml("limits:\n  client-messages-rate: 50\n  client-bytes-rate: 10000\n"
                + "listener:\n  ws:\n    enabled: true\n    port: 0\n    client-messages-rate: 0\n    connect-rate: 5\n"),
                Map.of("STARLING_LISTENER_WS_CLIENT_BYTES_RATE", "2000"));
        ListenerConfig.Rates tcp = c.listener(ListenerConfig.Kind.TCP).orElseThrow().rates();
        ListenerConfig.Rates ws = c.listener(ListenerConfig.Kind.WS).orElseThrow().rates();
        assertEquals(new ListenerConfig.Rates(0, 50, 10_000), tcp);
        assertEquals(new ListenerConfig.Rates(5, 0, 2000), ws, "0 is the listener's own: no limit there");
    }

    @Test
    void aProxyIdentityNeedsTheProxyProtocolAndLinkTlsNeedsAllItsFiles() throws Exception {
        assertMentions(failure(null, Map.of("STARLING_LISTENER_TCP_PROXY_IDENTITY", "cn")),
                "listener.tcp.proxy-identity", "listener.tcp.proxy-protocol");
        assertTrue(ConfigLoader.load(null, Map.of("STARLING_LISTENER_TCP_PROXY_IDENTITY", "cn",
                "STARLING_LISTENER_TCP_PROXY_PROTOCOL", "true")).listener(ListenerConfig.Kind.TCP).orElseThrow().proxyIdentity());
        Path cert = yaml("not read here");
        assertMentions(failure(null, Map.of("STARLING_CLUSTER_LINK_TLS_CERT_FILE", cert.toString())),
                "cluster.link-tls.cert-file", "cluster.link-tls.key-file", "cluster.link-tls.ca-file");
        assertMentions(failure(null, Map.of("STARLING_CLUSTER_LINK_TLS_CERT_FILE", cert.toString(),
                "STARLING_CLUSTER_LINK_TLS_KEY_FILE", cert.toString(), "STARLING_CLUSTER_LINK_TLS_CA_FILE", "/nonexistent/ca.crt")),
                "cluster.link-tls.ca-file", "not a readable file");
    }

    @Test
    void theHttpHooksUrlsMustBeHttpAndTheHookCountsAsAuthentication() throws Exception {
        assertMentions(failure(null, Map.of("STARLING_AUTH_HTTP_AUTHENTICATE_URL", "ftp://hook/auth")),
                "auth.http.authenticate-url", "ftp://hook/auth");
        assertMentions(failure(null, Map.of("STARLING_AUTH_HTTP_AUTHORIZE_URL", "hook:8080/acl")), "auth.http.authorize-url");
        assertMentions(failure(null, Map.of("STARLING_AUTH_HTTP_TIMEOUT_MS", "10")), "auth.http.timeout-ms");
        BrokerConfig c = ConfigLoader.load(null, Map.of("STARLING_LISTENER_HOST", "0.0.0.0",
                "STARLING_AUTH_HTTP_AUTHENTICATE_URL", "https://auth.example:8443/mqtt/auth"));
        assertTrue(c.authenticates(), "a hook authenticates: a non-loopback listener may start with it");
        assertTrue(c.authHttp().failClosed(), "fail-closed by default");
        assertEquals(5000, c.authHttp().timeoutMillis());
        assertFalse(c.authHttp().authorizes());
    }
}
