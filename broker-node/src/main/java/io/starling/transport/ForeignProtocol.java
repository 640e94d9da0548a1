package io.starling.transport;

import java.nio.charset.StandardCharsets;

/**
 * What a connection's first bytes say when they are not MQTT: a client that speaks TLS, HTTP (a
 * browser, a health check, a WebSocket client on the wrong port) or the PROXY protocol to a plain
 * MQTT listener. Its CONNECT-less bytes would otherwise be logged as a bare malformed packet
 * (0x16, a TLS record, reads as CONNECT with reserved flags set), which sends the operator looking
 * in the wrong place.
 */
enum ForeignProtocol {
    TLS("TLS on a plain MQTT port? (a TLS ClientHello; connect to the TLS listener, or turn TLS off in the client)"),
    HTTP("HTTP on an MQTT port? (an HTTP request; MQTT over WebSocket has its own listener)"),
    PROXY("PROXY protocol header on a listener that does not expect one (a load balancer's send-proxy?)");

    final String explanation;

    ForeignProtocol(String explanation) {
        this.explanation = explanation;
    }

    private static final byte[] PROXY_V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final String[] HTTP_METHODS = {"GET ", "POST", "PUT ", "HEAD", "OPTI", "DELE", "PATC", "CONN", "PRI "};

    /** The protocol the first bytes of a connection belong to, or null for MQTT (or too few bytes to tell). */
    static ForeignProtocol of(byte[] first, int length) {
        if (length >= 3 && first[0] == 0x16 && first[1] == 0x03 && first[2] >= 0x00 && first[2] <= 0x04) {
            return TLS; // a TLS handshake record, SSL 3.0 to TLS 1.3 record versions
        }
        if (length >= 6 && new String(first, 0, 6, StandardCharsets.US_ASCII).equals("PROXY ")) {
            return PROXY;
        }
        if (length >= PROXY_V2.length && java.util.Arrays.equals(first, 0, PROXY_V2.length, PROXY_V2, 0, PROXY_V2.length)) {
            return PROXY;
        }
        if (length >= 4) {
            String start = new String(first, 0, 4, StandardCharsets.US_ASCII);
            for (String m : HTTP_METHODS) {
                if (m.equals(start)) {
                    return HTTP;
                }
            }
        }
        return null;
    }
}
