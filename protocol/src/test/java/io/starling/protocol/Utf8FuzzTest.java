package io.starling.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of {@link Utf8#decode}, the strict check behind every UTF-8 Encoded
 * String the decoder reads (spec 1.5.4), against a reference built from the JDK's own UTF-8
 * decoder with malformed input REPORTed, plus the U+0000 rule:
 * <ul>
 *   <li>[MQTT-1.5.4-1] well-formed UTF-8 only: no overlong forms, no surrogates U+D800..U+DFFF,
 *       nothing above U+10FFFF (the JDK decoder rejects all three);</li>
 *   <li>[MQTT-1.5.4-2] no U+0000;</li>
 *   <li>[MQTT-1.5.4-3] a BOM (0xEF 0xBB 0xBF) is not skipped or stripped: an accepted string
 *       encodes back to exactly the bytes it came from.</li>
 * </ul>
 * The only exception allowed is a MALFORMED_PACKET {@link ProtocolViolation} citing the first rule
 * broken in the bytes. The bytes are a slice of a larger array, whose bytes outside the slice must
 * not matter. Seeds: {@code Utf8FuzzTestInputs/decode/}.
 */
class Utf8FuzzTest {
    static final int MAX_PADDING = 3;

    @FuzzTest
    @Timeout(10)
    void decode(FuzzedDataProvider data) {
        int before = data.consumeInt(0, MAX_PADDING);
        int after = data.consumeInt(0, MAX_PADDING);
        byte[] all = data.consumeRemainingAsBytes();
        int off = Math.min(before, all.length);
        int len = Math.max(0, all.length - off - after);
        byte[] slice = Arrays.copyOfRange(all, off, off + len);

        Reference expected = Reference.of(slice);
        String s;
        try {
            s = Utf8.decode(all, off, len, "string");
        } catch (ProtocolViolation v) {
            if (expected.rule == null) {
                fail("well-formed UTF-8 without U+0000 rejected: " + v + " for " + hex(slice));
            }
            assertEquals(ReasonCode.MALFORMED_PACKET, v.reasonCode(), () -> "reason code of " + v);
            assertEquals(expected.rule, v.rule(), () -> "rule for " + hex(slice));
            return;
        }
        assertNull(expected.rule, () -> "accepted bytes that break " + expected.rule + ": " + hex(slice));
        assertEquals(expected.string, s, () -> "decoded string of " + hex(slice));
        // [MQTT-1.5.4-3] nothing skipped or stripped: the string is exactly those bytes.
        assertArrayEquals(slice, Utf8.encode(s), () -> "re-encoded bytes of " + hex(slice));
    }

    /** What the bytes should give: the string, or the first rule they break. */
    private record Reference(String string, String rule) {
        static Reference of(byte[] b) {
            CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            ByteBuffer in = ByteBuffer.wrap(b);
            CharBuffer out = CharBuffer.allocate(b.length);
            CoderResult r = decoder.decode(in, out, true);
            if (!r.isError()) {
                r = decoder.flush(out);
            }
            // On an error the input stops at the start of the first malformed sequence; every byte
            // before it is well-formed, and so is where U+0000 would be reported first.
            int malformedAt = r.isError() ? in.position() : b.length;
            int nulAt = b.length;
            for (int i = 0; i < b.length; i++) {
                if (b[i] == 0) {
                    nulAt = i;
                    break;
                }
            }
            if (nulAt < malformedAt) {
                return new Reference(null, "MQTT-1.5.4-2");
            }
            if (r.isError()) {
                return new Reference(null, "MQTT-1.5.4-1");
            }
            return new Reference(out.flip().toString(), null);
        }
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 3);
        for (byte x : b) {
            sb.append(String.format("%02X ", x));
        }
        return sb.toString().trim();
    }
}
