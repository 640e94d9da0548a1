package io.starling.protocol;

import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes the seed corpus of the protocol fuzz tests: valid packets of every type for every version,
 * valid and invalid UTF-8, property sets of every context. Jazzer replays these files in every
 * {@code mvn test} (regression mode) and starts fuzzing from them. Run by {@code ./fuzz seeds};
 * files are named {@code seed-*}, and only those are replaced, so crash inputs kept as regression
 * inputs stay. The generator is seeded, so the same code writes the same files.
 */
public final class FuzzSeeds {
    private static final long SEED = 0x5EED_F022L;
    /** Seeds stay small, so that the fuzzer's mutations are spent on structure, not on payload bytes. */
    private static final int MAX_SEED_PACKET = 600;
    /** Above every seed packet; the largest value two bytes of fuzzer input give as is. */
    private static final int SEED_MAX_PACKET_SIZE = 65_535;

    private FuzzSeeds() {
    }

    /** @param args the test resources directory, e.g. protocol/src/test/resources */
    public static void main(String[] args) throws IOException {
        Path resources = Path.of(args.length > 0 ? args[0] : "src/test/resources");
        Path pkg = resources.resolve("io/starling/protocol");
        int n = write(pkg.resolve("PacketDecoderFuzzTestInputs/fragmentedFeeds"), decoderSeeds());
        n += write(pkg.resolve("Utf8FuzzTestInputs/decode"), utf8Seeds());
        n += write(pkg.resolve("PropertiesCodecFuzzTestInputs/decode"), propertiesSeeds());
        System.out.println("FuzzSeeds: wrote " + n + " seed files under " + pkg);
    }

