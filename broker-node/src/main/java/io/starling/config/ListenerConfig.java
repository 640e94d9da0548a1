package io.starling.config;

/**
 * One MQTT listener of a node, as Mosquitto's {@code listener} blocks: what it speaks (plain TCP,
 * TLS, WebSocket or WebSocket over TLS), where it binds, and its own authentication and limits.
 * Only enabled listeners are in {@link BrokerConfig#listeners()}.
 *
 * @param allowAnonymous   clients without a username (or, on a certificate listener, without a
 *                         certificate) may connect here
 * @param maxConnections   connections this listener holds at once (0: no limit of its own)
 * @param tls              certificates and client-certificate policy; null for tcp and ws
 * @param rates            how fast connections may come and clients may publish here
 * @param proxyIdentity    the username is the CN of the client certificate a TLS-terminating
 *                         proxy verified, from its PROXY v2 header (PP2_SUBTYPE_SSL_CN)
 */
public record ListenerConfig(Kind kind, String host, int port, String path, boolean proxyProtocol,
                             boolean allowAnonymous, int maxConnections, TlsSettings tls, Rates rates,
                             boolean proxyIdentity) {

    /**
     * @param connectRate        new connections per second on this listener, besides the node's limits.connect-rate (0: none)
     * @param clientMessagesRate PUBLISH packets per second one client may send (0: none); the node's
     *                           limits.client-messages-rate unless the listener sets its own
     * @param clientBytesRate    topic and payload bytes per second one client may publish (0: none)
     */
    public record Rates(int connectRate, long clientMessagesRate, long clientBytesRate) {
        public static final Rates NONE = new Rates(0, 0, 0);
    }

    public ListenerConfig(Kind kind, String host, int port, String path, boolean proxyProtocol,
                          boolean allowAnonymous, int maxConnections, TlsSettings tls) {
        this(kind, host, port, path, proxyProtocol, allowAnonymous, maxConnections, tls, Rates.NONE, false);
    }

    /** The four kinds of listener and their usual ports (IANA: 1883 and 8883; 8083/8084 by custom). */
    public enum Kind {
        TCP("tcp", 1883, false, false),
        TLS("tls", 8883, true, false),
        WS("ws", 8083, false, true),
        WSS("wss", 8084, true, true);

        public final String key;
        public final int defaultPort;
        public final boolean secure;
        public final boolean webSocket;

        Kind(String key, int defaultPort, boolean secure, boolean webSocket) {
            this.key = key;
            this.defaultPort = defaultPort;
            this.secure = secure;
            this.webSocket = webSocket;
        }
    }

    /** The listener's name in logs and metric labels: its kind. */
    public String name() {
        return kind.key;
    }

    /** Clients prove who they are here by a certificate the TLS handshake verified. */
    public boolean requiresCertificate() {
        return tls != null && tls.clientAuth() == TlsSettings.ClientAuth.REQUIRED;
    }

    public boolean isLoopback() {
        return ConfigLoader.isLoopback(host);
    }

    public ListenerConfig withPort(int newPort) {
        return new ListenerConfig(kind, host, newPort, path, proxyProtocol, allowAnonymous, maxConnections, tls, rates, proxyIdentity);
    }
}
