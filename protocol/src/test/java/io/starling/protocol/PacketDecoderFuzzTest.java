package io.starling.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of {@link PacketDecoder} the way a connection uses it: one decoder per
 * byte stream, fed whatever pieces the network delivers, its version chosen by the CONNECT in the
 * stream. The only allowed outcomes are packets, then possibly one {@link ProtocolViolation};
 * any other exception or Error is a finding, and so is a broken invariant:
 * <ul>
 *   <li>the same bytes fed in one piece and in fragments give the same packets and the same
 *       violation (rule and reason code): where TCP splits a stream must not matter;</li>
 *   <li>a decoder that threw refuses to be fed again;</li>
 *   <li>every decoded packet re-encodes with {@link PacketEncoder} and decodes back to an equal
 *       packet, except where the encoder deliberately maps values (see {@link #meantToRoundTrip}).</li>
 * </ul>
 * Seeds: {@code PacketDecoderFuzzTestInputs/fragmentedFeeds/}, written by {@link FuzzSeeds}.
 * Fuzz with {@code ./fuzz decoder 10m} (docs/fuzzing.md).
 */
class PacketDecoderFuzzTest {
    /** Largest maximum packet size chosen; fuzzer inputs are a few KiB, so larger is the same. */
    static final int MAX_MAX_PACKET_SIZE = 65_536;
    static final int MAX_FRAGMENT_COUNT = 16;
    static final int MAX_FRAGMENT = 255;

    /** The reason codes a decoding violation may carry (spec 4.13 and the sections cited in the decoder). */
    private static final Set<Integer> VIOLATION_CODES = Set.of(ReasonCode.MALFORMED_PACKET, ReasonCode.PROTOCOL_ERROR,
            ReasonCode.PACKET_TOO_LARGE, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, ReasonCode.TOPIC_NAME_INVALID,
            ReasonCode.TOPIC_ALIAS_INVALID);

    /**
     * What the fuzzer input says: the server's maximum packet size, the fragment sizes (used in
     * turn until the stream is fed; 0 is an empty feed), and the bytes of the stream.
     */
    record Plan(int maxPacketSize, int[] fragments, byte[] stream) {
        static Plan read(FuzzedDataProvider data) {
            int max = data.consumeInt(2, MAX_MAX_PACKET_SIZE);
            int[] fragments = new int[data.consumeInt(0, MAX_FRAGMENT_COUNT)];
            for (int i = 0; i < fragments.length; i++) {
                fragments[i] = data.consumeInt(0, MAX_FRAGMENT);
            }
            return new Plan(max, fragments, data.consumeRemainingAsBytes());
        }

        /** The fuzzer input that {@link #read} turns into this plan. */
        byte[] input() {
            FuzzInput in = new FuzzInput().consumedInt(maxPacketSize, 2, MAX_MAX_PACKET_SIZE)
                    .consumedInt(fragments.length, 0, MAX_FRAGMENT_COUNT);
            for (int f : fragments) {
                in.consumedInt(f, 0, MAX_FRAGMENT);
            }
            return in.remainingBytes(stream).build();
        }

        /** The stream cut as planned: slices of one buffer, as a connection's reads are. */
        List<Buffer> pieces() {
            Buffer all = Buffer.buffer(stream);
            List<Buffer> pieces = new ArrayList<>();
            int sum = 0;
            for (int f : fragments) {
                sum += f;
            }
            if (sum == 0) {
                // No sizes, or only empty feeds: those feeds, then the stream in one piece.
                for (int ignored : fragments) {
                    pieces.add(Buffer.buffer());
                }
                pieces.add(all);
                return pieces;
            }
            int pos = 0;
            for (int i = 0; pos < stream.length; i = (i + 1) % fragments.length) {
                int end = Math.min(stream.length, pos + fragments[i]);
                pieces.add(all.slice(pos, end));
                pos = end;
            }
            return pieces;
        }
    }

    /** What a decoder made of a stream. */
    private record Outcome(List<Packet> packets, ProtocolViolation violation, MqttVersion version) {
    }

    @FuzzTest
    @Timeout(10)
    void fragmentedFeeds(FuzzedDataProvider data) {
        Plan plan = Plan.read(data);
        Outcome whole = decode(plan.maxPacketSize(), List.of(Buffer.buffer(plan.stream())));
        Outcome split = decode(plan.maxPacketSize(), plan.pieces());

        sameOutcome(whole, split);
        if (split.packets().isEmpty()) {
            return;
        }
        // [MQTT-3.1.0-1] The first packet sent from the Client to the Server MUST be a CONNECT packet;
        // its protocol level chose the version every later packet was decoded with.
        Connect first = assertInstanceOf(Connect.class, split.packets().get(0));
        assertEquals(first.version(), split.version(), "the decoder's version is the first CONNECT's");
        List<Packet> kept = new ArrayList<>(split.packets().size());
        for (Packet p : split.packets()) {
            checkWellFormed(p, split.version());
            if (meantToRoundTrip(p, split.version())) {
                kept.add(p);
            }
        }
        roundTrip(kept, split.version());
    }

    private static Outcome decode(int maxPacketSize, List<Buffer> pieces) {
        PacketDecoder decoder = new PacketDecoder(maxPacketSize);
        List<Packet> packets = new ArrayList<>();
        for (Buffer piece : pieces) {
            try {
                decoder.feed(piece, packets::add);
            } catch (ProtocolViolation v) {
                assertTrue(VIOLATION_CODES.contains(v.reasonCode()), () -> "unexpected reason code in " + v);
                assertNotNull(v.rule(), "a violation names its rule");
                assertFalse(v.rule().isBlank(), "a violation names its rule");
                // feed() after a throw is refused: the connection must be closed, not resynchronised.
                int before = packets.size();
                assertThrows(IllegalStateException.class, () -> decoder.feed(Buffer.buffer(new byte[]{(byte) 0xC0, 0}), packets::add));
                assertEquals(before, packets.size(), "a failed decoder emitted a packet");
                return new Outcome(packets, v, decoder.version());
            }
        }
        return new Outcome(packets, null, decoder.version());
    }

    private static void sameOutcome(Outcome whole, Outcome split) {
        assertEquals(whole.packets().size(), split.packets().size(), "packets decoded in one piece vs in fragments");
        for (int i = 0; i < whole.packets().size(); i++) {
            String d = PacketComparison.difference(whole.packets().get(i), split.packets().get(i));
            if (d != null) {
                fail("packet " + i + " differs between one piece and fragments at " + d);
            }
        }
        ProtocolViolation a = whole.violation();
        ProtocolViolation b = split.violation();
        if (a == null || b == null) {
            assertEquals(String.valueOf(a), String.valueOf(b), "violation in one piece vs in fragments");
        } else {
            assertEquals(a.rule(), b.rule(), "violated rule in one piece vs in fragments");
            assertEquals(a.reasonCode(), b.reasonCode(), "reason code in one piece vs in fragments");
        }
        assertEquals(whole.version(), split.version(), "version in one piece vs in fragments");
    }

    /** Rules the decoder promises for what it lets through, beyond what the round trip shows. */
    private static void checkWellFormed(Packet p, MqttVersion version) {
        if (p instanceof Publish pub) {
            assertTrue(pub.qos() >= 0 && pub.qos() <= 2, "[MQTT-3.3.1-4] QoS 3");
            assertEquals(pub.qos() == 0, pub.packetId() == 0, "packet identifier present iff QoS > 0 (3.3.2.2)");
            assertFalse(pub.qos() == 0 && pub.dup(), "[MQTT-3.3.1-2] DUP on QoS 0");
            // [MQTT-3.3.2-2] no wildcards; [MQTT-4.7.3-1] empty only with a 5.0 Topic Alias (3.3.2.1).
            assertFalse(pub.topic().contains("+") || pub.topic().contains("#"), () -> "[MQTT-3.3.2-2] wildcard in " + pub.topic());
            assertTrue(!pub.topic().isEmpty() || (version.isV5() && pub.properties().topicAlias != null),
                    "[MQTT-4.7.3-1] empty topic name without a Topic Alias");
        } else if (p instanceof Subscribe s) {
            assertFalse(s.requests().isEmpty(), "[MQTT-3.8.3-2] SUBSCRIBE without topic filters");
        } else if (p instanceof Unsubscribe u) {
            assertFalse(u.filters().isEmpty(), "[MQTT-3.10.3-2] UNSUBSCRIBE without topic filters");
        }
        if (!version.isV5() && !(p instanceof Connect)) {
            assertEquals(Properties.EMPTY, properties(p), "3.1.1 packets carry no properties");
        }
    }

    private static Properties properties(Packet p) {
        if (p instanceof ConnAck a) {
            return a.properties();
        } else if (p instanceof Publish a) {
            return a.properties();
        } else if (p instanceof Ack a) {
            return a.properties();
        } else if (p instanceof Subscribe a) {
            return a.properties();
        } else if (p instanceof SubAck a) {
            return a.properties();
        } else if (p instanceof Unsubscribe a) {
            return a.properties();
        } else if (p instanceof UnsubAck a) {
            return a.properties();
        } else if (p instanceof Disconnect a) {
            return a.properties();
        } else if (p instanceof Auth a) {
            return a.properties();
        }
        return Properties.EMPTY; // PINGREQ, PINGRESP; CONNECT is not asked
    }

    /**
     * Whether encoding gives back what was decoded. The decoder reads packets a server never
     * receives (it leaves direction to the broker), and for two of them the encoder maps values a
     * 3.1/3.1.1 server would never send: a CONNACK return code above 5 (it takes a 5.0 reason code
     * and maps it, {@link ReasonCode#toV3ConnAck}), Session Present in 3.1 (the byte is reserved
     * there), and a SUBACK return code above 0x80 (3.1.1 has only 0x80 for failure).
     */
    static boolean meantToRoundTrip(Packet p, MqttVersion version) {
        if (version.isV5()) {
            return true;
        }
        if (p instanceof ConnAck a) {
            return a.reasonCode() <= ReasonCode.V3_NOT_AUTHORIZED && !(version == MqttVersion.V3_1 && a.sessionPresent());
        }
        if (p instanceof SubAck a) {
            for (int code : a.reasonCodes()) {
                if (code > 0x80) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Encodes the packets, in order, as one stream and decodes it with a fresh decoder: packets
     * after the first CONNECT decode with its version, as the originals did, whatever a later
     * CONNECT says (each CONNECT is encoded in its own version).
     */
    private static void roundTrip(List<Packet> packets, MqttVersion version) {
        Buffer stream = Buffer.buffer();
        for (Packet p : packets) {
            stream.appendBuffer(PacketEncoder.encode(p, p instanceof Connect c ? c.version() : version));
        }
        PacketDecoder again = new PacketDecoder(Integer.MAX_VALUE);
        List<Packet> out = new ArrayList<>(packets.size());
        try {
            again.feed(stream, out::add);
        } catch (ProtocolViolation v) {
            throw new AssertionError("re-encoded packets (" + version + ") are rejected after " + out.size() + ": " + v, v);
        }
        assertEquals(packets.size(), out.size(), "re-encoded packets decode to as many packets");
        for (int i = 0; i < packets.size(); i++) {
            String d = PacketComparison.difference(packets.get(i), out.get(i));
            if (d != null) {
                fail(packets.get(i).type() + " (" + version + ") does not survive encode and decode: differs at " + d);
            }
        }
    }
}
