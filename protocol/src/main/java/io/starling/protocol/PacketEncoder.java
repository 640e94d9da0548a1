package io.starling.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.List;
import java.util.Objects;

/**
 * Writes {@link Packet}s in the wire format of a protocol version. Stateless. Each packet is sized
 * first and written into a buffer of exactly that size, so a PUBLISH payload is copied once.
 *
 * <p>3.1/3.1.1 forms carry no properties and no reason codes where those versions have none
 * (acknowledgements, UNSUBACK, DISCONNECT). For 5.0 the short forms are used where the
 * specification allows them: an acknowledgement with reason 0 and no properties has Remaining Length
 * 2, a DISCONNECT or AUTH with reason 0 and no properties has Remaining Length 0. Properties that the
 * packet type does not admit (table 2.2.2.2) are not written.
 *
 * <p>The encoder does not police content (it will write a password without a user name, or a
 * U+0000 in a string, which tests use to build bad packets); it throws IllegalArgumentException only
 * for what cannot be written: an unpaired surrogate in a string, a packet above 268,435,455 bytes of
 * Remaining Length, AUTH for 3.1/3.1.1.
 */
public final class PacketEncoder {
    private PacketEncoder() {
    }

    public static Buffer encode(Packet packet, MqttVersion version) {
        Objects.requireNonNull(packet, "packet");
        Objects.requireNonNull(version, "version");
        return switch (packet.type()) {
            case CONNECT -> connect((Connect) packet, version);
            case CONNACK -> connAck((ConnAck) packet, version);
            case PUBLISH -> publish((Publish) packet, version);
            case PUBACK, PUBREC, PUBREL, PUBCOMP -> ack((Ack) packet, version);
            case SUBSCRIBE -> subscribe((Subscribe) packet, version);
            case SUBACK -> subAck((SubAck) packet, version);
            case UNSUBSCRIBE -> unsubscribe((Unsubscribe) packet, version);
            case UNSUBACK -> unsubAck((UnsubAck) packet, version);
            case PINGREQ -> fixed(0xC0);
            case PINGRESP -> fixed(0xD0);
            case DISCONNECT -> reasonAndProperties(PacketType.DISCONNECT, ((Disconnect) packet).reasonCode(),
                    ((Disconnect) packet).properties(), version);
            case AUTH -> {
                if (!version.isV5()) {
                    throw new IllegalArgumentException("AUTH does not exist in " + version);
                }
                yield reasonAndProperties(PacketType.AUTH, ((Auth) packet).reasonCode(), ((Auth) packet).properties(), version);
            }
        };
    }

    /** A buffer of exactly the packet's size, with the fixed header written (spec 2.1). */
    private static Buffer start(int firstByte, int remainingLength) {
        Buffer out = Buffer.buffer(1 + PropertiesCodec.vbiLength(remainingLength) + remainingLength);
        out.appendByte((byte) firstByte);
        PropertiesCodec.writeVbi(out, remainingLength);
        return out;
    }

    private static Buffer fixed(int firstByte) {
        return Buffer.buffer(2).appendByte((byte) firstByte).appendByte((byte) 0);
    }

    private static int propertiesLength(MqttVersion version, Properties properties, PacketType type) {
        return version.isV5() ? PropertiesCodec.length(properties, type.value()) : 0;
    }

    /** Property Length plus properties, for 5.0; nothing otherwise. */
    private static int withLength(MqttVersion version, int propertiesLength) {
        return version.isV5() ? PropertiesCodec.vbiLength(propertiesLength) + propertiesLength : 0;
    }

    private static void writeProperties(Buffer out, MqttVersion version, Properties p, int context, int length) {
        if (version.isV5()) {
            PropertiesCodec.encode(out, p, context, length);
        }
    }

    private static void writeBytes(Buffer out, byte[] bytes) {
        out.appendUnsignedShort(bytes.length).appendBytes(bytes);
    }

    private static byte[] binary(byte[] data) {
        if (data.length > 65_535) {
            throw new IllegalArgumentException("binary data longer than 65,535 bytes");
        }
        return data;
    }

    private static byte[] utf8(String s) {
        byte[] b = Utf8.encode(s);
        if (b.length > 65_535) {
            throw new IllegalArgumentException("string longer than 65,535 bytes");
        }
        return b;
    }

    // ------------------------------------------------------------------------------------------ CONNECT

