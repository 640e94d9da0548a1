package io.starling.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property test: random packets of every type, for every version (with random properties for 5.0),
 * encoded, concatenated, fed to a decoder in random-sized chunks, and compared with the originals.
 * The seed is fixed; run with -Dcodec.seed=N to try another. A failure names the seed of its case.
 */
class PacketCodecRoundTripTest {
    private static final long SEED = Long.getLong("codec.seed", 0x5EED_C0DECL);
    private static final int SESSIONS_PER_VERSION = 400;
    private static final int PACKETS_PER_SESSION = 25;

    @Test
    void randomPacketsOfEveryTypeSurviveEncodeAndChunkedDecode() {
        Random seeds = new Random(SEED);
        int packets = 0;
        for (MqttVersion version : MqttVersion.values()) {
            for (int s = 0; s < SESSIONS_PER_VERSION; s++) {
                long caseSeed = seeds.nextLong();
                try {
                    packets += roundTripSession(version, caseSeed);
                } catch (AssertionError | Exception e) {
                    throw new AssertionError("round trip failed for " + version + " with case seed " + caseSeed
                            + " (base seed " + SEED + ", -Dcodec.seed=" + SEED + "): " + e, e);
                }
            }
        }
        System.out.println("PacketCodecRoundTripTest: " + packets + " packets round-tripped, seed " + SEED);
    }

    @Test
    void everyPacketTypeIsCoveredForEveryVersion() throws Exception {
        for (MqttVersion version : MqttVersion.values()) {
            Generator g = new Generator(new Random(SEED), version);
            for (PacketType type : PacketType.values()) {
                if (type == PacketType.AUTH && !version.isV5()) {
                    continue;
                }
                List<Packet> packets = List.of(g.connect(), g.packet(type));
                List<Packet> decoded = decode(version, packets, new Random(SEED), 1 << 20);
                assertSame(packets, decoded);
            }
        }
    }

    /** Corrupted streams may only ever end in a ProtocolViolation, never in another exception. */
    @Test
    void corruptedStreamsFailOnlyWithProtocolViolations() {
        Random seeds = new Random(SEED);
        int violations = 0;
        for (MqttVersion version : MqttVersion.values()) {
            for (int s = 0; s < 300; s++) {
                long caseSeed = seeds.nextLong();
                Random rnd = new Random(caseSeed);
                Generator g = new Generator(rnd, version);
                Buffer stream = PacketEncoder.encode(g.connect(), version);
                for (int i = 0; i < 5; i++) {
                    stream.appendBuffer(PacketEncoder.encode(g.anyPacket(), version));
                }
                byte[] bytes = stream.getBytes();
                for (int m = 1 + rnd.nextInt(3); m > 0; m--) {
                    bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt(256);
                }
                PacketDecoder decoder = new PacketDecoder(1 << 20);
                try {
                    int pos = 0;
                    while (pos < bytes.length) {
                        int end = Math.min(bytes.length, pos + 1 + rnd.nextInt(64));
                        decoder.feed(Buffer.buffer(java.util.Arrays.copyOfRange(bytes, pos, end)), p -> { });
                        pos = end;
                    }
                } catch (ProtocolViolation expected) {
                    violations++;
                } catch (RuntimeException e) {
                    throw new AssertionError("unexpected exception for " + version + " with case seed " + caseSeed
                            + " (base seed " + SEED + ")", e);
                }
            }
        }
        System.out.println("PacketCodecRoundTripTest: " + violations + " corrupted streams rejected, seed " + SEED);
    }

    private static int roundTripSession(MqttVersion version, long caseSeed) throws ProtocolViolation {
        Random rnd = new Random(caseSeed);
        Generator g = new Generator(rnd, version);
        List<Packet> packets = new ArrayList<>();
        packets.add(g.connect());
        int n = 1 + rnd.nextInt(PACKETS_PER_SESSION);
        for (int i = 0; i < n; i++) {
            packets.add(g.anyPacket());
        }
        List<Packet> decoded = decode(version, packets, rnd, 1 << 20);
        assertSame(packets, decoded);
        return packets.size();
    }

