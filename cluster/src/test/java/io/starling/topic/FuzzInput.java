package io.starling.topic;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a fuzzer input that Jazzer's {@code FuzzedDataProvider} reads back as given values, so that
 * seed files start the fuzzer on real topic names and filters instead of on noise.
 *
 * <p>The layout is libFuzzer's, which Jazzer keeps: integers are taken from the end of the input,
 * strings and byte arrays from the front. {@code consumeInt(min, max)} reads as many bytes as the
 * range needs, last byte most significant, and returns the number unchanged when it lies in
 * [min, max]. {@code consumeString(maxLength)} reads modified UTF-8 up to a backslash that is not
 * doubled, and also consumes the byte after it.
 *
 * <p>A copy of the protocol module's FuzzInput (the modules share no test code); {@link FuzzInputTest}
 * checks this copy against Jazzer too.
 */
final class FuzzInput {
    private final ByteArrayOutputStream front = new ByteArrayOutputStream();
    /** Integer encodings in the order they are consumed; written to the end in reverse. */
    private final List<byte[]> tail = new ArrayList<>();
    private boolean remainderTaken;

    /** The next {@code consumeInt(min, max)} returns {@code value}. */
    FuzzInput consumedInt(int value, int min, int max) {
        if (value < min || value > max || min < 0) {
            throw new IllegalArgumentException(value + " not in [" + min + ", " + max + "] or min negative");
        }
        long range = (long) max - min;
        int n = 0;
        while (n < 4 && (range >>> (8 * n)) > 0) {
            n++;
        }
        if (n < 4 && value >>> (8 * n) != 0) {
            throw new IllegalArgumentException(value + " does not fit the " + n + " byte(s) read for [" + min + ", " + max + "]");
        }
        byte[] b = new byte[n];
        for (int k = 0; k < n; k++) {
            b[k] = (byte) (value >>> (8 * k));
        }
        tail.add(b);
        return this;
    }

    /**
     * The next {@code consumeString(maxLength)} returns {@code s}, which must be shorter than
     * maxLength and hold only paired surrogates.
     */
    FuzzInput consumedString(String s) {
        checkFront();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                front.write('\\');
                front.write('\\');
            } else if (c == 0) {
                front.write(0); // Jazzer turns a zero byte into U+0000
            } else if (Character.isSurrogate(c)) {
                if (!(Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))) {
                    throw new IllegalArgumentException("Jazzer does not produce unpaired surrogates: " + s);
                }
                // Modified UTF-8 (CESU-8): each surrogate on three bytes.
                writeThreeBytes(c);
                writeThreeBytes(s.charAt(++i));
            } else {
                front.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        front.write('\\');
        front.write('.');
        return this;
    }

    /** The final {@code consumeRemainingAsBytes()} returns {@code b}; nothing may be consumed after it. */
    FuzzInput remainingBytes(byte[] b) {
        checkFront();
        front.writeBytes(b);
        remainderTaken = true;
        return this;
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(front.toByteArray());
        for (int i = tail.size() - 1; i >= 0; i--) {
            out.writeBytes(tail.get(i));
        }
        return out.toByteArray();
    }

    private void checkFront() {
        if (remainderTaken) {
            throw new IllegalStateException("the remaining bytes were already taken");
        }
    }

    private void writeThreeBytes(char c) {
        front.write(0xE0 | (c >> 12));
        front.write(0x80 | ((c >> 6) & 0x3F));
        front.write(0x80 | (c & 0x3F));
    }
}