    private static Buffer connect(Connect c, MqttVersion version) {
        if (c.version() != null && c.version() != version) {
            throw new IllegalArgumentException("CONNECT of " + c.version() + " encoded as " + version);
        }
        byte[] name = utf8(version.protocolName());
        byte[] clientId = utf8(c.clientId());
        int connectProps = propertiesLength(version, c.properties(), PacketType.CONNECT);
        int flags = c.cleanStart() ? 0x02 : 0;
        int length = 2 + name.length + 1 + 1 + 2 + withLength(version, connectProps) + 2 + clientId.length;

        Connect.Will will = c.will();
        byte[] willTopic = null;
        byte[] willPayload = null;
        int willProps = 0;
        if (will != null) {
            flags |= 0x04 | (will.qos() << 3) | (will.retain() ? 0x20 : 0);
            willTopic = utf8(will.topic());
            willPayload = binary(will.payload());
            willProps = version.isV5() ? PropertiesCodec.length(will.properties(), PropertiesCodec.WILL) : 0;
            length += withLength(version, willProps) + 2 + willTopic.length + 2 + willPayload.length;
        }
        byte[] userName = null;
        if (c.username() != null) {
            flags |= 0x80;
            userName = utf8(c.username());
            length += 2 + userName.length;
        }
        if (c.password() != null) {
            flags |= 0x40;
            length += 2 + binary(c.password()).length;
        }

        Buffer out = start(0x10, length);
        writeBytes(out, name);
        out.appendByte((byte) version.level()).appendByte((byte) flags).appendUnsignedShort(c.keepAliveSeconds());
        writeProperties(out, version, c.properties(), PacketType.CONNECT.value(), connectProps);
        writeBytes(out, clientId);
        if (will != null) {
            writeProperties(out, version, will.properties(), PropertiesCodec.WILL, willProps);
            writeBytes(out, willTopic);
            writeBytes(out, willPayload);
        }
        if (userName != null) {
            writeBytes(out, userName);
        }
        if (c.password() != null) {
            writeBytes(out, c.password());
        }
        return out;
    }

    private static Buffer connAck(ConnAck a, MqttVersion version) {
        int code = a.reasonCode();
        if (!version.isV5() && code > ReasonCode.V3_NOT_AUTHORIZED) {
            code = ReasonCode.toV3ConnAck(code); // a 5.0 reason code given for a 3.1.1 client
        }
        // 3.1 has no Session Present flag: the byte is reserved.
        int flags = a.sessionPresent() && version != MqttVersion.V3_1 ? 0x01 : 0x00;
        int props = propertiesLength(version, a.properties(), PacketType.CONNACK);
        Buffer out = start(0x20, 2 + withLength(version, props));
        out.appendByte((byte) flags).appendByte((byte) code);
        writeProperties(out, version, a.properties(), PacketType.CONNACK.value(), props);
        return out;
    }

    // ------------------------------------------------------------------------------------------ PUBLISH

    private static Buffer publish(Publish p, MqttVersion version) {
        byte[] topic = utf8(p.topic());
        int props = propertiesLength(version, p.properties(), PacketType.PUBLISH);
        int length = 2 + topic.length + (p.qos() > 0 ? 2 : 0) + withLength(version, props) + p.payload().length;
        int first = 0x30 | (p.dup() ? 0x08 : 0) | (p.qos() << 1) | (p.retain() ? 0x01 : 0);
        Buffer out = start(first, length);
        writeBytes(out, topic);
        if (p.qos() > 0) {
            out.appendUnsignedShort(p.packetId());
        }
        writeProperties(out, version, p.properties(), PacketType.PUBLISH.value(), props);
        out.appendBytes(p.payload());
        return out;
    }

    private static Buffer ack(Ack a, MqttVersion version) {
        PacketType type = a.type();
        int first = (type.value() << 4) | (type == PacketType.PUBREL ? 0x02 : 0);
        if (!version.isV5()) {
            return start(first, 2).appendUnsignedShort(a.packetId());
        }
        int props = PropertiesCodec.length(a.properties(), type.value());
        if (props == 0) {
            if (a.reasonCode() == ReasonCode.SUCCESS) {
                return start(first, 2).appendUnsignedShort(a.packetId());
            }
            return start(first, 3).appendUnsignedShort(a.packetId()).appendByte((byte) a.reasonCode());
        }
        Buffer out = start(first, 3 + withLength(version, props));
        out.appendUnsignedShort(a.packetId()).appendByte((byte) a.reasonCode());
        PropertiesCodec.encode(out, a.properties(), type.value(), props);
        return out;
    }

