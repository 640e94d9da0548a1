package io.starling.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.starling.protocol.MqttVersion.V3_1;
import static io.starling.protocol.MqttVersion.V3_1_1;
import static io.starling.protocol.MqttVersion.V5;
import static io.starling.protocol.ReasonCode.MALFORMED_PACKET;
import static io.starling.protocol.ReasonCode.PACKET_TOO_LARGE;
import static io.starling.protocol.ReasonCode.PROTOCOL_ERROR;
import static io.starling.protocol.ReasonCode.UNSUPPORTED_PROTOCOL_VERSION;
import static io.starling.protocol.ReasonCode.TOPIC_ALIAS_INVALID;
import static io.starling.protocol.ReasonCode.TOPIC_NAME_INVALID;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per rule the decoder enforces, on hand-made bytes. */
class PacketDecoderTest {
    private static final int MAX = 1 << 16;

    // ------------------------------------------------------------------------------------------ helpers

    /** Bytes of a packet body under construction. */
    private static final class Body {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Body b(int... bytes) {
            for (int x : bytes) {
                out.write(x);
            }
            return this;
        }

        Body s(String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            return b(utf8.length >> 8, utf8.length & 0xFF).raw(utf8);
        }

        Body raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        /** A string field whose content bytes are given literally (to write invalid UTF-8). */
        Body rawString(int... content) {
            b(content.length >> 8, content.length & 0xFF);
            return b(content);
        }

        byte[] packet(int firstByte) {
            byte[] body = out.toByteArray();
            Buffer buf = Buffer.buffer().appendByte((byte) firstByte);
            int len = body.length;
            do {
                int d = len & 0x7F;
                len >>>= 7;
                buf.appendByte((byte) (len > 0 ? d | 0x80 : d));
            } while (len > 0);
            return buf.appendBytes(body).getBytes();
        }
    }

    private static Body body() {
        return new Body();
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] connect(MqttVersion version) {
        return PacketEncoder.encode(new Connect(version, "c", true, 60, Properties.EMPTY, null, null, null), version)
                .getBytes();
    }

    private static byte[] encode(Packet p, MqttVersion version) {
        return PacketEncoder.encode(p, version).getBytes();
    }

    /** Feeds each array as one feed to a fresh decoder and returns what it decoded. */
    private static List<Packet> decode(byte[]... feeds) throws ProtocolViolation {
        PacketDecoder d = new PacketDecoder(MAX);
        List<Packet> out = new ArrayList<>();
        for (byte[] f : feeds) {
            d.feed(Buffer.buffer(f), out::add);
        }
        return out;
    }

    /** Decodes a CONNECT of the version and then the packet; returns the packet. */
    private static Packet decodeAfterConnect(MqttVersion version, byte[] packet) throws ProtocolViolation {
        List<Packet> out = decode(connect(version), packet);
        assertEquals(2, out.size());
        return out.get(1);
    }

    private static void assertViolation(int reason, String rule, Executable decoding) {
        ProtocolViolation v = assertThrows(ProtocolViolation.class, decoding);
        assertEquals(rule, v.rule(), () -> "rule of " + v);
        assertEquals(ReasonCode.name(reason), ReasonCode.name(v.reasonCode()), () -> "reason of " + v);
    }

    private static void assertViolationAfterConnect(MqttVersion version, int reason, String rule, byte[] packet) {
        assertViolation(reason, rule, () -> decode(connect(version), packet));
    }

    /** A CONNECT with the given version bytes, flags and payload, for flag tests. */
    private static byte[] rawConnect(String name, int level, int flags, Body payload) {
        Body b = body().s(name).b(level, flags, 0, 60);
        if (level == 5) {
            b.b(0); // no properties
        }
        return b.raw(payload.out.toByteArray()).packet(0x10);
    }

    // ------------------------------------------------------------------------------------------ framing

