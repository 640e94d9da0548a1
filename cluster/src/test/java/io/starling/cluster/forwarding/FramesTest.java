package io.starling.cluster.forwarding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The link framing: TCP delivers a byte stream cut anywhere, and the parser must give back exactly
 * the frames that were written, whatever the cuts.
 */
class FramesTest {

    /** Every kind of frame, with empty and non-empty bodies. */
    private static List<Buffer> sampleFrames() {
        return List.of(
                Frames.hello("node-1"),
                Frames.send((byte) 1, Buffer.buffer()),
                Frames.send((byte) 2, Buffer.buffer("payload")),
                Frames.request(1L, (byte) 3, Buffer.buffer()),
                Frames.request(Long.MAX_VALUE, (byte) 4, Buffer.buffer(new byte[300])),
                Frames.response(7L, Frames.OK, Buffer.buffer("ok")),
                Frames.response(8L, Frames.FAILED, Buffer.buffer("reason")));
    }

    private static Buffer concat(List<Buffer> frames) {
        Buffer all = Buffer.buffer();
        frames.forEach(all::appendBuffer);
        return all;
    }

    /** What the parser should hand over: each frame without its 4-byte length prefix. */
    private static List<Buffer> withoutPrefix(List<Buffer> frames) {
        List<Buffer> out = new ArrayList<>();
        for (Buffer f : frames) {
            assertEquals(f.length() - 4, f.getInt(0), "length prefix of a built frame");
            out.add(f.getBuffer(4, f.length()));
        }
        return out;
    }

    @Test
    void framesSplitAtEveryByteBoundaryAreReassembled() {
        List<Buffer> frames = sampleFrames();
        Buffer stream = concat(frames);
        List<Buffer> expected = withoutPrefix(frames);
        for (int cut = 0; cut <= stream.length(); cut++) {
            List<Buffer> got = new ArrayList<>();
            Frames.Parser parser = new Frames.Parser(got::add);
            parser.feed(stream.getBuffer(0, cut));
            parser.feed(stream.getBuffer(cut, stream.length()));
            assertEquals(expected, got, "stream cut at byte " + cut);
        }
    }

    @Test
    void framesFedOneByteAtATimeAreReassembled() {
        List<Buffer> frames = sampleFrames();
        Buffer stream = concat(frames);
        List<Buffer> got = new ArrayList<>();
        Frames.Parser parser = new Frames.Parser(got::add);
        for (int i = 0; i < stream.length(); i++) {
            parser.feed(stream.getBuffer(i, i + 1));
        }
        assertEquals(withoutPrefix(frames), got);
    }

    @Test
    void framesCutAtEveryPairOfBoundariesAreReassembled() {
        // Three pieces: a frame may start in one read, continue through a second and end in a
        // third, while the parser holds a partial frame across two feeds.
        List<Buffer> frames = List.of(Frames.hello("n"), Frames.send((byte) 1, Buffer.buffer("abc")),
                Frames.response(2L, Frames.OK, Buffer.buffer()));
        Buffer stream = concat(frames);
        List<Buffer> expected = withoutPrefix(frames);
        for (int a = 0; a <= stream.length(); a++) {
            for (int b = a; b <= stream.length(); b++) {
                List<Buffer> got = new ArrayList<>();
                Frames.Parser parser = new Frames.Parser(got::add);
                parser.feed(stream.getBuffer(0, a));
                parser.feed(stream.getBuffer(a, b));
                parser.feed(stream.getBuffer(b, stream.length()));
                assertEquals(expected, got, "stream cut at bytes " + a + " and " + b);
            }
        }
    }

    @Test
    void aFrameIsNotAffectedByLaterChangesToTheFedBuffer() {
        // The parser hands frames to handlers that may keep them; they must not alias the read
        // buffer, which Netty reuses.
        Buffer data = Frames.send((byte) 1, Buffer.buffer("abc"));
        List<Buffer> got = new ArrayList<>();
        new Frames.Parser(got::add).feed(data);
        data.setByte(6, (byte) 'X');
        assertEquals(Buffer.buffer().appendByte(Frames.SEND).appendByte((byte) 1).appendString("abc"), got.get(0));
    }

    @Test
    void aZeroOrNegativeLengthIsRejected() {
        // Every frame has at least its kind byte; a length of 0 or less means the stream is not ours.
        assertThrows(IllegalStateException.class,
                () -> new Frames.Parser(f -> { }).feed(Buffer.buffer().appendInt(0)));
        assertThrows(IllegalStateException.class,
                () -> new Frames.Parser(f -> { }).feed(Buffer.buffer().appendInt(-5).appendByte((byte) 1)));
    }

    @Test
    void aLengthAboveTheMaximumIsRejectedBeforeItsBytesArrive() {
        // Otherwise a foreign peer could make the link buffer gigabytes.
        assertThrows(IllegalStateException.class,
                () -> new Frames.Parser(f -> { }).feed(Buffer.buffer().appendInt(Frames.MAX_FRAME + 1)));
    }
}