    // ------------------------------------------------------------------------------------------ SUBSCRIBE

    private static Buffer subscribe(Subscribe s, MqttVersion version) {
        List<Subscribe.Request> requests = s.requests();
        byte[][] filters = new byte[requests.size()][];
        int props = propertiesLength(version, s.properties(), PacketType.SUBSCRIBE);
        int length = 2 + withLength(version, props);
        for (int i = 0; i < filters.length; i++) {
            filters[i] = utf8(requests.get(i).filter());
            length += 2 + filters[i].length + 1;
        }
        Buffer out = start(0x82, length);
        out.appendUnsignedShort(s.packetId());
        writeProperties(out, version, s.properties(), PacketType.SUBSCRIBE.value(), props);
        for (int i = 0; i < filters.length; i++) {
            Subscribe.Request r = requests.get(i);
            int options = r.qos();
            if (version.isV5()) {
                options |= (r.noLocal() ? 0x04 : 0) | (r.retainAsPublished() ? 0x08 : 0) | (r.retainHandling() << 4);
            }
            writeBytes(out, filters[i]);
            out.appendByte((byte) options);
        }
        return out;
    }

    private static Buffer subAck(SubAck a, MqttVersion version) {
        int[] codes = a.reasonCodes();
        int props = propertiesLength(version, a.properties(), PacketType.SUBACK);
        Buffer out = start(0x90, 2 + withLength(version, props) + codes.length);
        out.appendUnsignedShort(a.packetId());
        writeProperties(out, version, a.properties(), PacketType.SUBACK.value(), props);
        for (int code : codes) {
            // 3.1.1 return codes: 0x00, 0x01, 0x02 granted QoS, 0x80 failure.
            out.appendByte((byte) (!version.isV5() && code >= 0x80 ? 0x80 : code));
        }
        return out;
    }

    private static Buffer unsubscribe(Unsubscribe u, MqttVersion version) {
        List<String> list = u.filters();
        byte[][] filters = new byte[list.size()][];
        int props = propertiesLength(version, u.properties(), PacketType.UNSUBSCRIBE);
        int length = 2 + withLength(version, props);
        for (int i = 0; i < filters.length; i++) {
            filters[i] = utf8(list.get(i));
            length += 2 + filters[i].length;
        }
        Buffer out = start(0xA2, length);
        out.appendUnsignedShort(u.packetId());
        writeProperties(out, version, u.properties(), PacketType.UNSUBSCRIBE.value(), props);
        for (byte[] f : filters) {
            writeBytes(out, f);
        }
        return out;
    }

    private static Buffer unsubAck(UnsubAck a, MqttVersion version) {
        if (!version.isV5()) {
            return start(0xB0, 2).appendUnsignedShort(a.packetId()); // 3.1.1: the packet identifier only
        }
        int[] codes = a.reasonCodes();
        int props = PropertiesCodec.length(a.properties(), PacketType.UNSUBACK.value());
        Buffer out = start(0xB0, 2 + withLength(version, props) + codes.length);
        out.appendUnsignedShort(a.packetId());
        PropertiesCodec.encode(out, a.properties(), PacketType.UNSUBACK.value(), props);
        for (int code : codes) {
            out.appendByte((byte) code);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ DISCONNECT, AUTH

    private static Buffer reasonAndProperties(PacketType type, int code, Properties properties, MqttVersion version) {
        int first = type.value() << 4;
        if (!version.isV5()) {
            return fixed(first); // 3.1.1 DISCONNECT: 0xE0 0x00
        }
        int props = PropertiesCodec.length(properties, type.value());
        if (props == 0) {
            if (code == ReasonCode.SUCCESS) {
                return fixed(first);
            }
            if (type == PacketType.DISCONNECT) {
                // 3.14.2.2.1: "If the Remaining Length is less than 2, a value of 0 is used" for the Property Length.
                return start(first, 1).appendByte((byte) code);
            }
        }
        Buffer out = start(first, 1 + withLength(version, props));
        out.appendByte((byte) code);
        PropertiesCodec.encode(out, properties, type.value(), props);
        return out;
    }
}