    @Test
    void packetSplitAcrossFeedsIsDecoded() throws ProtocolViolation {
        byte[] publish = encode(new Publish(1, false, false, "a/b", 7, Properties.EMPTY, new byte[300]), V5);
        PacketDecoder d = new PacketDecoder(MAX);
        List<Packet> out = new ArrayList<>();
        d.feed(Buffer.buffer(connect(V5)), out::add);
        for (byte b : publish) {
            d.feed(Buffer.buffer(new byte[]{b}), out::add);
        }
        assertEquals(2, out.size());
        Publish p = assertInstanceOf(Publish.class, out.get(1));
        assertEquals("a/b", p.topic());
        assertEquals(7, p.packetId());
        assertEquals(300, p.payload().length);
    }

    @Test
    void manyPacketsInOneFeedAreDecodedInOrder() throws ProtocolViolation {
        Buffer all = Buffer.buffer(connect(V3_1_1))
                .appendBuffer(PacketEncoder.encode(PingReq.INSTANCE, V3_1_1))
                .appendBuffer(PacketEncoder.encode(Ack.of(PacketType.PUBACK, 3, 0), V3_1_1))
                .appendBuffer(PacketEncoder.encode(new Disconnect(0, Properties.EMPTY), V3_1_1));
        List<Packet> out = new ArrayList<>();
        new PacketDecoder(MAX).feed(all, out::add);
        assertEquals(List.of(PacketType.CONNECT, PacketType.PINGREQ, PacketType.PUBACK, PacketType.DISCONNECT),
                out.stream().map(Packet::type).toList());
    }

    @Test
    void emptyFeedDecodesNothing() throws ProtocolViolation {
        assertTrue(decode(new byte[0]).isEmpty());
    }