    private static int write(Path dir, Map<String, byte[]> seeds) throws IOException {
        Files.createDirectories(dir);
        try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "seed-*")) {
            for (Path p : old) {
                Files.delete(p);
            }
        }
        for (Map.Entry<String, byte[]> e : seeds.entrySet()) {
            Files.write(dir.resolve("seed-" + e.getKey()), e.getValue());
        }
        return seeds.size();
    }

    private static String name(MqttVersion v) {
        return switch (v) {
            case V3_1 -> "v3.1";
            case V3_1_1 -> "v3.1.1";
            case V5 -> "v5";
        };
    }

    // ------------------------------------------------------------------------------------------ decoder

    /** CONNECT and one packet of each type, per version, cut in a few ways; and one longer session each. */
    static Map<String, byte[]> decoderSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int[][] cuts = {{}, {1}, {2, 5}, {7, 0, 64}};
        for (MqttVersion v : MqttVersion.values()) {
            Random rnd = new Random(SEED + v.level());
            PacketCodecRoundTripTest.Generator g = new PacketCodecRoundTripTest.Generator(rnd, v);
            int k = 0;
            for (PacketType type : PacketType.values()) {
                if (type == PacketType.AUTH && !v.isV5()) {
                    continue;
                }
                Buffer stream = small(g::connect).appendBuffer(small(() -> g.packet(type), v));
                int[] cut = cuts[k++ % cuts.length];
                seeds.put(name(v) + "-" + type.name().toLowerCase(),
                        new PacketDecoderFuzzTest.Plan(SEED_MAX_PACKET_SIZE, cut, stream.getBytes()).input());
            }
            Buffer session = small(g::connect);
            for (int i = 0; i < 12; i++) {
                session.appendBuffer(small(g::anyPacket, v));
            }
            seeds.put(name(v) + "-session", new PacketDecoderFuzzTest.Plan(
                    SEED_MAX_PACKET_SIZE, new int[]{3, 1, 30}, session.getBytes()).input());
            // A maximum packet size the session's larger packets exceed: PACKET_TOO_LARGE [MQTT-3.2.2-15].
            seeds.put(name(v) + "-session-small-maximum", new PacketDecoderFuzzTest.Plan(
                    64, new int[]{}, session.getBytes()).input());
        }
        return seeds;
    }

    private static Buffer small(java.util.function.Supplier<Connect> connect) {
        for (int i = 0; ; i++) {
            Connect c = connect.get();
            Buffer b = PacketEncoder.encode(c, c.version());
            if (b.length() <= MAX_SEED_PACKET || i > 1000) {
                return b;
            }
        }
    }

    private static Buffer small(java.util.function.Supplier<Packet> packet, MqttVersion v) {
        for (int i = 0; ; i++) {
            Buffer b = PacketEncoder.encode(packet.get(), v);
            if (b.length() <= MAX_SEED_PACKET || i > 1000) {
                return b;
            }
        }
    }

    // ------------------------------------------------------------------------------------------ UTF-8

    static Map<String, byte[]> utf8Seeds() {
        Map<String, byte[]> raw = new LinkedHashMap<>();
        raw.put("ascii", "sensors/temp".getBytes(StandardCharsets.UTF_8));
        raw.put("two-three-four-byte", "é€😀".getBytes(StandardCharsets.UTF_8));
        raw.put("boundaries", "\u007F\u0080\u07FF\u0800\uFFFF\uD800\uDC00\uDBFF\uDFFF".getBytes(StandardCharsets.UTF_8));
        raw.put("bom", "\uFEFFa".getBytes(StandardCharsets.UTF_8));
        raw.put("controls", "\u0001\u001F\u007F\u0080\u009F".getBytes(StandardCharsets.UTF_8));
        raw.put("nul", hex("61 00 62"));
        raw.put("overlong-nul", hex("C0 80"));
        raw.put("overlong-three", hex("E0 80 AF"));
        raw.put("overlong-four", hex("F0 80 80 AF"));
        raw.put("surrogate", hex("ED A0 80"));
        raw.put("above-10FFFF", hex("F4 90 80 80"));
        raw.put("lead-F5", hex("F5 80 80 80"));
        raw.put("truncated", hex("E2 82"));
        raw.put("lone-continuation", hex("80"));
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        int k = 0;
        for (Map.Entry<String, byte[]> e : raw.entrySet()) {
            int pad = k++ % (Utf8FuzzTest.MAX_PADDING + 1);
            byte[] padded = new byte[pad + e.getValue().length + pad];
            java.util.Arrays.fill(padded, (byte) 0xFF); // bytes outside the slice that would be invalid inside it
            System.arraycopy(e.getValue(), 0, padded, pad, e.getValue().length);
            seeds.put(e.getKey(), new FuzzInput().consumedInt(pad, 0, Utf8FuzzTest.MAX_PADDING)
                    .consumedInt(pad, 0, Utf8FuzzTest.MAX_PADDING).remainingBytes(padded).build());
        }
        return seeds;
    }

    private static byte[] hex(String s) {
        return HexFormat.ofDelimiter(" ").parseHex(s);
    }

    // ------------------------------------------------------------------------------------------ properties

    /** A property set admitted in each context that has any, encoded after a short packet prefix. */
    static Map<String, byte[]> propertiesSeeds() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        PacketCodecRoundTripTest.Generator g = new PacketCodecRoundTripTest.Generator(new Random(SEED), MqttVersion.V5);
        for (int context = 0; context <= PropertiesCodecFuzzTest.MAX_CONTEXT; context++) {
            List<Properties> sets = new ArrayList<>();
            for (int tries = 0; tries < 200 && sets.size() < 2; tries++) {
                Properties p = g.props(context);
                int length = PropertiesCodec.length(p, context);
                if (length > 0 && length < MAX_SEED_PACKET) {
                    sets.add(p);
                }
            }
            int i = 0;
            for (Properties p : sets) {
                int prefix = (context + i) % (PropertiesCodecFuzzTest.MAX_PREFIX + 1);
                Buffer b = Buffer.buffer(new byte[prefix]);
                PropertiesCodec.encode(b, p, context, PropertiesCodec.length(p, context));
                b.appendBytes(new byte[]{0x11, 0x22}); // the rest of the packet, after the properties
                String name = (context == PropertiesCodec.WILL ? "will" : PacketType.of(context).name().toLowerCase()) + "-" + i++;
                seeds.put(name, new FuzzInput().consumedInt(context, 0, PropertiesCodecFuzzTest.MAX_CONTEXT)
                        .consumedInt(prefix, 0, PropertiesCodecFuzzTest.MAX_PREFIX).remainingBytes(b.getBytes()).build());
            }
        }
        return seeds;
    }
}
