package io.starling.protocol;

import com.code_intelligence.jazzer.agent.AgentInstaller;
import com.code_intelligence.jazzer.driver.FuzzedDataProviderImpl;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The regression run replays the committed seed corpus; it only exercises real decoding paths while
 * the seeds still decode to packets. This reads the decoder's seeds as the fuzz test does and
 * checks that, together, they carry every packet type of every version without a violation.
 */
class FuzzSeedsTest {

    /**
     * FuzzedDataProviderImpl needs Jazzer's bootstrap classes on the boot class path. This is what
     * Jazzer does before a @FuzzTest in this regression run (jazzer.hooks is false, root pom), so
     * the result does not depend on whether a fuzz test ran first; the call is done once per JVM.
     */
    @BeforeAll
    static void jazzerBootstrapClasses() {
        AgentInstaller.install(false);
    }

    @Test
    void decoderSeedsCarryEveryPacketTypeOfEveryVersion() throws Exception {
        Map<MqttVersion, Set<PacketType>> seen = new EnumMap<>(MqttVersion.class);
        for (MqttVersion v : MqttVersion.values()) {
            seen.put(v, EnumSet.noneOf(PacketType.class));
        }
        for (Path seed : seeds("PacketDecoderFuzzTestInputs/fragmentedFeeds")) {
            if (seed.getFileName().toString().endsWith("-small-maximum")) {
                continue; // meant to end in PACKET_TOO_LARGE
            }
            PacketDecoderFuzzTest.Plan plan;
            try (FuzzedDataProviderImpl data = FuzzedDataProviderImpl.withJavaData(Files.readAllBytes(seed))) {
                plan = PacketDecoderFuzzTest.Plan.read(data);
            }
            PacketDecoder decoder = new PacketDecoder(plan.maxPacketSize());
            List<Packet> packets = new ArrayList<>();
            for (Buffer piece : plan.pieces()) {
                try {
                    decoder.feed(piece, packets::add);
                } catch (ProtocolViolation v) {
                    throw new AssertionError(seed.getFileName() + " no longer decodes: " + v, v);
                }
            }
            assertNotNull(decoder.version(), seed.getFileName() + " has no CONNECT");
            for (Packet p : packets) {
                seen.get(decoder.version()).add(p.type());
            }
        }
        for (MqttVersion v : MqttVersion.values()) {
            Set<PacketType> expected = EnumSet.allOf(PacketType.class);
            if (!v.isV5()) {
                expected.remove(PacketType.AUTH);
            }
            assertEquals(expected, seen.get(v), "packet types in the decoder seeds for " + v + " (run ./fuzz seeds)");
        }
    }

    private static List<Path> seeds(String dir) throws IOException, URISyntaxException {
        var url = FuzzSeedsTest.class.getResource(dir);
        assertNotNull(url, "no seed directory " + dir + " on the test class path (run ./fuzz seeds)");
        List<Path> seeds = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Path.of(url.toURI()), "seed-*")) {
            files.forEach(seeds::add);
        }
        return seeds;
    }
}