    @Test
    void remainingLengthOverFourBytesIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.5-1", bytes(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01));
    }

    @Test
    void remainingLengthNotInItsShortestEncodingIsMalformed() {
        // PINGREQ with Remaining Length 0 written in two bytes, and PUBLISH with 5 written as 0x85 0x00.
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.5-1", bytes(0xC0, 0x80, 0x00));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.5-1",
                bytes(0x30, 0x85, 0x00, 0, 1, 't', 'x', 'y'));
    }

    @Test
    void packetOverMaximumSizeIsRejectedBeforeBuffering() throws ProtocolViolation {
        PacketDecoder d = new PacketDecoder(100);
        d.feed(Buffer.buffer(connect(V5)), p -> { });
        // Only the fixed header of a 101-byte PUBLISH (1 + 1 + 99): no body byte is needed to reject it.
        ProtocolViolation v = assertThrows(ProtocolViolation.class,
                () -> d.feed(Buffer.buffer(bytes(0x30, 99)), p -> { }));
        assertEquals(PACKET_TOO_LARGE, v.reasonCode());
        assertEquals("MQTT-3.2.2-15", v.rule());
        // A 256 MB claim is rejected the same way.
        PacketDecoder d2 = new PacketDecoder(100);
        d2.feed(Buffer.buffer(connect(V3_1_1)), p -> { });
        assertViolation(PACKET_TOO_LARGE, "MQTT-3.2.2-15",
                () -> d2.feed(Buffer.buffer(bytes(0x30, 0xFF, 0xFF, 0xFF, 0x7F)), p -> { }));
    }

    @Test
    void packetOfExactlyMaximumSizeIsAccepted() throws ProtocolViolation {
        byte[] connect = connect(V5);
        PacketDecoder d = new PacketDecoder(connect.length);
        List<Packet> out = new ArrayList<>();
        d.feed(Buffer.buffer(connect), out::add);
        assertEquals(1, out.size());
        assertViolation(PACKET_TOO_LARGE, "MQTT-3.2.2-15",
                () -> new PacketDecoder(connect.length - 1).feed(Buffer.buffer(connect), p -> { }));
    }

    @Test
    void firstPacketMustBeConnect() {
        assertViolation(PROTOCOL_ERROR, "MQTT-3.1.0-1", () -> decode(bytes(0xC0, 0x00)));
        assertViolation(PROTOCOL_ERROR, "MQTT-3.1.0-1", () -> decode(bytes(0x30)));
    }

    @Test
    void reservedPacketTypeZeroIsMalformed() {
        assertViolation(MALFORMED_PACKET, "2.1.2", () -> decode(bytes(0x00, 0x00)));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.1.2", bytes(0x00, 0x00));
    }

    @Test
    void authPacketIsMalformedBeforeV5() {
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "2.2.1", bytes(0xF0, 0x00));
        assertViolationAfterConnect(V3_1, MALFORMED_PACKET, "2.2.1", bytes(0xF0, 0x00));
    }

    @Test
    void decoderIsUnusableAfterAViolation() {
        PacketDecoder d = new PacketDecoder(MAX);
        assertThrows(ProtocolViolation.class, () -> d.feed(Buffer.buffer(bytes(0xC0, 0x00)), p -> { }));
        assertThrows(IllegalStateException.class, () -> d.feed(Buffer.buffer(connect(V5)), p -> { }));
    }

    @Test
    void packetsBeforeTheViolationAreDelivered() {
        List<Packet> out = new ArrayList<>();
        PacketDecoder d = new PacketDecoder(MAX);
        Buffer data = Buffer.buffer(connect(V5)).appendBytes(bytes(0xC0, 0x00, 0xC1, 0x00));
        assertViolation(MALFORMED_PACKET, "MQTT-2.1.3-1", () -> d.feed(data, out::add));
        assertEquals(2, out.size());
    }

    // ------------------------------------------------------------------------------------------ fixed header flags

    @Test
    void reservedFlagBitsInPubrelAreMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-3.6.1-1", bytes(0x60, 0x02, 0x00, 0x01));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-3.6.1-1", bytes(0x63, 0x02, 0x00, 0x01));
    }

    @Test
    void reservedFlagBitsInSubscribeAreMalformed() {
        byte[] sub = body().b(0, 1).s("a").b(0).packet(0x80);
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-3.8.1-1", sub);
    }

    @Test
    void reservedFlagBitsInUnsubscribeAreMalformed() {
        byte[] unsub = body().b(0, 1).s("a").packet(0xA0);
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-3.10.1-1", unsub);
    }

    @Test
    void reservedFlagBitsInOtherPacketsAreMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-2.1.3-1", bytes(0xC1, 0x00));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-2.1.3-1", bytes(0x48, 0x02, 0x00, 0x01));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-2.2.2-2", bytes(0xE4, 0x00));
        byte[] connect = connect(V5);
        connect[0] = 0x12;
        assertViolation(MALFORMED_PACKET, "MQTT-2.1.3-1", () -> decode(connect));
    }

    @Test
    void publishWithQos3IsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-3.3.1-4", body().s("t").b(0, 1, 0).packet(0x36));
    }

    @Test
    void publishWithQos0AndDupIsProtocolError() {
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-3.3.1-2", body().s("t").packet(0x38));
    }

    // ------------------------------------------------------------------------------------------ strings

    @Test
    void invalidUtf8InTopicIsMalformed() {
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString('a', 0xC3, 0x28).packet(0x30));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString(0xFF).b(0).packet(0x30));
        // a sequence cut off by the end of the string
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString('a', 0xE2, 0x82).b(0).packet(0x30));
    }

    @Test
    void overlongUtf8EncodingIsMalformed() {
        // '/' as 0xC0 0xAF, and as 0xE0 0x80 0xAF; U+FFFF as F0 8F BF BF
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.4-1", body().rawString(0xC0, 0xAF).packet(0x30));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString(0xE0, 0x80, 0xAF).packet(0x30));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString(0xF0, 0x8F, 0xBF, 0xBF).packet(0x30));
    }

    @Test
    void surrogateCodePointInStringIsMalformed() {
        // U+D800 encoded as ED A0 80
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString('t', 0xED, 0xA0, 0x80).b(0).packet(0x30));
    }

    @Test
    void codePointAboveU10FFFFIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.4-1",
                body().rawString(0xF4, 0x90, 0x80, 0x80).b(0).packet(0x30));
    }

    @Test
    void wellFormedMultiByteStringsAreDecoded() throws ProtocolViolation {
        String topic = "é/日本/\uD83D\uDE00/\uFFFF/\u007F";
        Publish p = (Publish) decodeAfterConnect(V5, body().s(topic).b(0).packet(0x30));
        assertEquals(topic, p.topic());
    }

    @Test
    void nullCharacterInClientIdIsMalformed() {
        assertViolation(MALFORMED_PACKET, "MQTT-1.5.4-2",
                () -> decode(encode(new Connect(V5, "a\u0000b", true, 0, Properties.EMPTY, null, null, null), V5)));
    }

    @Test
    void nullCharacterInMultiByteStringIsMalformed() {
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-1.5.4-2",
                body().rawString(0xC3, 0xA9, 0x00).packet(0x30));
    }

    @Test
    void truncatedStringIsMalformed() {
        // The topic claims 10 bytes, the packet holds 2.
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "2.1.4", body().b(0, 10, 'a', 'b').packet(0x30));
    }

    @Test
    void leftoverBytesInPacketAreMalformed() {
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "2.1.4", bytes(0xC0, 0x01, 0x00));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "2.1.4", bytes(0x40, 0x03, 0x00, 0x01, 0x00));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "2.1.4", bytes(0xE0, 0x01, 0x00));
        byte[] connect = body().s("MQTT").b(4, 0x02, 0, 60).s("c").b(0x00).packet(0x10);
        assertViolation(MALFORMED_PACKET, "2.1.4", () -> decode(connect));
    }

    @Test
    void truncatedPacketIdentifierIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.1.4", bytes(0x40, 0x01, 0x00));
    }

    // ------------------------------------------------------------------------------------------ CONNECT

    @Test
    void protocolNameAndLevelSelectTheVersion() throws ProtocolViolation {
        for (MqttVersion v : MqttVersion.values()) {
            PacketDecoder d = new PacketDecoder(MAX);
            assertNull(d.version());
            List<Packet> out = new ArrayList<>();
            d.feed(Buffer.buffer(connect(v)), out::add);
            assertEquals(v, d.version());
            assertEquals(v, ((Connect) out.get(0)).version());
        }
    }

    @Test
    void unknownProtocolLevelIsUnsupportedVersion() {
        assertViolation(UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-2",
                () -> decode(rawConnect("MQTT", 6, 0x02, body().s("c"))));
        assertViolation(UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-2",
                () -> decode(rawConnect("MQTT", 0x84, 0x02, body().s("c")))); // bridge bit
    }

    @Test
    void unknownProtocolNameIsUnsupportedVersion() {
        assertViolation(UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-1",
                () -> decode(rawConnect("MQTX", 4, 0x02, body().s("c"))));
        assertViolation(UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-1",
                () -> decode(rawConnect("MQIsdp", 4, 0x02, body().s("c"))));
        assertViolation(UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-1",
                () -> decode(rawConnect("MQTT", 3, 0x02, body().s("c"))));
    }

    @Test
    void versionIsKnownWhenTheRestOfConnectIsBad() {
        PacketDecoder d = new PacketDecoder(MAX);
        byte[] bad = rawConnect("MQTT", 5, 0x03, body().s("c"));
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-3", () -> d.feed(Buffer.buffer(bad), p -> { }));
        assertEquals(V5, d.version());
    }

    @Test
    void connectReservedFlagIsMalformed() {
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-3", () -> decode(rawConnect("MQTT", 4, 0x03, body().s("c"))));
    }

    @Test
    void willQosWithoutWillFlagIsMalformed() {
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-11", () -> decode(rawConnect("MQTT", 5, 0x0A, body().s("c"))));
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-13", () -> decode(rawConnect("MQTT", 4, 0x0A, body().s("c"))));
    }

    @Test
    void willRetainWithoutWillFlagIsMalformed() {
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-13", () -> decode(rawConnect("MQTT", 5, 0x22, body().s("c"))));
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-15", () -> decode(rawConnect("MQTT", 4, 0x22, body().s("c"))));
    }

    @Test
    void willQos3IsMalformed() {
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-12",
                () -> decode(rawConnect("MQTT", 5, 0x1E, body().s("c").b(0).s("w").s("x"))));
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-14",
                () -> decode(rawConnect("MQTT", 4, 0x1E, body().s("c").s("w").s("x"))));
    }

    @Test
    void passwordWithoutUserNameIsMalformedInV311() {
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-22",
                () -> decode(rawConnect("MQTT", 4, 0x42, body().s("c").s("pw"))));
        assertViolation(MALFORMED_PACKET, "MQTT-3.1.2-22",
                () -> decode(rawConnect("MQIsdp", 3, 0x42, body().s("c").s("pw"))));
    }

    @Test
    void passwordWithoutUserNameIsAllowedInV5() throws ProtocolViolation {
        Connect c = (Connect) decode(rawConnect("MQTT", 5, 0x42, body().s("c").s("pw"))).get(0);
        assertNull(c.username());
        assertArrayEquals("pw".getBytes(StandardCharsets.UTF_8), c.password());
    }

    @Test
    void connectWithWillUserAndPasswordIsDecoded() throws ProtocolViolation {
        Connect c = (Connect) decode(rawConnect("MQTT", 4, 0xF6, body().s("id").s("w/t").s("bye").s("u").s("p")))
                .get(0);
        assertEquals("id", c.clientId());
        assertTrue(c.cleanStart());
        assertEquals(60, c.keepAliveSeconds());
        assertEquals("w/t", c.will().topic());
        assertEquals(2, c.will().qos());
        assertTrue(c.will().retain());
        assertEquals("u", c.username());
    }

    @Test
    void secondConnectIsDecodedAndLeftToTheBroker() throws ProtocolViolation {
        List<Packet> out = decode(connect(V3_1_1), connect(V3_1_1));
        assertEquals(2, out.size());
        assertInstanceOf(Connect.class, out.get(1));
    }

    @Test
    void authenticationDataWithoutMethodIsProtocolError() {
        Properties p = new Properties();
        p.authenticationData = new byte[]{1};
        assertViolation(PROTOCOL_ERROR, "3.1.2.11.10",
                () -> decode(encode(new Connect(V5, "c", true, 0, p, null, null, null), V5)));
    }

    // ------------------------------------------------------------------------------------------ PUBLISH

    @Test
    void publishWithPacketIdZeroIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", body().s("t").b(0, 0, 0).packet(0x32));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-2.3.1-1", body().s("t").b(0, 0).packet(0x34));
    }

    @Test
    void acknowledgementsWithPacketIdZeroAreProtocolErrors() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", bytes(0x40, 0x02, 0x00, 0x00));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", bytes(0x50, 0x02, 0x00, 0x00));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", bytes(0x62, 0x02, 0x00, 0x00));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-2.3.1-1", bytes(0x70, 0x02, 0x00, 0x00));
    }

    @Test
    void wildcardInPublishTopicIsProtocolError() {
        assertViolationAfterConnect(V3_1_1, TOPIC_NAME_INVALID, "MQTT-3.3.2-2", body().s("a/+/b").packet(0x30));
        assertViolationAfterConnect(V5, TOPIC_NAME_INVALID, "MQTT-3.3.2-2", body().s("a/#").b(0).packet(0x30));
    }

    @Test
    void emptyPublishTopicWithoutTopicAliasIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-4.7.3-1", body().s("").b(0).packet(0x30));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-4.7.3-1", body().s("").packet(0x30));
    }

    @Test
    void emptyPublishTopicWithTopicAliasIsAcceptedInV5() throws ProtocolViolation {
        Publish p = (Publish) decodeAfterConnect(V5, body().s("").b(3, 0x23, 0, 9).b('x').packet(0x30));
        assertEquals("", p.topic());
        assertEquals(9, p.properties().topicAlias);
        assertArrayEquals(new byte[]{'x'}, p.payload());
    }

    @Test
    void topicAliasZeroIsProtocolError() {
        assertViolationAfterConnect(V5, TOPIC_ALIAS_INVALID, "MQTT-3.3.2-8", body().s("t").b(3, 0x23, 0, 0).packet(0x30));
    }

    @Test
    void publishFieldsAreDecoded() throws ProtocolViolation {
        Publish p = (Publish) decodeAfterConnect(V3_1_1, body().s("a/b").b(0x12, 0x34, 1, 2, 3).packet(0x3D));
        assertEquals(2, p.qos());
        assertTrue(p.dup());
        assertTrue(p.retain());
        assertEquals(0x1234, p.packetId());
        assertArrayEquals(new byte[]{1, 2, 3}, p.payload());
        assertEquals(Properties.EMPTY, p.properties());
    }

    @Test
    void repeatedSubscriptionIdentifiersAreAllowedInPublish() throws ProtocolViolation {
        Publish p = (Publish) decodeAfterConnect(V5, body().s("t").b(4, 0x0B, 1, 0x0B, 2).packet(0x30));
        assertEquals(List.of(1, 2), p.properties().subscriptionIdentifiers);
    }

    // ------------------------------------------------------------------------------------------ properties

    @Test
    void duplicatePropertyIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "2.2.2.2",
                body().s("t").b(4, 0x01, 0, 0x01, 1).packet(0x30));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "2.2.2.2",
                body().b(0, 1).b(4, 0x0B, 1, 0x0B, 2).s("f").b(0).packet(0x82));
    }

    @Test
    void repeatedUserPropertyIsAllowed() throws ProtocolViolation {
        Publish p = (Publish) decodeAfterConnect(V5,
                body().s("t").b(14).b(0x26).s("k").s("v").b(0x26).s("k").s("w").packet(0x30));
        assertEquals(List.of(new Properties.UserProperty("k", "v"), new Properties.UserProperty("k", "w")),
                p.properties().userProperties);
    }

    @Test
    void unknownPropertyIdIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.2.2.2", body().s("t").b(2, 0x05, 0).packet(0x30));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.2.2.2", body().s("t").b(2, 0x7F, 0).packet(0x30));
    }

    @Test
    void propertyNotAllowedForPacketTypeIsMalformed() {
        // Session Expiry Interval in PUBLISH; Topic Alias in PUBACK; Will Delay Interval in CONNECT itself.
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.2.2.2", body().s("t").b(5, 0x11, 0, 0, 0, 1).packet(0x30));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.2.2.2", bytes(0x40, 0x07, 0, 1, 0, 3, 0x23, 0, 1));
        byte[] connect = body().s("MQTT").b(5, 0x02, 0, 60).b(5, 0x18, 0, 0, 0, 1).s("c").packet(0x10);
        assertViolation(MALFORMED_PACKET, "2.2.2.2", () -> decode(connect));
    }

    @Test
    void propertyLengthBeyondPacketIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.1.4", body().s("t").b(9, 0x01, 0).packet(0x30));
    }

    @Test
    void propertyValueOverrunningPropertyLengthIsMalformed() {
        // Property Length 2 but Message Expiry Interval needs 5 bytes.
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "2.1.4", body().s("t").b(2, 0x02, 0, 0, 0, 1).packet(0x30));
    }

    @Test
    void variableByteIntegerPropertyOverFourBytesIsMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.5-1",
                body().s("t").b(6, 0x0B, 0x80, 0x80, 0x80, 0x80, 0x01).packet(0x30));
    }

    @Test
    void variableByteIntegerPropertyNotInItsShortestEncodingIsMalformed() {
        // Subscription Identifier 1 written as 0x81 0x00 [MQTT-1.5.5-1].
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-1.5.5-1",
                body().s("t").b(3, 0x0B, 0x81, 0x00).packet(0x30));
    }

    @Test
    void receiveMaximumZeroIsProtocolError() {
        byte[] connect = body().s("MQTT").b(5, 0x02, 0, 60).b(3, 0x21, 0, 0).s("c").packet(0x10);
        assertViolation(PROTOCOL_ERROR, "3.1.2.11.3", () -> decode(connect));
    }

    @Test
    void maximumPacketSizeZeroIsProtocolError() {
        byte[] connect = body().s("MQTT").b(5, 0x02, 0, 60).b(5, 0x27, 0, 0, 0, 0).s("c").packet(0x10);
        assertViolation(PROTOCOL_ERROR, "3.1.2.11.4", () -> decode(connect));
    }

    @Test
    void subscriptionIdentifierZeroIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "3.8.2.1.2", body().b(0, 1).b(2, 0x0B, 0).s("f").b(0).packet(0x82));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "3.3.2.3.8", body().s("t").b(2, 0x0B, 0).packet(0x30));
    }

    @Test
    void payloadFormatIndicatorOtherThanZeroOrOneIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "3.3.2.3.2", body().s("t").b(2, 0x01, 2).packet(0x30));
    }

    @Test
    void requestProblemInformationOtherThanZeroOrOneIsProtocolError() {
        byte[] connect = body().s("MQTT").b(5, 0x02, 0, 60).b(2, 0x17, 2).s("c").packet(0x10);
        assertViolation(PROTOCOL_ERROR, "3.1.2.11.7", () -> decode(connect));
    }

    @Test
    void requestResponseInformationOtherThanZeroOrOneIsProtocolError() {
        byte[] connect = body().s("MQTT").b(5, 0x02, 0, 60).b(2, 0x19, 5).s("c").packet(0x10);
        assertViolation(PROTOCOL_ERROR, "3.1.2.11.6", () -> decode(connect));
    }

    @Test
    void willPropertiesAreDecodedSeparately() throws ProtocolViolation {
        byte[] connect = body().s("MQTT").b(5, 0x06, 0, 60).b(0).s("c").b(5, 0x18, 0, 0, 0, 30).s("w").s("m")
                .packet(0x10);
        Connect c = (Connect) decode(connect).get(0);
        assertEquals(30L, c.will().properties().willDelayInterval);
        assertEquals(Properties.EMPTY, c.properties());
    }

    // ------------------------------------------------------------------------------------------ SUBSCRIBE, UNSUBSCRIBE

    @Test
    void subscribeWithoutFiltersIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.8.3-2", body().b(0, 1, 0).packet(0x82));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-3.8.3-3", body().b(0, 1).packet(0x82));
    }

    @Test
    void subscribeWithPacketIdZeroIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", body().b(0, 0, 0).s("f").b(0).packet(0x82));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-2.3.1-1", body().b(0, 0).s("f").b(0).packet(0x82));
    }

    @Test
    void reservedSubscriptionOptionBitsAreMalformed() {
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-3.8.3-5", body().b(0, 1, 0).s("f").b(0x40).packet(0x82));
        assertViolationAfterConnect(V5, MALFORMED_PACKET, "MQTT-3.8.3-5", body().b(0, 1, 0).s("f").b(0x81).packet(0x82));
    }

    @Test
    void subscriptionMaximumQos3IsProtocolErrorInV5() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "3.8.3.1", body().b(0, 1, 0).s("f").b(0x03).packet(0x82));
    }

    @Test
    void retainHandling3IsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "3.8.3.1", body().b(0, 1, 0).s("f").b(0x30).packet(0x82));
    }

    @Test
    void requestedQosByteWithUpperBitsOrQos3IsMalformedInV311() {
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-3-8.3-4", body().b(0, 1).s("f").b(0x04).packet(0x82));
        assertViolationAfterConnect(V3_1_1, MALFORMED_PACKET, "MQTT-3-8.3-4", body().b(0, 1).s("f").b(0x03).packet(0x82));
        assertViolationAfterConnect(V3_1, MALFORMED_PACKET, "MQTT-3-8.3-4", body().b(0, 1).s("f").b(0x80).packet(0x82));
    }

    @Test
    void noLocalOnSharedSubscriptionIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.8.3-4",
                body().b(0, 1, 0).s("$share/g/a").b(0x04).packet(0x82));
    }

    @Test
    void subscriptionOptionsAreDecoded() throws ProtocolViolation {
        Subscribe s = (Subscribe) decodeAfterConnect(V5, body().b(0, 9, 0).s("a/#").b(0x2E).s("b").b(0x01).packet(0x82));
        assertEquals(9, s.packetId());
        assertEquals(new Subscribe.Request("a/#", 2, true, true, 2), s.requests().get(0));
        assertEquals(new Subscribe.Request("b", 1, false, false, 0), s.requests().get(1));
    }

    @Test
    void unsubscribeWithoutFiltersIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.10.3-2", body().b(0, 1, 0).packet(0xA2));
        assertViolationAfterConnect(V3_1_1, PROTOCOL_ERROR, "MQTT-3.10.3-2", body().b(0, 1).packet(0xA2));
    }

    @Test
    void unsubscribeWithPacketIdZeroIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-2.2.1-3", body().b(0, 0, 0).s("f").packet(0xA2));
    }

    // ------------------------------------------------------------------------------------------ 5.0 short forms, reason codes

    @Test
    void pubackWithRemainingLength2IsSuccessWithoutProperties() throws ProtocolViolation {
        Ack a = (Ack) decodeAfterConnect(V5, bytes(0x40, 0x02, 0x00, 0x05));
        assertEquals(Ack.of(PacketType.PUBACK, 5, 0).packetId(), a.packetId());
        assertEquals(ReasonCode.SUCCESS, a.reasonCode());
        assertEquals(Properties.EMPTY, a.properties());
    }

    @Test
    void pubrecWithRemainingLength3HasReasonCodeWithoutProperties() throws ProtocolViolation {
        Ack a = (Ack) decodeAfterConnect(V5, bytes(0x50, 0x03, 0x00, 0x05, 0x10));
        assertEquals(PacketType.PUBREC, a.type());
        assertEquals(ReasonCode.NO_MATCHING_SUBSCRIBERS, a.reasonCode());
        assertEquals(Properties.EMPTY, a.properties());
    }

    @Test
    void pubcompWithPropertiesIsDecoded() throws ProtocolViolation {
        Ack a = (Ack) decodeAfterConnect(V5, body().b(0, 5, 0x92, 5, 0x1F).s("no").packet(0x70));
        assertEquals(0x92, a.reasonCode());
        assertEquals("no", a.properties().reasonString);
    }

    @Test
    void invalidAcknowledgementReasonCodeIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.4.2-1", bytes(0x40, 0x03, 0x00, 0x05, 0x92));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.5.2-1", bytes(0x50, 0x03, 0x00, 0x05, 0x01));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.6.2-1", bytes(0x62, 0x03, 0x00, 0x05, 0x80));
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.7.2-1", bytes(0x70, 0x03, 0x00, 0x05, 0x10));
    }

    @Test
    void disconnectWithRemainingLength0IsNormalDisconnection() throws ProtocolViolation {
        Disconnect d = (Disconnect) decodeAfterConnect(V5, bytes(0xE0, 0x00));
        assertEquals(ReasonCode.NORMAL_DISCONNECTION, d.reasonCode());
        assertEquals(Properties.EMPTY, d.properties());
        Disconnect withReason = (Disconnect) decodeAfterConnect(V5, bytes(0xE0, 0x01, 0x04));
        assertEquals(ReasonCode.DISCONNECT_WITH_WILL, withReason.reasonCode());
    }

    @Test
    void invalidDisconnectReasonCodeIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.14.2-1", bytes(0xE0, 0x01, 0x01));
    }

    @Test
    void authWithRemainingLength0IsSuccess() throws ProtocolViolation {
        Auth a = (Auth) decodeAfterConnect(V5, bytes(0xF0, 0x00));
        assertEquals(ReasonCode.SUCCESS, a.reasonCode());
        assertEquals(Properties.EMPTY, a.properties());
    }

    @Test
    void invalidAuthReasonCodeIsProtocolError() {
        assertViolationAfterConnect(V5, PROTOCOL_ERROR, "MQTT-3.15.2-1", bytes(0xF0, 0x02, 0x87, 0x00));
    }

    @Test
    void v3AcknowledgementsCarryOnlyThePacketIdentifier() throws ProtocolViolation {
        Ack a = (Ack) decodeAfterConnect(V3_1_1, bytes(0x62, 0x02, 0x01, 0x02));
        assertEquals(PacketType.PUBREL, a.type());
        assertEquals(0x0102, a.packetId());
        assertEquals(0, a.reasonCode());
        assertFalse(a.properties() != Properties.EMPTY);
    }
}
