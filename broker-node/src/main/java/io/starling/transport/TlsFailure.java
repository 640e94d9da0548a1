package io.starling.transport;

/**
 * Why a TLS handshake failed, in words an operator acts on and as a metric label: the JDK's
 * messages ("PKIX path building failed: ...") name the mechanism, not the client's mistake.
 */
enum TlsFailure {
    NO_CLIENT_CERTIFICATE("the client sent no certificate, and this listener requires one"),
    UNKNOWN_CA("the client certificate is not signed by a CA of the listener's ca-file"),
    CERTIFICATE_EXPIRED("the client certificate has expired or is not valid yet"),
    SERVER_CERTIFICATE_REFUSED("the client refused the server's certificate (unknown CA or another host name?)"),
    NO_COMMON_PROTOCOL("the client offers no TLS version this listener accepts (min-version)"),
    NO_COMMON_CIPHER("the client offers no cipher suite this listener accepts"),
    TIMEOUT("the handshake did not finish within mqtt.connect-timeout"),
    OTHER("");

    final String explanation;

    TlsFailure(String explanation) {
        this.explanation = explanation;
    }

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    static TlsFailure of(Throwable t) {
        String m = messages(t).toLowerCase(java.util.Locale.ROOT);
        if (m.contains("empty client certificate chain") || m.contains("null cert chain")
                || m.contains("peer sent no certificate")
                || m.contains("peer_did_not_return_a_certificate")) { // BoringSSL (tls.provider: openssl)
            return NO_CLIENT_CERTIFICATE;
        }
        if (m.contains("validity check failed") || m.contains("certificate expired") || m.contains("notafter")
                || m.contains("not yet valid")) {
            return CERTIFICATE_EXPIRED;
        }
        if (m.contains("unable to find valid certification path") || m.contains("path building failed")
                || m.contains("signature check failed")) {
            return UNKNOWN_CA;
        }
        if (m.contains("received fatal alert: bad_certificate") || m.contains("received fatal alert: unknown_ca")
                || m.contains("received fatal alert: certificate_unknown")) {
            return SERVER_CERTIFICATE_REFUSED;
        }
        if (m.contains("protocol_version") || m.contains("protocol is disabled") || m.contains("no appropriate protocol")
                || m.contains("unsupported protocol")) {
            return NO_COMMON_PROTOCOL;
        }
        if (m.contains("no cipher suites in common") || m.contains("handshake_failure")) {
            return NO_COMMON_CIPHER;
        }
        if (t instanceof javax.net.ssl.SSLHandshakeException && m.contains("timed out")
                || t instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
            return TIMEOUT;
        }
        return OTHER;
    }

    /** The messages of the throwable and its causes, for matching. */
    private static String messages(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null && b.length() < 2000; c = c.getCause()) {
            b.append(c.getMessage()).append(" | ");
        }
        return b.toString();
    }
}
