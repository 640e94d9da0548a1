package io.starling.protocol;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.starling.protocol.MqttVersion.V3_1;
import static io.starling.protocol.MqttVersion.V3_1_1;
import static io.starling.protocol.MqttVersion.V5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Exact bytes of the version-specific and short forms. */
class PacketEncoderTest {

    private static void assertBytes(Buffer actual, int... expected) {
        byte[] e = new byte[expected.length];
        for (int i = 0; i < expected.length; i++) {
            e[i] = (byte) expected[i];
        }
        assertArrayEquals(e, actual.getBytes());
    }

    @Test
    void v3DisconnectIsTwoBytes() {
        Disconnect d = new Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, Properties.EMPTY);
        assertBytes(PacketEncoder.encode(d, V3_1_1), 0xE0, 0x00);
        assertBytes(PacketEncoder.encode(d, V3_1), 0xE0, 0x00);
    }

    @Test
    void v5DisconnectShortForms() {
        assertBytes(PacketEncoder.encode(new Disconnect(0, Properties.EMPTY), V5), 0xE0, 0x00);
        assertBytes(PacketEncoder.encode(new Disconnect(0x8E, Properties.EMPTY), V5), 0xE0, 0x01, 0x8E);
        Properties p = new Properties();
        p.reasonString = "x";
        assertBytes(PacketEncoder.encode(new Disconnect(0x8E, p), V5), 0xE0, 0x06, 0x8E, 0x04, 0x1F, 0x00, 0x01, 'x');
    }

    @Test
    void v5AcknowledgementShortForms() {
        assertBytes(PacketEncoder.encode(Ack.of(PacketType.PUBACK, 1, 0), V5), 0x40, 0x02, 0x00, 0x01);
        assertBytes(PacketEncoder.encode(Ack.of(PacketType.PUBREC, 1, 0x10), V5), 0x50, 0x03, 0x00, 0x01, 0x10);
        assertBytes(PacketEncoder.encode(Ack.of(PacketType.PUBREL, 2, 0), V5), 0x62, 0x02, 0x00, 0x02);
    }

    @Test
    void v3AcknowledgementsCarryOnlyThePacketIdentifier() {
        assertBytes(PacketEncoder.encode(Ack.of(PacketType.PUBCOMP, 0x0102, 0x92), V3_1_1), 0x70, 0x02, 0x01, 0x02);
        assertBytes(PacketEncoder.encode(new UnsubAck(7, Properties.EMPTY, new int[]{0x11}), V3_1_1), 0xB0, 0x02, 0x00, 0x07);
    }

    @Test
    void v3ConnAckWritesTheReturnCode() {
        assertBytes(PacketEncoder.encode(new ConnAck(true, ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD, Properties.EMPTY), V3_1_1),
                0x20, 0x02, 0x01, 0x04);
        // A 5.0 reason code is mapped to the nearest 3.1.1 return code.
        assertBytes(PacketEncoder.encode(new ConnAck(false, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, Properties.EMPTY), V3_1_1),
                0x20, 0x02, 0x00, 0x01);
        // 3.1 has no Session Present flag.
        assertBytes(PacketEncoder.encode(new ConnAck(true, 0, Properties.EMPTY), V3_1), 0x20, 0x02, 0x00, 0x00);
        assertBytes(PacketEncoder.encode(new ConnAck(true, 0x86, Properties.EMPTY), V5), 0x20, 0x03, 0x01, 0x86, 0x00);
    }

    @Test
    void v3SubAckWritesReturnCodes() {
        SubAck a = new SubAck(3, Properties.EMPTY, new int[]{0, 1, 2, 0x87});
        assertBytes(PacketEncoder.encode(a, V3_1_1), 0x90, 0x06, 0x00, 0x03, 0x00, 0x01, 0x02, 0x80);
        assertBytes(PacketEncoder.encode(a, V5), 0x90, 0x07, 0x00, 0x03, 0x00, 0x00, 0x01, 0x02, 0x87);
    }

    @Test
    void v3SubscribeWritesOnlyTheQos() {
        Subscribe s = new Subscribe(1, Properties.EMPTY, List.of(new Subscribe.Request("a", 1, true, true, 2)));
        assertBytes(PacketEncoder.encode(s, V3_1_1), 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01);
        assertBytes(PacketEncoder.encode(s, V5), 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x2D);
    }

    @Test
    void connectCarriesProtocolNameAndLevel() {
        Connect c = new Connect(V3_1, "c", true, 10, Properties.EMPTY, null, null, null);
        assertBytes(PacketEncoder.encode(c, V3_1), 0x10, 0x0F, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02,
                0x00, 0x0A, 0x00, 0x01, 'c');
    }

    @Test
    void publishWritesRemainingLengthAsVariableByteInteger() {
        Publish p = new Publish(0, false, false, "t", 0, Properties.EMPTY, new byte[200]);
        byte[] b = PacketEncoder.encode(p, V3_1_1).getBytes();
        // 3 + 200 = 203 = 0xCB 0x01
        assertArrayEquals(new byte[]{0x30, (byte) 0xCB, 0x01, 0x00, 0x01, 't'}, java.util.Arrays.copyOf(b, 6));
    }

    @Test
    void propertiesNotAllowedForThePacketAreNotWritten() {
        Properties p = new Properties();
        p.topicAlias = 5; // PUBLISH only
        assertBytes(PacketEncoder.encode(new Ack(PacketType.PUBACK, 1, 0, p), V5), 0x40, 0x02, 0x00, 0x01);
    }

    @Test
    void authIsRejectedForV3() {
        assertThrows(IllegalArgumentException.class, () -> PacketEncoder.encode(new Auth(0, Properties.EMPTY), V3_1_1));
    }

    @Test
    void unpairedSurrogateIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> PacketEncoder.encode(
                new Publish(0, false, false, "a\uD800", 0, Properties.EMPTY, new byte[0]), V5));
    }
}
