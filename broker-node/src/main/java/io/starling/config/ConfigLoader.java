package io.starling.config;

import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads {@link BrokerConfig} from an optional YAML file and the environment. Precedence: an
 * environment variable ({@code STARLING_MQTT_MAX_PACKET_SIZE} for {@code mqtt.max-packet-size})
 * over the file over the default. Unknown keys and out-of-range values stop start-up with a
 * message that names the key.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    public static BrokerConfig load(Path file, Map<String, String> env) {
        Map<String, Object> flat = new LinkedHashMap<>();
        if (file != null) {
            try (Reader reader = Files.newBufferedReader(file)) {
                Object root = new Yaml().load(reader);
                if (root != null && !(root instanceof Map)) {
                    throw new ConfigException(file + ": the top level must be a mapping of keys");
                }
                if (root != null) {
                    flatten("", (Map<?, ?>) root, flat);
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read configuration file " + file + ": " + e.getMessage());
            } catch (YAMLException e) {
                throw new ConfigException("configuration file " + file + " is not valid YAML: " + e.getMessage());
            }
        }
        return fromMap(flat, env);
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, Object> out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                flatten(key + ".", nested, out);
            } else {
                out.put(key, e.getValue());
            }
        }
    }

    static BrokerConfig fromMap(Map<String, Object> fileValues, Map<String, String> env) {
        for (String key : fileValues.keySet()) {
            if (!BrokerConfig.KEYS.containsKey(key)) {
                throw new ConfigException("unknown configuration key '" + key + "'; known keys: "
                        + String.join(", ", BrokerConfig.KEYS.keySet()));
            }
        }
        Map<String, Object> v = new LinkedHashMap<>();
        for (BrokerConfig.Key key : BrokerConfig.KEYS.values()) {
            Object raw = fileValues.getOrDefault(key.name(), key.defaultValue());
            String source = fileValues.containsKey(key.name()) ? "configuration file" : "default";
            String fromEnv = env.get(key.envName());
            if (fromEnv != null) {
                raw = fromEnv;
                source = "environment variable " + key.envName();
            }
            v.put(key.name(), convert(key, raw, source));
        }
        BrokerConfig config = new BrokerConfig(
                (String) v.get("listener.host"),
                ListenerSettings.from(v),
                (Boolean) v.get("listener.allow-anonymous-non-loopback"),
                ((Long) v.get("node.event-loops")).intValue(),
                ((Long) v.get("mqtt.max-packet-size")).intValue(),
                ((Long) v.get("mqtt.max-keep-alive")).intValue(),
                ((Long) v.get("mqtt.connect-timeout")).intValue(),
                ((Long) v.get("mqtt.receive-maximum")).intValue(),
                ((Long) v.get("mqtt.max-inflight")).intValue(),
                ((Long) v.get("mqtt.max-queued-messages")).intValue(),
                ((Long) v.get("mqtt.failover-grace")).intValue(),
                (Long) v.get("mqtt.max-queued-bytes"),
                (Long) v.get("mqtt.max-session-expiry"),
                ((Long) v.get("mqtt.topic-alias-maximum")).intValue(),
                ((Long) v.get("sys.interval")).intValue(),
                (String) v.get("cluster.name"),
                (String) v.get("cluster.bind-host"),
                ((Long) v.get("cluster.port")).intValue(),
                (String) v.get("cluster.members"),
                (String) v.get("cluster.kubernetes-service-dns"),
                ((Long) v.get("cluster.backup-count")).intValue(),
                ((Long) v.get("cluster.link-port")).intValue(),
                linkTls(v),
                (Boolean) v.get("metrics.enabled"),
                ((String) v.get("metrics.host")).isEmpty() ? (String) v.get("listener.host") : (String) v.get("metrics.host"),
                ((Long) v.get("metrics.port")).intValue(),
                (String) v.get("auth.password-file"),
                (Boolean) v.get("auth.allow-anonymous"),
                (String) v.get("auth.acl-file"),
                new BrokerConfig.Jwt((String) v.get("auth.jwt.jwks-file"), "username".equals(v.get("auth.jwt.from")),
                        (String) v.get("auth.jwt.username-claim"), (String) v.get("auth.jwt.issuer"),
                        (String) v.get("auth.jwt.audience"), ((Long) v.get("auth.jwt.clock-skew")).intValue(),
                        (String) v.get("auth.jwt.acl-claim"), (Boolean) v.get("auth.jwt.disconnect-on-expiry")),
                new BrokerConfig.Http(url(v, "auth.http.authenticate-url"), url(v, "auth.http.authorize-url"),
                        ((Long) v.get("auth.http.timeout-ms")).intValue(), ((Long) v.get("auth.http.cache-seconds")).intValue(),
                        (Boolean) v.get("auth.http.fail-closed")),
                new BrokerConfig.Limits(((Long) v.get("limits.max-connections")).intValue(),
                        ((Long) v.get("limits.connect-rate")).intValue(),
                        ((Long) v.get("limits.max-topic-length")).intValue(),
                        ((Long) v.get("limits.max-topic-levels")).intValue(),
                        ((Long) v.get("limits.max-subscriptions-per-client")).intValue()),
                persistence(v));
        if (config.persistence().enabled() && config.persistence().dir().isBlank()) {
            throw new ConfigException("persistence.mode " + config.persistence().mode() + " needs persistence.dir: "
                    + "the directory of this node's store");
        }
        if (!config.clusterKubernetesServiceDns().isEmpty() && !config.clusterMemberList().isEmpty()) {
            throw new ConfigException("cluster.members and cluster.kubernetes-service-dns are both set: "
                    + "choose one way for members to find each other");
        }
        if (!config.authAclFile().isEmpty()) {
            java.nio.file.Path acl = java.nio.file.Path.of(config.authAclFile());
            if (!java.nio.file.Files.isReadable(acl) || java.nio.file.Files.isDirectory(acl)) {
                throw new ConfigException("configuration key 'auth.acl-file': " + acl + " is not a readable file");
            }
        }
        if (!config.authPasswordFile().isEmpty()) {
            java.nio.file.Path pw = java.nio.file.Path.of(config.authPasswordFile());
            if (!java.nio.file.Files.isReadable(pw) || java.nio.file.Files.isDirectory(pw)) {
                throw new ConfigException("configuration key 'auth.password-file': " + pw + " is not a readable file");
            }
        }
        return config;
    }

    /** An http or https URL with a host, or empty. */
    private static String url(Map<String, Object> v, String key) {
        String s = ((String) v.get(key)).strip();
        if (s.isEmpty()) {
            return s;
        }
        try {
            java.net.URI u = new java.net.URI(s);
            if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
                return s;
            }
        } catch (java.net.URISyntaxException e) {
            // said below
        }
        throw new ConfigException("configuration key '" + key + "' must be an http:// or https:// URL with a host, not '" + s + "'");
    }

    private static Object convert(BrokerConfig.Key key, Object raw, String source) {
        Object def = key.defaultValue();
        String where = "configuration key '" + key.name() + "' (from " + source + ")";
        if (!key.choices().isEmpty()) {
            String s = raw == null ? "" : raw.toString().trim().toLowerCase(java.util.Locale.ROOT);
            if (!key.choices().contains(s)) {
                throw new ConfigException(where + " must be one of " + String.join(", ", key.choices().stream()
                        .filter(c -> !c.isEmpty()).toList()) + ", not '" + raw + "'");
            }
            return s;
        }
        if (def instanceof String d) {
            if (d.isEmpty()) {
                return raw == null ? "" : raw.toString().trim();
            }
            if (raw == null || raw.toString().isBlank()) {
                throw new ConfigException(where + " must not be empty");
            }
            return raw.toString().trim();
        }
        if (def instanceof Boolean) {
            String s = String.valueOf(raw).trim().toLowerCase();
            if (s.equals("true") || s.equals("false")) {
                return Boolean.valueOf(s);
            }
            throw new ConfigException(where + " must be true or false, not '" + raw + "'");
        }
        long n;
        try {
            n = raw instanceof Number num ? num.longValue() : Long.parseLong(String.valueOf(raw).trim());
            if (raw instanceof Double || raw instanceof Float) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new ConfigException(where + " must be a whole number, not '" + raw + "'");
        }
        if (n < key.min() || n > key.max()) {
            throw new ConfigException(where + " must be between " + key.min() + " and " + key.max()
                    + ", not " + n);
        }
        return n;
    }

    private static BrokerConfig.Persistence persistence(Map<String, Object> v) {
        String dir = ((String) v.get("persistence.dir")).trim();
        String mode = (String) v.get("persistence.mode");
        if (mode.isEmpty()) {
            mode = dir.isEmpty() ? "none" : "interval"; // a directory alone asks for a store
        }
        return new BrokerConfig.Persistence(mode, dir, ((Long) v.get("persistence.interval-ms")).intValue(),
                ((Long) v.get("persistence.batch-records")).intValue());
    }

    static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new ConfigException("listener.host '" + host + "' does not resolve: " + e.getMessage());
        }
    }

    /** cluster.link-tls.*: all three files or none, each readable. */
    private static BrokerConfig.LinkTlsFiles linkTls(Map<String, Object> v) {
        BrokerConfig.LinkTlsFiles t = new BrokerConfig.LinkTlsFiles((String) v.get("cluster.link-tls.cert-file"),
                (String) v.get("cluster.link-tls.key-file"), (String) v.get("cluster.link-tls.key-password"),
                (String) v.get("cluster.link-tls.ca-file"));
        boolean any = t.enabled() || !t.keyFile().isEmpty() || !t.caFile().isEmpty();
        if (any && (t.certFile().isEmpty() || t.keyFile().isEmpty() || t.caFile().isEmpty())) {
            throw new ConfigException("TLS on the node links needs all of cluster.link-tls.cert-file, "
                    + "cluster.link-tls.key-file and cluster.link-tls.ca-file");
        }
        for (String key : java.util.List.of("cert-file", "key-file", "ca-file")) {
            String file = (String) v.get("cluster.link-tls." + key);
            if (!file.isEmpty() && (!java.nio.file.Files.isReadable(java.nio.file.Path.of(file))
                    || java.nio.file.Files.isDirectory(java.nio.file.Path.of(file)))) {
                throw new ConfigException("configuration key 'cluster.link-tls." + key + "': " + file + " is not a readable file");
            }
        }
        return t;
    }
}
