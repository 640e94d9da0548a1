package io.starling.config;

import java.util.List;

/**
 * A TLS listener's certificates and policy. Either a PEM chain and key ({@code certFile},
 * {@code keyFile}) or a PKCS#12 keystore; {@code caFile} is the bundle client certificates are
 * verified against.
 */
public record TlsSettings(String certFile, String keyFile, String keyPassword, String keystoreFile,
                          String keystorePassword, String caFile, ClientAuth clientAuth, Identity identity,
                          String minVersion, List<String> ciphers, String provider) {

    /** Whether the handshake asks for a client certificate, and whether it must have one. */
    public enum ClientAuth {
        NONE, OPTIONAL, REQUIRED
    }

    /**
     * Which part of a verified client certificate becomes the client's username, as Mosquitto's
     * {@code use_identity_as_username} ({@code cn}) and {@code use_subject_as_username} ({@code dn})
     * and EMQX's {@code peer_cert_as_username}.
     */
    public enum Identity {
        NONE, CN, DN, SAN_DNS, SAN_URI, SAN_EMAIL, SHA256;

        public static Identity of(String s) {
            return valueOf(s.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        }
    }

    /** The files whose change means a new context: reloaded when any of them changes. */
    public List<String> files() {
        return java.util.stream.Stream.of(certFile, keyFile, keystoreFile, caFile).filter(f -> !f.isEmpty()).toList();
    }

    /** The protocol versions offered: from the minimum up (TLS 1.0 and 1.1 never). */
    public List<String> protocols() {
        return minVersion.equals("1.3") ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
    }
}