    private static List<Packet> decode(MqttVersion version, List<Packet> packets, Random rnd, int max)
            throws ProtocolViolation {
        Buffer stream = Buffer.buffer();
        for (Packet p : packets) {
            stream.appendBuffer(PacketEncoder.encode(p, version));
        }
        PacketDecoder decoder = new PacketDecoder(max);
        List<Packet> decoded = new ArrayList<>();
        int pos = 0;
        while (pos < stream.length()) {
            int chunk = switch (rnd.nextInt(4)) {
                case 0 -> 1;
                case 1 -> 1 + rnd.nextInt(8);
                case 2 -> 1 + rnd.nextInt(200);
                default -> 1 + rnd.nextInt(stream.length());
            };
            int end = Math.min(stream.length(), pos + chunk);
            decoder.feed(stream.slice(pos, end), decoded::add);
            pos = end;
        }
        assertEquals(version, decoder.version());
        return decoded;
    }

    private static void assertSame(List<Packet> expected, List<Packet> actual) {
        assertEquals(expected.size(), actual.size(), "number of packets decoded");
        for (int i = 0; i < expected.size(); i++) {
            String d = PacketComparison.difference(expected.get(i), actual.get(i));
            if (d != null) {
                fail("packet " + i + " (" + expected.get(i).type() + ") differs at " + d);
            }
        }
    }

    /** Random packets that are valid for one version, in the form a decoder gives them back. */
    static final class Generator {
        private static final int[] PUBACK_CODES = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
        private static final int[] PUBREL_CODES = {0x00, 0x92};
        private static final int[] DISCONNECT_CODES = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0,
                0xA1, 0xA2};
        private static final int[] AUTH_CODES = {0x00, 0x18, 0x19};
        private static final String[] SAMPLES = {"a", "sensors", "temp", "é", "ü", "日本", "€", "\uD83D\uDE00", "x y",
                "$SYS", "/", "k", "\u007F", "\u0001"};

        private final Random rnd;
        private final MqttVersion version;
        private final boolean v5;

        Generator(Random rnd, MqttVersion version) {
            this.rnd = rnd;
            this.version = version;
            this.v5 = version.isV5();
        }

        Packet anyPacket() {
            PacketType[] types = PacketType.values();
            PacketType t;
            do {
                t = types[rnd.nextInt(types.length)];
            } while (t == PacketType.AUTH && !v5);
            // PUBLISH is the common case on a real connection.
            return packet(rnd.nextInt(3) == 0 ? PacketType.PUBLISH : t);
        }

        Packet packet(PacketType type) {
            return switch (type) {
                case CONNECT -> connect();
                case CONNACK -> new ConnAck(version != MqttVersion.V3_1 && rnd.nextBoolean(),
                        v5 ? rnd.nextInt(256) : rnd.nextInt(6), props(PacketType.CONNACK.value()));
                case PUBLISH -> publish();
                case PUBACK, PUBREC -> ack(type, PUBACK_CODES);
                case PUBREL, PUBCOMP -> ack(type, PUBREL_CODES);
                case SUBSCRIBE -> subscribe();
                case SUBACK -> new SubAck(packetId(), props(PacketType.SUBACK.value()), codes(v5 ? null : new int[]{0, 1, 2, 0x80}));
                case UNSUBSCRIBE -> unsubscribe();
                case UNSUBACK -> new UnsubAck(packetId(), props(PacketType.UNSUBACK.value()),
                        v5 ? codes(null) : new int[0]);
                case PINGREQ -> PingReq.INSTANCE;
                case PINGRESP -> PingResp.INSTANCE;
                case DISCONNECT -> new Disconnect(v5 ? pick(DISCONNECT_CODES) : 0, props(PacketType.DISCONNECT.value()));
                case AUTH -> new Auth(pick(AUTH_CODES), props(PacketType.AUTH.value()));
            };
        }

        Connect connect() {
            Properties p = props(PacketType.CONNECT.value());
            Connect.Will will = null;
            if (rnd.nextBoolean()) {
                will = new Connect.Will(topicName(), bytes(rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(300)), rnd.nextInt(3),
                        rnd.nextBoolean(), props(PropertiesCodec.WILL));
            }
            String user = rnd.nextBoolean() ? string(rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(4)) : null;
            byte[] password = (user != null || v5) && rnd.nextBoolean() ? bytes(rnd.nextInt(40)) : null;
            String clientId = rnd.nextInt(5) == 0 ? "" : string(1 + rnd.nextInt(3));
            return new Connect(version, clientId, rnd.nextBoolean(), rnd.nextInt(65_536), p, will, user, password);
        }

