package io.starling.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the enabled listeners from the converted key values and checks what no single key can:
 * that certificates are there and readable, that a certificate identity has certificates to come
 * from, that no two listeners share an address, and that a non-loopback listener does not take
 * anonymous clients unless told to.
 */
final class ListenerSettings {
    private ListenerSettings() {
    }

    static List<ListenerConfig> from(Map<String, Object> v) {
        String defaultHost = (String) v.get("listener.host");
        boolean passwords = !((String) v.get("auth.password-file")).isEmpty() || !((String) v.get("auth.jwt.jwks-file")).isEmpty()
                || !((String) v.get("auth.http.authenticate-url")).isBlank();
        boolean anonymous = (Boolean) v.get("auth.allow-anonymous");
        boolean legacyAnonymous = (Boolean) v.get("listener.allow-anonymous-non-loopback");
        List<ListenerConfig> out = new ArrayList<>();
        for (ListenerConfig.Kind k : ListenerConfig.Kind.values()) {
            String p = "listener." + k.key + ".";
            if (!(Boolean) v.get(p + "enabled")) {
                continue;
            }
            String host = k == ListenerConfig.Kind.TCP ? defaultHost : orElse((String) v.get(p + "host"), defaultHost);
            int port = ((Long) v.get(k == ListenerConfig.Kind.TCP ? "listener.port" : p + "port")).intValue();
            String path = k.webSocket ? (String) v.get(p + "path") : null;
            if (path != null && !path.startsWith("/")) {
                throw new ConfigException("configuration key '" + p + "path' must start with '/', not '" + path + "'");
            }
            TlsSettings tls = k.secure ? tls(v, p, k == ListenerConfig.Kind.WSS ? "listener.tls." : null) : null;
            boolean loopback = ConfigLoader.isLoopback(host);
            String explicit = (String) v.get(p + "allow-anonymous");
            boolean certificates = tls != null && tls.clientAuth() == TlsSettings.ClientAuth.REQUIRED;
            boolean allowAnonymous = !explicit.isEmpty() ? Boolean.parseBoolean(explicit)
                    : passwords ? anonymous
                    : anonymous || legacyAnonymous || (loopback && !certificates);
            if (!loopback && !passwords && !certificates && !allowAnonymous) {
                String hostKey = k == ListenerConfig.Kind.TCP || ((String) v.get(p + "host")).isEmpty()
                        ? "listener.host" : p + "host";
                throw new ConfigException("the " + k.key + " listener binds " + host + " (" + hostKey + "), which is not "
                        + "a loopback address, and no authentication is configured: set auth.password-file, auth.jwt.jwks-file or auth.http.authenticate-url, or "
                        + (k.secure ? p + "client-auth: required, or " : "")
                        + p + "allow-anonymous: true (or auth.allow-anonymous: true) to accept anonymous clients there");
            }
            out.add(new ListenerConfig(k, host, port, path, (Boolean) v.get(p + "proxy-protocol"), allowAnonymous,
                    ((Long) v.get(p + "max-connections")).intValue(), tls, rates(v, p), proxyIdentity(v, p)));
        }
        if (out.isEmpty()) {
            throw new ConfigException("every listener is off (listener.tcp.enabled is false and no other is enabled): "
                    + "a node needs at least one");
        }
        Set<String> addresses = new HashSet<>();
        for (ListenerConfig l : out) {
            if (l.port() != 0 && !addresses.add(l.host() + ":" + l.port())) {
                throw new ConfigException("two listeners bind " + l.host() + ":" + l.port() + "; the " + l.name()
                        + " listener needs a port of its own");
            }
        }
        return List.copyOf(out);
    }

    /** listener.*.proxy-identity: only where a PROXY header is read at all. */
    private static boolean proxyIdentity(Map<String, Object> v, String p) {
        boolean cn = "cn".equals(v.get(p + "proxy-identity"));
        if (cn && !(Boolean) v.get(p + "proxy-protocol")) {
            throw new ConfigException("configuration key '" + p + "proxy-identity' takes the username from the PROXY "
                    + "protocol header, but " + p + "proxy-protocol is false");
        }
        return cn;
    }

    /** The listener's rates: its own where it sets them (not -1), else the node's. */
    private static ListenerConfig.Rates rates(Map<String, Object> v, String p) {
        long messages = (Long) v.get(p + "client-messages-rate");
        long bytes = (Long) v.get(p + "client-bytes-rate");
        return new ListenerConfig.Rates(((Long) v.get(p + "connect-rate")).intValue(),
                messages >= 0 ? messages : (Long) v.get("limits.client-messages-rate"),
                bytes >= 0 ? bytes : (Long) v.get("limits.client-bytes-rate"));
    }

    /** A TLS listener's settings; with {@code parent}, empty values are taken from the parent's keys. */
    private static TlsSettings tls(Map<String, Object> v, String p, String parent) {
        java.util.function.Function<String, String> get = name -> {
            String own = (String) v.get(p + name);
            return own.isEmpty() && parent != null ? (String) v.get(parent + name) : own;
        };
        String cert = get.apply("cert-file");
        String key = get.apply("key-file");
        String keystore = get.apply("keystore-file");
        String ca = get.apply("ca-file");
        String where = parent != null && ((String) v.get(p + "cert-file")).isEmpty()
                && ((String) v.get(p + "keystore-file")).isEmpty() ? parent : p;
        if (keystore.isEmpty() && (cert.isEmpty() || key.isEmpty())) {
            throw new ConfigException("the " + p.substring(9, p.length() - 1) + " listener needs a certificate: set "
                    + where + "cert-file and " + where + "key-file (PEM), or " + where + "keystore-file (PKCS#12)");
        }
        if (!keystore.isEmpty() && !cert.isEmpty()) {
            throw new ConfigException("configuration keys '" + where + "keystore-file' and '" + where
                    + "cert-file' are both set: choose one");
        }
        for (String f : List.of("cert-file", "key-file", "keystore-file", "ca-file")) {
            readable(where + f, get.apply(f));
        }
        TlsSettings.ClientAuth clientAuth = TlsSettings.ClientAuth.valueOf(get.apply("client-auth").toUpperCase());
        TlsSettings.Identity identity = TlsSettings.Identity.of(get.apply("identity"));
        if (clientAuth != TlsSettings.ClientAuth.NONE && ca.isEmpty()) {
            throw new ConfigException("configuration key '" + where + "client-auth' is " + clientAuth.name().toLowerCase()
                    + ": set " + where + "ca-file to the CAs client certificates are verified against");
        }
        if (identity != TlsSettings.Identity.NONE && clientAuth == TlsSettings.ClientAuth.NONE) {
            throw new ConfigException("configuration key '" + where + "identity' takes the username from client "
                    + "certificates, but " + where + "client-auth is none: set it to required (or optional)");
        }
        String ciphers = get.apply("ciphers");
        return new TlsSettings(cert, key, get.apply("key-password"), keystore, get.apply("keystore-password"), ca,
                clientAuth, identity, get.apply("min-version"),
                ciphers.isBlank() ? List.of() : Arrays.stream(ciphers.split(",")).map(String::trim).filter(c -> !c.isEmpty()).toList(),
                (String) v.get("tls.provider"));
    }

    private static void readable(String key, String file) {
        if (file.isEmpty()) {
            return;
        }
        Path f = Path.of(file);
        if (!Files.isReadable(f) || Files.isDirectory(f)) {
            throw new ConfigException("configuration key '" + key + "': " + f + " is not a readable file");
        }
    }

    private static String orElse(String s, String otherwise) {
        return s.isEmpty() ? otherwise : s;
    }
}
