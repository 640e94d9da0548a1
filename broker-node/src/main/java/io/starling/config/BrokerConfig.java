package io.starling.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The node's typed configuration. Every key has a default, so a node starts with no file at all.
 * {@link ConfigLoader} fills it from YAML and from {@code STARLING_*} environment variables;
 * {@link #KEYS} is the single list of keys, their defaults and their valid ranges.
 */
public record BrokerConfig(
        String listenerHost,
        java.util.List<ListenerConfig> listeners,
        boolean allowAnonymousNonLoopback,
        int eventLoops,
        int maxPacketSize,
        int maxKeepAliveSeconds,
        int connectTimeoutSeconds,
        int receiveMaximum,
        int maxInflight,
        int maxQueuedMessages,
        int failoverGraceSeconds,
        long maxQueuedBytes,
        long maxSessionExpirySeconds,
        int topicAliasMaximum,
        int sysIntervalSeconds,
        String clusterName,
        String clusterBindHost,
        int clusterPort,
        String clusterMembers,
        String clusterKubernetesServiceDns,
        int clusterBackupCount,
        int clusterLinkPort,
        LinkTlsFiles clusterLinkTls,
        boolean metricsEnabled,
        String metricsHost,
        int metricsPort,
        String authPasswordFile,
        boolean authAllowAnonymous,
        String authAclFile,
        Jwt authJwt,
        Http authHttp,
        Limits limits,
        Persistence persistence) {

    /**
     * persistence.*: the node's durable store (docs/adr/0016). {@code mode} is none, interval or
     * sync, already resolved (persistence.dir alone means interval).
     */
    public record Persistence(String mode, String dir, int intervalMillis, int batchRecords) {
        public boolean enabled() {
            return !"none".equals(mode);
        }
    }

    /** auth.http.*: the HTTP hook asked per CONNECT and per first use of a topic; each URL off while empty. */
    public record Http(String authenticateUrl, String authorizeUrl, int timeoutMillis, int cacheSeconds, boolean failClosed) {
        public boolean authenticates() {
            return !authenticateUrl.isEmpty();
        }

        public boolean authorizes() {
            return !authorizeUrl.isEmpty();
        }
    }

    /** auth.jwt.*: JSON Web Tokens as the client's proof; off while jwks-file is empty. */
    public record Jwt(String jwksFile, boolean fromUsername, String usernameClaim, String issuer, String audience,
                      int clockSkewSeconds, String aclClaim, boolean disconnectOnExpiry) {
        public boolean enabled() {
            return !jwksFile.isEmpty();
        }
    }

    /**
     * Mutual TLS on the node-to-node forwarding links (cluster.link-tls.*): every node presents
     * cert-file and accepts peers only with a certificate from ca-file. Off while cert-file is empty.
     */
    public record LinkTlsFiles(String certFile, String keyFile, String keyPassword, String caFile) {
        public boolean enabled() {
            return !certFile.isEmpty();
        }
    }

    /** Node-wide limits (limits.*); 0 means none. */
    public record Limits(int maxConnections, int connectRate, int maxTopicLength, int maxTopicLevels,
                         int maxSubscriptionsPerClient) {
    }


    /**
     * A key: its dotted name, default, inclusive range for numbers, and for a string with a fixed
     * set of values, those values (an empty string among them meaning "as the key it inherits from").
     */
    public record Key(String name, Object defaultValue, long min, long max, String help, java.util.List<String> choices) {
        public String envName() {
            return "STARLING_" + name.toUpperCase().replace('.', '_').replace('-', '_');
        }
    }

    public static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, Object def, long min, long max, String help) {
        KEYS.put(name, new Key(name, def, min, max, help, java.util.List.of()));
    }

    private static void choice(String name, String def, String help, String... choices) {
        KEYS.put(name, new Key(name, def, 0, 0, help + " (" + String.join(" | ", java.util.Arrays.stream(choices)
                .map(c -> c.isEmpty() ? "empty" : c).toList()) + ")", java.util.List.of(choices)));
    }

    /**
     * The keys of the four listeners. The plain TCP one keeps the keys it always had
     * ({@code listener.host}, {@code listener.port}); the others are off until enabled. The wss
     * listener's TLS keys are empty by default, which means "as the tls listener's".
     */
    private static void listenerKeys() {
        key("listener.tcp.enabled", true, 0, 0, "plain MQTT over TCP on listener.host:listener.port");
        for (ListenerConfig.Kind k : ListenerConfig.Kind.values()) {
            String p = "listener." + k.key + ".";
            if (k != ListenerConfig.Kind.TCP) {
                key(p + "enabled", false, 0, 0, "turn on the " + k.key + " listener");
                key(p + "host", "", 0, 0, "address the " + k.key + " listener binds (empty: listener.host)");
                key(p + "port", k.defaultPort, 0, 65535, k.key + " listener port (0 picks a free port)");
            }
            if (k.webSocket) {
                key(p + "path", "/mqtt", 0, 0, "HTTP path of the WebSocket upgrade");
            }
            key(p + "proxy-protocol", false, 0, 0, "connections start with a PROXY protocol v1 or v2 header "
                    + "(HAProxy send-proxy-v2, AWS NLB); one without it is refused");
            choice(p + "proxy-identity", "none", "cn: a client certificate's CN that a TLS-terminating proxy verified and "
                    + "sent in its PROXY v2 header (HAProxy send-proxy-v2-ssl-cn) is the client's username", "none", "cn");
            choice(p + "allow-anonymous", "", "clients without a username may connect on this listener "
                    + "(empty: auth.allow-anonymous, or true on loopback without a password file)", "", "true", "false");
            key(p + "max-connections", 0, 0, Integer.MAX_VALUE, "connections this listener holds at once (0: no limit)");
            key(p + "connect-rate", 0, 0, 1_000_000, "new connections per second this listener accepts, besides "
                    + "limits.connect-rate (0: no limit of its own)");
            key(p + "client-messages-rate", -1, -1, Integer.MAX_VALUE, "PUBLISH packets per second one client may "
                    + "send on this listener (-1: limits.client-messages-rate; 0: no limit)");
            key(p + "client-bytes-rate", -1, -1, Long.MAX_VALUE, "topic and payload bytes per second one client may "
                    + "publish on this listener (-1: limits.client-bytes-rate; 0: no limit)");
            if (k.secure) {
                boolean inherit = k == ListenerConfig.Kind.WSS;
                String same = inherit ? " (empty: as listener.tls)" : "";
                key(p + "cert-file", "", 0, 0, "PEM certificate chain, server first" + same);
                key(p + "key-file", "", 0, 0, "PEM private key (PKCS#8, RSA or EC; PKCS#1 too)" + same);
                key(p + "key-password", "", 0, 0, "password of an encrypted key-file" + same);
                key(p + "keystore-file", "", 0, 0, "PKCS#12 keystore with key and chain, instead of cert-file and key-file" + same);
                key(p + "keystore-password", "", 0, 0, "password of the keystore" + same);
                key(p + "ca-file", "", 0, 0, "PEM bundle of the CAs client certificates are verified against" + same);
                choice(p + "client-auth", inherit ? "" : "none", "ask clients for a certificate" + same,
                        inherit ? new String[] {"", "none", "optional", "required"} : new String[] {"none", "optional", "required"});
                choice(p + "identity", inherit ? "" : "none", "what of a verified client certificate becomes the "
                        + "client's username (as use_identity_as_username)" + same,
                        inherit ? new String[] {"", "none", "cn", "dn", "san-dns", "san-uri", "san-email", "sha256"}
                                : new String[] {"none", "cn", "dn", "san-dns", "san-uri", "san-email", "sha256"});
                choice(p + "min-version", inherit ? "" : "1.2", "lowest TLS version accepted" + same,
                        inherit ? new String[] {"", "1.2", "1.3"} : new String[] {"1.2", "1.3"});
                key(p + "ciphers", "", 0, 0, "comma-separated cipher suites (empty: the provider's defaults)" + same);
            }
        }
        choice("tls.provider", "openssl", "TLS implementation of every TLS listener (ADR 0013)", "jdk", "openssl");
    }

    static {
        key("listener.host", "127.0.0.1", 0, 0, "address the MQTT listener binds");
        key("listener.port", 1883, 0, 65535, "MQTT TCP port (0 picks a free port)");
        key("listener.allow-anonymous-non-loopback", false, 0, 0,
                "allow clients without authentication on a non-loopback address");
        listenerKeys();
        key("node.event-loops", Runtime.getRuntime().availableProcessors(), 1, 1024,
                "listener instances (one per event loop)");
        key("mqtt.max-packet-size", 1_048_576, 64, 268_435_455,
                "largest packet accepted, in bytes (sent as Maximum Packet Size)");
        key("mqtt.max-keep-alive", 300, 1, 65535,
                "keep-alive cap in seconds (sent to 5.0 clients as Server Keep Alive)");
        key("mqtt.connect-timeout", 10, 1, 3600,
                "seconds a new connection may take to send CONNECT");
        key("mqtt.receive-maximum", 100, 1, 65535,
                "QoS 1/2 publishes a client may have unacknowledged towards the broker");
        key("mqtt.max-inflight", 100, 1, 65535,
                "QoS 1/2 messages the broker has unacknowledged towards one client");
        key("mqtt.max-queued-messages", 1000, 0, 10_000_000,
                "messages kept per session beyond the inflight window; overflow is dropped and counted");
        key("mqtt.max-queued-bytes", 0L, 0, Long.MAX_VALUE,
                "bytes of messages all sessions of this node may hold queued (0: half the maximum heap); past it "
                        + "QoS 0 is dropped and QoS 1/2 refused (5.0: 0x97), so memory stays bounded");
        key("mqtt.failover-grace", 30, 0, 3600,
                "seconds a session whose client was cut off by a node's failure or leave keeps its publishers "
                        + "waiting instead of dropping its overflow, while the client reconnects");
        key("mqtt.max-session-expiry", 4_294_967_295L, 0, 4_294_967_295L,
                "cap on Session Expiry Interval, in seconds");
        key("mqtt.topic-alias-maximum", 10, 0, 65535,
                "topic aliases a 5.0 client may use towards the broker");
        key("sys.interval", 10, 0, 86400, "seconds between $SYS updates (0 turns them off)");
        key("cluster.name", "starling", 0, 0, "Hazelcast cluster name; members with another name never join");
        key("cluster.bind-host", "127.0.0.1", 0, 0, "address the Hazelcast member listens on");
        key("cluster.port", 5701, 1, 65535, "first Hazelcast port tried (the next free one is taken)");
        key("cluster.members", "", 0, 0,
                "comma-separated host:port of other members; empty: a one-member cluster that joins nothing");
        key("cluster.kubernetes-service-dns", "", 0, 0,
                "DNS name of a Kubernetes headless service to discover members by (instead of cluster.members)");
        key("cluster.backup-count", 1, 0, 6,
                "copies of shared state (sessions, queued messages, retained) kept on other members");
        key("cluster.link-port", 5801, 1, 65535,
                "first port tried for node-to-node message forwarding (the next free one is taken)");
        key("cluster.link-tls.cert-file", "", 0, 0, "PEM certificate chain this node presents on its links to "
                + "other nodes (empty: the links are plain TCP); needs key-file and ca-file");
        key("cluster.link-tls.key-file", "", 0, 0, "PEM private key of cluster.link-tls.cert-file");
        key("cluster.link-tls.key-password", "", 0, 0, "password of an encrypted cluster.link-tls.key-file");
        key("cluster.link-tls.ca-file", "", 0, 0, "PEM bundle of the CA that issued every node's link certificate: "
                + "a link from a peer without one is refused");
        key("metrics.enabled", true, 0, 0,
                "serve /metrics (Prometheus) and /health/live, /health/ready over HTTP");
        // Empty means "the listener's host": a node reachable for MQTT is reachable for scrapes too.
        key("metrics.host", "", 0, 0, "address the metrics and health HTTP server binds (empty: listener.host)");
        // No 0 here: Prometheus and the probes need a port known before start-up.
        key("metrics.port", 8080, 1, 65535, "HTTP port of /metrics and /health/*");
        key("auth.password-file", "", 0, 0,
                "a Mosquitto password file (mosquitto_passwd or starling-passwd): clients must give a username and "
                        + "password from it");
        key("auth.allow-anonymous", false, 0, 0,
                "with a password file, also allow clients that give no username; without one, allow anonymous "
                        + "clients on a non-loopback listener");
        choice("persistence.mode", "", "how durable sessions and their queued QoS 1/2 messages are across a restart of "
                + "every node: none (memory and the other nodes' backups only), interval (written at once, synced to "
                + "disk every persistence.interval-ms), sync (PUBACK/PUBREC/SUBACK only once on disk); empty: interval "
                + "when persistence.dir is set, none otherwise", "", "none", "interval", "sync");
        key("persistence.dir", "", 0, 0, "directory of the node's store (RocksDB); each node needs its own");
        key("persistence.interval-ms", 1000, 1, 3_600_000, "with persistence.mode interval, milliseconds between syncs "
                + "of the store to disk: what a crash of the machine may lose");
        key("persistence.batch-records", 1000, 1, 1_000_000, "changes written to the store in one batch (one sync with "
                + "persistence.mode sync) at most");
        key("limits.max-connections", 0, 0, Integer.MAX_VALUE,
                "connections this node holds at once over all listeners (0: no limit)");
        key("limits.connect-rate", 0, 0, 1_000_000,
                "new connections per second this node accepts, bursts up to one second's worth (0: no limit)");
        key("limits.client-messages-rate", 0, 0, Integer.MAX_VALUE,
                "PUBLISH packets per second one client may send, bursts up to one second's worth (0: no limit); "
                        + "a client over it is not read until it is within it again, its QoS 1/2 acknowledged late");
        key("limits.client-bytes-rate", 0, 0, Long.MAX_VALUE,
                "topic and payload bytes per second one client may publish, as limits.client-messages-rate (0: no limit)");
        key("limits.max-topic-length", 65_535, 1, 65_535,
                "longest topic name or filter accepted, in UTF-8 bytes");
        key("limits.max-topic-levels", 128, 0, 65_535,
                "most levels in a topic name or filter (0: no limit)");
        key("limits.max-subscriptions-per-client", 0, 0, Integer.MAX_VALUE,
                "subscriptions one session may hold (0: no limit); more are refused with 0x97 (3.1.1: 0x80)");
        key("auth.jwt.jwks-file", "", 0, 0, "a JWKS file (RSA, EC P-256 and oct keys): a client whose password is a JWT "
                + "signed with one of them (RS256, ES256, HS256) and not expired is let in as its username claim; "
                + "reloaded on change");
        choice("auth.jwt.from", "password", "which CONNECT field carries the token", "password", "username");
        key("auth.jwt.username-claim", "sub", 0, 0, "the claim the client is known by (its username for ACLs and logs)");
        key("auth.jwt.issuer", "", 0, 0, "the iss a token must have (empty: not checked)");
        key("auth.jwt.audience", "", 0, 0, "an aud a token must have (empty: not checked)");
        key("auth.jwt.clock-skew", 30, 0, 3600, "seconds of clock difference allowed when checking exp and nbf");
        key("auth.jwt.acl-claim", "acl", 0, 0, "the claim with the client's rights, EMQX's forms "
                + "({\"pub\":[..],\"sub\":[..],\"all\":[..]} or [{\"permission\",\"action\",\"topic\"}]): where a token "
                + "has it, the client may do only what it allows (empty: not read)");
        key("auth.jwt.disconnect-on-expiry", true, 0, 0, "disconnect a client when its token's exp passes (5.0: 0xA0)");
        key("auth.http.authenticate-url", "", 0, 0, "an http(s) URL POSTed each CONNECT's client id, username, password and "
                + "address; its answer {\"result\": \"allow\"|\"deny\"|\"ignore\"} decides (ignore: the password file or JWT "
                + "keys do), optionally with username, acl and expire_at (empty: not asked)");
        key("auth.http.authorize-url", "", 0, 0, "an http(s) URL POSTed the action (publish, subscribe) and topic the "
                + "first time a client uses it; allow or deny, beside the ACL file (empty: not asked)");
        key("auth.http.timeout-ms", 5000, 50, 60_000, "milliseconds the hook has to answer; no answer is an error");
        key("auth.http.cache-seconds", 60, 0, 86_400, "seconds an allow at CONNECT and a client's answer per topic are kept");
        key("auth.http.fail-closed", true, 0, 0, "an error or timeout of the hook refuses (CONNECT: 0x88, 3.1.1: 0x03; "
                + "publish and subscribe: 0x87); false lets the client in or on, logged");
        key("auth.acl-file", "", 0, 0,
                "a Mosquitto ACL file (topic/user/pattern lines): what it does not allow is denied, SUBSCRIBE included");
    }

    public static BrokerConfig defaults() {
        return ConfigLoader.fromMap(Map.of(), Map.of());
    }

    /** The node-wide bound on queued message bytes: mqtt.max-queued-bytes, or half the maximum heap for 0. */
    public long effectiveMaxQueuedBytes() {
        return maxQueuedBytes > 0 ? maxQueuedBytes : Runtime.getRuntime().maxMemory() / 2;
    }

    public java.util.List<String> clusterMemberList() {
        return clusterMembers.isBlank() ? java.util.List.of()
                : java.util.Arrays.stream(clusterMembers.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
    }

    /** Whether clients must authenticate (a password file, JWT keys or an authentication hook is set). */
    public boolean authenticates() {
        return !authPasswordFile.isEmpty() || authJwt.enabled() || authHttp.authenticates();
    }

    public boolean listenerIsLoopback() {
        return ConfigLoader.isLoopback(listenerHost);
    }

    /** The plain TCP listener's port as configured (listener.port), also when that listener is off. */
    public int listenerPort() {
        return listeners.stream().filter(l -> l.kind() == ListenerConfig.Kind.TCP).mapToInt(ListenerConfig::port)
                .findFirst().orElse(-1);
    }

    public java.util.Optional<ListenerConfig> listener(ListenerConfig.Kind kind) {
        return listeners.stream().filter(l -> l.kind() == kind).findFirst();
    }

    public BrokerConfig withListeners(java.util.List<ListenerConfig> ls) {
        return new BrokerConfig(listenerHost, ls, allowAnonymousNonLoopback, eventLoops, maxPacketSize,
                maxKeepAliveSeconds, connectTimeoutSeconds, receiveMaximum, maxInflight, maxQueuedMessages,
                failoverGraceSeconds, maxQueuedBytes, maxSessionExpirySeconds, topicAliasMaximum, sysIntervalSeconds, clusterName, clusterBindHost,
                clusterPort, clusterMembers, clusterKubernetesServiceDns, clusterBackupCount, clusterLinkPort,
                clusterLinkTls, metricsEnabled, metricsHost, metricsPort, authPasswordFile, authAllowAnonymous, authAclFile, authJwt, authHttp, limits,
                persistence);
    }
}