        private Publish publish() {
            int qos = rnd.nextInt(3);
            Properties p = props(PacketType.PUBLISH.value());
            String topic = topicName();
            if (v5 && p.topicAlias != null && rnd.nextBoolean()) {
                topic = "";
            }
            int size = switch (rnd.nextInt(4)) {
                case 0 -> 0;
                case 1 -> rnd.nextInt(16);
                case 2 -> rnd.nextInt(1_000);
                default -> rnd.nextInt(70_000);
            };
            return new Publish(qos, qos > 0 && rnd.nextBoolean(), rnd.nextBoolean(), topic, qos > 0 ? packetId() : 0,
                    p, bytes(size));
        }

        private Ack ack(PacketType type, int[] codes) {
            if (!v5) {
                return Ack.of(type, packetId(), 0);
            }
            return new Ack(type, packetId(), pick(codes), props(type.value()));
        }

        private Subscribe subscribe() {
            List<Subscribe.Request> requests = new ArrayList<>();
            int n = 1 + rnd.nextInt(5);
            for (int i = 0; i < n; i++) {
                String filter = topicFilter();
                if (v5) {
                    boolean shared = rnd.nextInt(4) == 0;
                    if (shared) {
                        filter = "$share/g/" + filter;
                    }
                    requests.add(new Subscribe.Request(filter, rnd.nextInt(3), !shared && rnd.nextBoolean(),
                            rnd.nextBoolean(), rnd.nextInt(3)));
                } else {
                    requests.add(new Subscribe.Request(filter, rnd.nextInt(3), false, false, 0));
                }
            }
            return new Subscribe(packetId(), props(PacketType.SUBSCRIBE.value()), requests);
        }

        private Unsubscribe unsubscribe() {
            List<String> filters = new ArrayList<>();
            int n = 1 + rnd.nextInt(5);
            for (int i = 0; i < n; i++) {
                filters.add(topicFilter());
            }
            return new Unsubscribe(packetId(), props(PacketType.UNSUBSCRIBE.value()), filters);
        }

        /** Random properties admitted in the context; EMPTY for 3.1/3.1.1 and often for 5.0. */
        Properties props(int context) {
            if (!v5 || rnd.nextInt(3) == 0) {
                return Properties.EMPTY;
            }
            Properties p = new Properties();
            for (int id = 1; id <= PropertiesCodec.SHARED_SUBSCRIPTION_AVAILABLE; id++) {
                if (PropertiesCodec.allowed(id, context) && rnd.nextInt(3) == 0) {
                    set(p, id, context);
                }
            }
            if (context == PacketType.CONNECT.value() && p.authenticationData != null && p.authenticationMethod == null) {
                p.authenticationMethod = string(1);
            }
            return p;
        }

