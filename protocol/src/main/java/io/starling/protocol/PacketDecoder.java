package io.starling.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Turns the bytes a client sends into {@link Packet}s, enforcing the format rules of MQTT 3.1,
 * 3.1.1 and 5.0. One instance per connection; not thread-safe.
 *
 * <p>Bytes are taken from each fed buffer directly when a whole packet is there; only a packet
 * that spans feeds is gathered, into a buffer of exactly its size, and only after its fixed header
 * has shown that it fits the server's maximum packet size. A PUBLISH payload is copied once, into
 * the {@code byte[]} of the {@link Publish}.
 *
 * <p>Rule ids name the normative statement broken, from the 5.0 specification, or from 3.1.1
 * when the connection speaks 3.1/3.1.1 and that specification numbers the rule differently. Where
 * no statement is numbered, the rule is the 5.0 section (for example "2.2.2.2").
 *
 * <p>What the decoder leaves to the broker: the order of packets after the first (a second CONNECT,
 * a PUBLISH before CONNACK), direction (it decodes CONNACK, SUBACK, UNSUBACK and PINGRESP too, which
 * a server must not receive, and a Subscription Identifier in a client's PUBLISH [MQTT-3.3.4-6]),
 * Topic Alias ranges and mapping, topic filter syntax, client identifier rules, will topic content,
 * and payload validation for Payload Format Indicator 1.
 */
public final class PacketDecoder {
    private final int maxPacketSize;
    private final WireReader reader = new WireReader();

    private MqttVersion version;
    private boolean failed;

    // Fixed header in progress: -1 when no packet has started.
    private int header = -1;
    private int remainingLength;
    private int lengthBytes;
    /** Bytes of a packet that spans feeds, or null. Capacity: exactly the Remaining Length. */
    private Buffer partial;

    /** @param maxPacketSize the server's Maximum Packet Size: the largest whole packet, fixed header included */
    public PacketDecoder(int maxPacketSize) {
        if (maxPacketSize < 2) {
            throw new IllegalArgumentException("maximum packet size must be at least 2: " + maxPacketSize);
        }
        this.maxPacketSize = maxPacketSize;
    }

    /**
     * The version of the first CONNECT: null until its Protocol Name and Level were read. It is set
     * before the rest of that CONNECT is decoded, so that a violation later in the CONNECT can be
     * answered with a CONNACK of the client's version.
     */
    public MqttVersion version() {
        return version;
    }

    /**
     * Appends bytes and decodes every complete packet, in order, passing each to out. Throws at the
     * first violation; after a throw the decoder is unusable.
     *
     * @throws IllegalStateException when called after a violation
     */
    public void feed(Buffer data, Consumer<Packet> out) throws ProtocolViolation {
        if (failed) {
            throw new IllegalStateException("the decoder failed before; the connection must be closed");
        }
        try {
            decodeAll(data, out);
        } catch (ProtocolViolation | RuntimeException | Error e) {
            failed = true;
            partial = null;
            throw e;
        } finally {
            reader.release();
        }
    }

    private void decodeAll(Buffer data, Consumer<Packet> out) throws ProtocolViolation {
        int pos = 0;
        int len = data.length();
        while (pos < len) {
            if (partial != null) {
                int n = Math.min(remainingLength - partial.length(), len - pos);
                partial.appendBuffer(data, pos, n);
                pos += n;
                if (partial.length() == remainingLength) {
                    Buffer body = partial;
                    partial = null;
                    emit(body, 0, remainingLength, out);
                }
            } else if (header < 0) {
                header = data.getUnsignedByte(pos++);
                checkFixedHeader(header);
                remainingLength = 0;
                lengthBytes = 0;
            } else {
                int b = data.getUnsignedByte(pos++);
                remainingLength |= (b & 0x7F) << (7 * lengthBytes);
                lengthBytes++;
                if ((b & 0x80) != 0) {
                    if (lengthBytes == 4) {
                        // [MQTT-1.5.5-1] / 2.1.4: the Remaining Length is at most four bytes.
                        throw ProtocolViolation.malformed("MQTT-1.5.5-1", "the Remaining Length has more than 4 bytes");
                    }
                    continue;
                }
                if (b == 0 && lengthBytes > 1) {
                    // [MQTT-1.5.5-1] the minimum number of bytes: a last byte of 0 adds nothing.
                    throw ProtocolViolation.malformed("MQTT-1.5.5-1", "the Remaining Length is not in its shortest encoding");
                }
                long total = 1L + lengthBytes + remainingLength;
                if (total > maxPacketSize) {
                    // [MQTT-3.2.2-15] The Client MUST NOT send packets exceeding Maximum Packet Size to the
                    // Server (3.2.2.3.6): DISCONNECT 0x95. Checked before a byte of the body is kept.
                    throw new ProtocolViolation(ReasonCode.PACKET_TOO_LARGE, "MQTT-3.2.2-15",
                            "a packet of " + total + " bytes exceeds the maximum packet size of " + maxPacketSize);
                }
                if (len - pos >= remainingLength) {
                    int start = pos;
                    pos += remainingLength;
                    emit(data, start, pos, out);
                } else {
                    partial = Buffer.buffer(remainingLength);
                }
            }
        }
    }

    private void emit(Buffer buf, int start, int end, Consumer<Packet> out) throws ProtocolViolation {
        int h = header;
        header = -1;
        reader.reset(buf, start, end);
        Packet packet = decodePacket(h);
        out.accept(packet);
    }

    /** Checks the first byte of a packet, before any of it is buffered (spec 2.1.2, 2.1.3). */
    private void checkFixedHeader(int h) throws ProtocolViolation {
        int typeValue = h >>> 4;
        int flags = h & 0x0F;
        PacketType type = PacketType.of(typeValue);
        if (type == null) {
            // 2.1.2: control packet type 0 is reserved, forbidden.
            throw ProtocolViolation.malformed("2.1.2", "reserved control packet type 0");
        }
        if (version == null && type != PacketType.CONNECT) {
            // [MQTT-3.1.0-1] The first packet sent from the Client to the Server MUST be a CONNECT packet.
            throw ProtocolViolation.protocolError("MQTT-3.1.0-1", "the first packet is " + type + ", not CONNECT");
        }
        if (type == PacketType.AUTH && version != null && !version.isV5()) {
            // 3.1.1 section 2.2.1: type 15 is reserved, forbidden.
            throw ProtocolViolation.malformed("2.2.1", "AUTH does not exist before MQTT 5.0 (reserved type 15)");
        }
        switch (type) {
            case PUBLISH -> {
                int qos = (flags >> 1) & 0x03;
                if (qos == 3) {
                    // [MQTT-3.3.1-4] A PUBLISH Packet MUST NOT have both QoS bits set to 1.
                    throw ProtocolViolation.malformed("MQTT-3.3.1-4", "PUBLISH with QoS 3");
                }
                if (qos == 0 && (flags & 0x08) != 0) {
                    // [MQTT-3.3.1-2] The DUP flag MUST be set to 0 for all QoS 0 messages.
                    throw ProtocolViolation.protocolError("MQTT-3.3.1-2", "PUBLISH with QoS 0 and DUP set");
                }
            }
            case PUBREL -> requireFlags(type, flags, 0b0010, "MQTT-3.6.1-1");
            case SUBSCRIBE -> requireFlags(type, flags, 0b0010, "MQTT-3.8.1-1");
            case UNSUBSCRIBE -> requireFlags(type, flags, 0b0010, "MQTT-3.10.1-1");
            // [MQTT-2.1.3-1] (3.1.1: [MQTT-2.2.2-1], [MQTT-2.2.2-2]) reserved flag bits MUST be set to the value listed.
            default -> requireFlags(type, flags, 0, isV3() ? "MQTT-2.2.2-2" : "MQTT-2.1.3-1");
        }
    }

    private static void requireFlags(PacketType type, int flags, int expected, String rule) throws ProtocolViolation {
        if (flags != expected) {
            throw ProtocolViolation.malformed(rule, String.format(
                    "reserved flag bits of %s are 0x%X, must be 0x%X", type, flags, expected));
        }
    }

    private boolean isV3() {
        return version != null && !version.isV5();
    }

    private boolean isV5() {
        return version != null && version.isV5();
    }

    private Packet decodePacket(int h) throws ProtocolViolation {
        PacketType type = PacketType.of(h >>> 4);
        WireReader r = reader;
        return switch (type) {
            case CONNECT -> decodeConnect(r);
            case CONNACK -> decodeConnAck(r);
            case PUBLISH -> decodePublish(r, h & 0x0F);
            case PUBACK, PUBREC, PUBREL, PUBCOMP -> decodeAck(r, type);
            case SUBSCRIBE -> decodeSubscribe(r);
            case SUBACK -> decodeSubAck(r);
            case UNSUBSCRIBE -> decodeUnsubscribe(r);
            case UNSUBACK -> decodeUnsubAck(r);
            case PINGREQ -> {
                r.expectEnd("PINGREQ");
                yield PingReq.INSTANCE;
            }
            case PINGRESP -> {
                r.expectEnd("PINGRESP");
                yield PingResp.INSTANCE;
            }
            case DISCONNECT -> decodeDisconnect(r);
            case AUTH -> decodeAuth(r);
        };
    }

    // ------------------------------------------------------------------------------------------ CONNECT

    private Connect decodeConnect(WireReader r) throws ProtocolViolation {
        String name = r.readString("protocol name");
        int level = r.readByte("protocol level");
        if (!"MQTT".equals(name) && !"MQIsdp".equals(name)) {
            // [MQTT-3.1.2-1] An incorrect Protocol Name: the server does not process the CONNECT further.
            throw new ProtocolViolation(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-1",
                    "unknown protocol name '" + name + "'");
        }
        MqttVersion v = MqttVersion.ofLevel(level);
        if (v == null) {
            // [MQTT-3.1.2-2] Unsupported protocol level: CONNACK 0x84 (3.1.1: return code 0x01).
            throw new ProtocolViolation(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-2",
                    "unsupported protocol level " + level);
        }
        if (!v.protocolName().equals(name)) {
            throw new ProtocolViolation(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-1",
                    "protocol name '" + name + "' does not go with protocol level " + level);
        }
        if (version == null) {
            version = v; // a second CONNECT is the broker's business; it does not switch the decoder
        }
        boolean v5 = v.isV5();

        int flags = r.readByte("connect flags");
        if ((flags & 0x01) != 0) {
            // [MQTT-3.1.2-3] The Server MUST validate that the reserved flag in the CONNECT packet is set to 0.
            throw ProtocolViolation.malformed("MQTT-3.1.2-3", "the reserved CONNECT flag is set");
        }
        boolean cleanStart = (flags & 0x02) != 0;
        boolean willFlag = (flags & 0x04) != 0;
        int willQos = (flags >> 3) & 0x03;
        boolean willRetain = (flags & 0x20) != 0;
        boolean passwordFlag = (flags & 0x40) != 0;
        boolean userNameFlag = (flags & 0x80) != 0;
        if (!willFlag) {
            if (willQos != 0) {
                // 5.0 [MQTT-3.1.2-11], 3.1.1 [MQTT-3.1.2-13]: Will Flag 0 means Will QoS 0.
                throw ProtocolViolation.malformed(v5 ? "MQTT-3.1.2-11" : "MQTT-3.1.2-13",
                        "Will QoS " + willQos + " without the Will Flag");
            }
            if (willRetain) {
                // 5.0 [MQTT-3.1.2-13], 3.1.1 [MQTT-3.1.2-15]: Will Flag 0 means Will Retain 0.
                throw ProtocolViolation.malformed(v5 ? "MQTT-3.1.2-13" : "MQTT-3.1.2-15",
                        "Will Retain without the Will Flag");
            }
        } else if (willQos == 3) {
            // 5.0 [MQTT-3.1.2-12], 3.1.1 [MQTT-3.1.2-14]: Will QoS 3 is a Malformed Packet.
            throw ProtocolViolation.malformed(v5 ? "MQTT-3.1.2-12" : "MQTT-3.1.2-14", "Will QoS 3");
        }
        if (!v5 && passwordFlag && !userNameFlag) {
            // 3.1.1 [MQTT-3.1.2-22] If the User Name Flag is set to 0, the Password Flag MUST be set to 0.
            throw ProtocolViolation.malformed("MQTT-3.1.2-22", "a password without a user name");
        }
        int keepAlive = r.readShort("keep alive");
        Properties properties = Properties.EMPTY;
        if (v5) {
            properties = PropertiesCodec.decode(r, PacketType.CONNECT.value());
            if (properties.authenticationData != null && properties.authenticationMethod == null) {
                // 3.1.2.11.10: "It is a Protocol Error to include Authentication Data if there is no Authentication Method."
                throw ProtocolViolation.protocolError("3.1.2.11.10", "Authentication Data without Authentication Method");
            }
        }
        String clientId = r.readString("client identifier");
        Connect.Will will = null;
        if (willFlag) {
            Properties willProperties = v5 ? PropertiesCodec.decode(r, PropertiesCodec.WILL) : Properties.EMPTY;
            String willTopic = r.readString("will topic");
            byte[] willPayload = r.readBinary("will payload");
            will = new Connect.Will(willTopic, willPayload, willQos, willRetain, willProperties);
        }
        String userName = userNameFlag ? r.readString("user name") : null;
        byte[] password = passwordFlag ? r.readBinary("password") : null;
        r.expectEnd("CONNECT");
        return new Connect(v, clientId, cleanStart, keepAlive, properties, will, userName, password);
    }

    private ConnAck decodeConnAck(WireReader r) throws ProtocolViolation {
        int flags = r.readByte("connect acknowledge flags");
        if ((flags & 0xFE) != 0) {
            // [MQTT-3.2.2-1] Bits 7-1 of the Connect Acknowledge Flags are reserved and MUST be set to 0.
            throw ProtocolViolation.malformed("MQTT-3.2.2-1", "reserved CONNACK flag bits are set");
        }
        int code = r.readByte("connect reason code");
        Properties properties = isV5() ? PropertiesCodec.decode(r, PacketType.CONNACK.value()) : Properties.EMPTY;
        r.expectEnd("CONNACK");
        return new ConnAck((flags & 0x01) != 0, code, properties);
    }

    // ------------------------------------------------------------------------------------------ PUBLISH

    private Publish decodePublish(WireReader r, int flags) throws ProtocolViolation {
        int qos = (flags >> 1) & 0x03;
        String topic = r.readString("topic name");
        int packetId = 0;
        if (qos > 0) {
            packetId = readPacketId(r, PacketType.PUBLISH);
        }
        boolean v5 = isV5();
        Properties properties = v5 ? PropertiesCodec.decode(r, PacketType.PUBLISH.value()) : Properties.EMPTY;
        if (topic.isEmpty()) {
            if (!v5 || properties.topicAlias == null) {
                // [MQTT-4.7.3-1] Topic Names MUST be at least one character long; 5.0 3.3.2.1: a zero
                // length Topic Name without a Topic Alias is a Protocol Error.
                throw ProtocolViolation.protocolError("MQTT-4.7.3-1", "empty topic name"
                        + (v5 ? " without a Topic Alias" : ""));
            }
        } else if (topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0) {
            // [MQTT-3.3.2-2] The Topic Name in the PUBLISH packet MUST NOT contain wildcard characters.
            throw new ProtocolViolation(ReasonCode.TOPIC_NAME_INVALID, "MQTT-3.3.2-2",
                    "wildcard in the topic name '" + topic + "'");
        }
        byte[] payload = r.readBytes(r.remaining(), "payload");
        return new Publish(qos, (flags & 0x08) != 0, (flags & 0x01) != 0, topic, packetId, properties, payload);
    }

    private int readPacketId(WireReader r, PacketType type) throws ProtocolViolation {
        int id = r.readShort("packet identifier");
        if (id == 0) {
            // 5.0 [MQTT-2.2.1-3], 3.1.1 [MQTT-2.3.1-1]: packet identifiers are non-zero.
            throw ProtocolViolation.protocolError(isV3() ? "MQTT-2.3.1-1" : "MQTT-2.2.1-3",
                    type + " with packet identifier 0");
        }
        return id;
    }

    private Ack decodeAck(WireReader r, PacketType type) throws ProtocolViolation {
        int packetId = readPacketId(r, type);
        int code = ReasonCode.SUCCESS;
        Properties properties = Properties.EMPTY;
        // 5.0 3.4.2.1 and kin: Remaining Length 2 means Success and no properties; 3 means no properties.
        if (isV5() && r.hasRemaining()) {
            code = r.readByte("reason code");
            checkAckReason(type, code);
            if (r.hasRemaining()) {
                properties = PropertiesCodec.decode(r, type.value());
            }
        }
        r.expectEnd(type.name());
        return new Ack(type, packetId, code, properties);
    }

    private static void checkAckReason(PacketType type, int code) throws ProtocolViolation {
        boolean valid;
        String rule;
        if (type == PacketType.PUBACK || type == PacketType.PUBREC) {
            valid = switch (code) {
                case 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 -> true;
                default -> false;
            };
            rule = type == PacketType.PUBACK ? "MQTT-3.4.2-1" : "MQTT-3.5.2-1";
        } else {
            valid = code == 0x00 || code == 0x92;
            rule = type == PacketType.PUBREL ? "MQTT-3.6.2-1" : "MQTT-3.7.2-1";
        }
        if (!valid) {
            // The sender MUST use one of the <type> Reason Codes.
            throw ProtocolViolation.protocolError(rule, String.format("reason code 0x%02X is not a %s reason code", code, type));
        }
    }

    // ------------------------------------------------------------------------------------------ SUBSCRIBE

    private Subscribe decodeSubscribe(WireReader r) throws ProtocolViolation {
        int packetId = readPacketId(r, PacketType.SUBSCRIBE);
        boolean v5 = isV5();
        Properties properties = v5 ? PropertiesCodec.decode(r, PacketType.SUBSCRIBE.value()) : Properties.EMPTY;
        List<Subscribe.Request> requests = new ArrayList<>(2);
        while (r.hasRemaining()) {
            String filter = r.readString("topic filter");
            int options = r.readByte("subscription options");
            int qos = options & 0x03;
            if (!v5) {
                if ((options & 0xFC) != 0 || qos == 3) {
                    // 3.1.1 [MQTT-3-8.3-4] (sic): reserved bits non-zero or QoS not 0, 1 or 2 is malformed.
                    throw ProtocolViolation.malformed("MQTT-3-8.3-4",
                            String.format("requested QoS byte 0x%02X for '%s'", options, filter));
                }
                requests.add(new Subscribe.Request(filter, qos, false, false, 0));
                continue;
            }
            if ((options & 0xC0) != 0) {
                // [MQTT-3.8.3-5] The Server MUST treat a SUBSCRIBE packet as malformed if any of Reserved bits are non-zero.
                throw ProtocolViolation.malformed("MQTT-3.8.3-5",
                        String.format("reserved subscription option bits set (0x%02X) for '%s'", options, filter));
            }
            if (qos == 3) {
                // 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3."
                throw ProtocolViolation.protocolError("3.8.3.1", "Maximum QoS 3 for '" + filter + "'");
            }
            int retainHandling = (options >> 4) & 0x03;
            if (retainHandling == 3) {
                // 3.8.3.1: "It is a Protocol Error to send a Retain Handling value of 3."
                throw ProtocolViolation.protocolError("3.8.3.1", "Retain Handling 3 for '" + filter + "'");
            }
            boolean noLocal = (options & 0x04) != 0;
            if (noLocal && filter.startsWith("$share/")) {
                // [MQTT-3.8.3-4] It is a Protocol Error to set the No Local bit to 1 on a Shared Subscription.
                throw ProtocolViolation.protocolError("MQTT-3.8.3-4", "No Local on the shared subscription '" + filter + "'");
            }
            requests.add(new Subscribe.Request(filter, qos, noLocal, (options & 0x08) != 0, retainHandling));
        }
        if (requests.isEmpty()) {
            // 5.0 [MQTT-3.8.3-2], 3.1.1 [MQTT-3.8.3-3]: at least one Topic Filter; none is a Protocol Error.
            throw ProtocolViolation.protocolError(v5 ? "MQTT-3.8.3-2" : "MQTT-3.8.3-3", "SUBSCRIBE without topic filters");
        }
        return new Subscribe(packetId, properties, requests);
    }

    private SubAck decodeSubAck(WireReader r) throws ProtocolViolation {
        int packetId = readPacketId(r, PacketType.SUBACK);
        Properties properties = isV5() ? PropertiesCodec.decode(r, PacketType.SUBACK.value()) : Properties.EMPTY;
        int[] codes = readCodes(r, "SUBACK", "3.9.3");
        return new SubAck(packetId, properties, codes);
    }

    private static int[] readCodes(WireReader r, String what, String rule) throws ProtocolViolation {
        int[] codes = new int[r.remaining()];
        if (codes.length == 0) {
            // The payload holds one reason code per topic filter of the request, so at least one.
            throw ProtocolViolation.malformed(rule, what + " without reason codes");
        }
        for (int i = 0; i < codes.length; i++) {
            codes[i] = r.readByte("reason code");
        }
        return codes;
    }

    private Unsubscribe decodeUnsubscribe(WireReader r) throws ProtocolViolation {
        int packetId = readPacketId(r, PacketType.UNSUBSCRIBE);
        Properties properties = isV5() ? PropertiesCodec.decode(r, PacketType.UNSUBSCRIBE.value()) : Properties.EMPTY;
        List<String> filters = new ArrayList<>(2);
        while (r.hasRemaining()) {
            filters.add(r.readString("topic filter"));
        }
        if (filters.isEmpty()) {
            // [MQTT-3.10.3-2] The Payload of an UNSUBSCRIBE packet MUST contain at least one Topic Filter.
            throw ProtocolViolation.protocolError("MQTT-3.10.3-2", "UNSUBSCRIBE without topic filters");
        }
        return new Unsubscribe(packetId, properties, filters);
    }

    private static final int[] NO_CODES = new int[0];

    private UnsubAck decodeUnsubAck(WireReader r) throws ProtocolViolation {
        int packetId = readPacketId(r, PacketType.UNSUBACK);
        if (!isV5()) {
            r.expectEnd("UNSUBACK");
            return new UnsubAck(packetId, Properties.EMPTY, NO_CODES);
        }
        Properties properties = PropertiesCodec.decode(r, PacketType.UNSUBACK.value());
        return new UnsubAck(packetId, properties, readCodes(r, "UNSUBACK", "3.11.3"));
    }

    // ------------------------------------------------------------------------------------------ DISCONNECT, AUTH

    private Disconnect decodeDisconnect(WireReader r) throws ProtocolViolation {
        int code = ReasonCode.NORMAL_DISCONNECTION;
        Properties properties = Properties.EMPTY;
        // 5.0 3.14.2.1: Remaining Length 0 means Normal disconnection; 1 means no properties.
        if (isV5() && r.hasRemaining()) {
            code = r.readByte("reason code");
            if (!ReasonCode.isDisconnectCode(code)) {
                // [MQTT-3.14.2-1] The sender MUST use one of the DISCONNECT Reason Code values.
                throw ProtocolViolation.protocolError("MQTT-3.14.2-1",
                        String.format("reason code 0x%02X is not a DISCONNECT reason code", code));
            }
            if (r.hasRemaining()) {
                properties = PropertiesCodec.decode(r, PacketType.DISCONNECT.value());
            }
        }
        r.expectEnd("DISCONNECT");
        return new Disconnect(code, properties);
    }

    private Auth decodeAuth(WireReader r) throws ProtocolViolation {
        int code = ReasonCode.SUCCESS;
        Properties properties = Properties.EMPTY;
        // 5.0 3.15.2.1: Remaining Length 0 means Success and no properties.
        if (r.hasRemaining()) {
            code = r.readByte("reason code");
            if (code != ReasonCode.SUCCESS && code != ReasonCode.CONTINUE_AUTHENTICATION
                    && code != ReasonCode.REAUTHENTICATE) {
                // [MQTT-3.15.2-1] The sender of the AUTH Packet MUST use one of the Authenticate Reason Codes.
                throw ProtocolViolation.protocolError("MQTT-3.15.2-1",
                        String.format("reason code 0x%02X is not an AUTH reason code", code));
            }
            if (r.hasRemaining()) {
                properties = PropertiesCodec.decode(r, PacketType.AUTH.value());
            }
        }
        r.expectEnd("AUTH");
        return new Auth(code, properties);
    }
}
