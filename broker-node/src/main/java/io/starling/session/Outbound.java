package io.starling.session;

import io.starling.protocol.Packet;

/**
 * What the protocol logic may do to its network connection. The transport implements it over a
 * socket; tests implement it with a list. Called only on the connection's context.
 */
public interface Outbound {
    /**
     * Encodes and queues a packet.
     *
     * @return false when it was not sent because it is larger than the client's Maximum Packet
     *         Size; the caller then behaves as if it had been delivered [MQTT-3.1.2-25]
     */
    boolean send(Packet packet);

    /** True while the connection's write queue has room; when false, wait for {@code onWritable}. */
    boolean writable();

    /** Flushes what was sent and closes the connection. */
    void close();

    String remoteAddress();

    /** The client certificate the TLS handshake verified, or null (no TLS, or none sent). */
    default java.security.cert.X509Certificate clientCertificate() {
        return null;
    }

    /** The CN of the client certificate a TLS-terminating proxy verified, from its PROXY v2 header; or null. */
    default String proxiedCertificateCn() {
        return null;
    }

    /** The client's Maximum Packet Size: larger PUBLISH packets are not sent [MQTT-3.1.2-24]. */
    void limitPacketSize(long bytes);
}