        private void set(Properties p, int id, int context) {
            switch (id) {
                case PropertiesCodec.PAYLOAD_FORMAT_INDICATOR -> p.payloadFormatIndicator = rnd.nextInt(2);
                case PropertiesCodec.MESSAGE_EXPIRY_INTERVAL -> p.messageExpiryInterval = fourBytes();
                case PropertiesCodec.CONTENT_TYPE -> p.contentType = string(rnd.nextInt(3));
                case PropertiesCodec.RESPONSE_TOPIC -> p.responseTopic = topicName();
                case PropertiesCodec.CORRELATION_DATA -> p.correlationData = bytes(rnd.nextInt(20));
                case PropertiesCodec.SUBSCRIPTION_IDENTIFIER -> {
                    int n = context == PacketType.PUBLISH.value() ? 1 + rnd.nextInt(3) : 1;
                    for (int i = 0; i < n; i++) {
                        p.addSubscriptionIdentifier(1 + rnd.nextInt(pick(new int[]{127, 16_383, 2_097_151, 268_435_455})));
                    }
                }
                case PropertiesCodec.SESSION_EXPIRY_INTERVAL -> p.sessionExpiryInterval = fourBytes();
                case PropertiesCodec.ASSIGNED_CLIENT_IDENTIFIER -> p.assignedClientIdentifier = string(2);
                case PropertiesCodec.SERVER_KEEP_ALIVE -> p.serverKeepAlive = rnd.nextInt(65_536);
                case PropertiesCodec.AUTHENTICATION_METHOD -> p.authenticationMethod = string(1 + rnd.nextInt(2));
                case PropertiesCodec.AUTHENTICATION_DATA -> p.authenticationData = bytes(rnd.nextInt(30));
                case PropertiesCodec.REQUEST_PROBLEM_INFORMATION -> p.requestProblemInformation = rnd.nextInt(2);
                case PropertiesCodec.WILL_DELAY_INTERVAL -> p.willDelayInterval = fourBytes();
                case PropertiesCodec.REQUEST_RESPONSE_INFORMATION -> p.requestResponseInformation = rnd.nextInt(2);
                case PropertiesCodec.RESPONSE_INFORMATION -> p.responseInformation = string(2);
                case PropertiesCodec.SERVER_REFERENCE -> p.serverReference = string(2);
                case PropertiesCodec.REASON_STRING -> p.reasonString = string(rnd.nextInt(4));
                case PropertiesCodec.RECEIVE_MAXIMUM -> p.receiveMaximum = 1 + rnd.nextInt(65_535);
                case PropertiesCodec.TOPIC_ALIAS_MAXIMUM -> p.topicAliasMaximum = rnd.nextInt(65_536);
                case PropertiesCodec.TOPIC_ALIAS -> p.topicAlias = 1 + rnd.nextInt(65_535);
                case PropertiesCodec.MAXIMUM_QOS -> p.maximumQos = rnd.nextInt(2);
                case PropertiesCodec.RETAIN_AVAILABLE -> p.retainAvailable = rnd.nextInt(2);
                case PropertiesCodec.USER_PROPERTY -> {
                    int n = 1 + rnd.nextInt(4);
                    for (int i = 0; i < n; i++) {
                        p.addUserProperty(string(rnd.nextInt(3)), string(rnd.nextInt(3)));
                    }
                }
                case PropertiesCodec.MAXIMUM_PACKET_SIZE -> p.maximumPacketSize = 1 + (long) rnd.nextInt(Integer.MAX_VALUE);
                case PropertiesCodec.WILDCARD_SUBSCRIPTION_AVAILABLE -> p.wildcardSubscriptionAvailable = rnd.nextInt(2);
                case PropertiesCodec.SUBSCRIPTION_IDENTIFIER_AVAILABLE -> p.subscriptionIdentifierAvailable = rnd.nextInt(2);
                case PropertiesCodec.SHARED_SUBSCRIPTION_AVAILABLE -> p.sharedSubscriptionAvailable = rnd.nextInt(2);
                default -> throw new IllegalStateException("no generator for property " + id);
            }
        }

        private long fourBytes() {
            return rnd.nextBoolean() ? rnd.nextInt(1000) : rnd.nextLong() & 0xFFFF_FFFFL;
        }

        private int packetId() {
            return 1 + rnd.nextInt(65_535);
        }

        private int pick(int[] values) {
            return values[rnd.nextInt(values.length)];
        }

        private int[] codes(int[] from) {
            int[] codes = new int[1 + rnd.nextInt(5)];
            for (int i = 0; i < codes.length; i++) {
                codes[i] = from == null ? rnd.nextInt(256) : pick(from);
            }
            return codes;
        }

        private byte[] bytes(int n) {
            byte[] b = new byte[n];
            rnd.nextBytes(b);
            return b;
        }

        /** Concatenated sample words, including multi-byte and supplementary characters. */
        private String string(int words) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < words; i++) {
                sb.append(SAMPLES[rnd.nextInt(SAMPLES.length)]);
            }
            return sb.toString();
        }

        private String topicName() {
            int levels = 1 + rnd.nextInt(4);
            StringBuilder sb = new StringBuilder(string(1));
            for (int i = 1; i < levels; i++) {
                sb.append('/').append(string(rnd.nextInt(2)));
            }
            return sb.toString();
        }

        private String topicFilter() {
            String t = topicName();
            return switch (rnd.nextInt(4)) {
                case 0 -> t + "/#";
                case 1 -> "+/" + t;
                case 2 -> "#";
                default -> t;
            };
        }
    }
}
