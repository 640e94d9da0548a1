package io.starling.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 for MQTT UTF-8 Encoded Strings (spec 1.5.4). The JDK decoder silently replaces
 * ill-formed input with U+FFFD, so the bytes are validated here first, following the well-formed
 * byte sequence table of RFC 3629 section 4: no overlong forms, no surrogates U+D800..U+DFFF, nothing
 * above U+10FFFF.
 */
final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes {@code len} bytes at {@code off}.
     *
     * @param field what the string is, for the violation message
     * @throws ProtocolViolation MALFORMED_PACKET, [MQTT-1.5.4-1] for ill-formed UTF-8 and
     *                           [MQTT-1.5.4-2] for U+0000
     */
    static String decode(byte[] b, int off, int len, String field) throws ProtocolViolation {
        int end = off + len;
        int i = off;
        // Fast path: printable-or-control ASCII without NUL. As a signed byte, 0x00 and 0x80..0xFF are <= 0.
        while (i < end && b[i] > 0) {
            i++;
        }
        if (i == end) {
            return new String(b, off, len, StandardCharsets.ISO_8859_1);
        }
        validate(b, i, end, field);
        return new String(b, off, len, StandardCharsets.UTF_8);
    }

    private static void validate(byte[] b, int i, int end, String field) throws ProtocolViolation {
        while (i < end) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                if (c == 0) {
                    // [MQTT-1.5.4-2] A UTF-8 Encoded String MUST NOT include an encoding of U+0000.
                    throw ProtocolViolation.malformed("MQTT-1.5.4-2", field + " contains U+0000");
                }
                i++;
                continue;
            }
            int trail;
            int lo = 0x80;
            int hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                trail = 1;
            } else if (c == 0xE0) {
                trail = 2;
                lo = 0xA0; // overlong below U+0800
            } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
                trail = 2;
            } else if (c == 0xED) {
                trail = 2;
                hi = 0x9F; // U+D800..U+DFFF are not allowed [MQTT-1.5.4-1]
            } else if (c == 0xF0) {
                trail = 3;
                lo = 0x90; // overlong below U+10000
            } else if (c >= 0xF1 && c <= 0xF3) {
                trail = 3;
            } else if (c == 0xF4) {
                trail = 3;
                hi = 0x8F; // above U+10FFFF
            } else {
                // 0x80..0xC1 (continuation or overlong 2-byte lead) and 0xF5..0xFF
                throw illFormed(field, i);
            }
            if (end - i <= trail) {
                throw illFormed(field, i);
            }
            int c1 = b[i + 1] & 0xFF;
            if (c1 < lo || c1 > hi) {
                throw illFormed(field, i);
            }
            for (int k = 2; k <= trail; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    throw illFormed(field, i);
                }
            }
            i += trail + 1;
        }
    }

    private static ProtocolViolation illFormed(String field, int index) {
        // [MQTT-1.5.4-1] The character data in a UTF-8 Encoded String MUST be well-formed UTF-8.
        return ProtocolViolation.malformed("MQTT-1.5.4-1", field + " is not well-formed UTF-8 (byte " + index + ")");
    }

    /**
     * Encodes a string for the wire.
     *
     * @throws IllegalArgumentException when the string holds an unpaired surrogate, which has no UTF-8 form
     */
    static byte[] encode(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    throw new IllegalArgumentException("unpaired surrogate at index " + i);
                }
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
