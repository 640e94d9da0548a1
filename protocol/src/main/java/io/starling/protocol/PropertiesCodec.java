package io.starling.protocol;

import io.vertx.core.buffer.Buffer;

import java.util.List;

/**
 * Reads and writes MQTT 5.0 properties (spec 2.2.2). A property set belongs to a context: a packet
 * type, or {@link #WILL} for the Will Properties of CONNECT (3.1.3.2); table 2.2.2.2 says which
 * identifiers each context admits.
 */
final class PropertiesCodec {
    private PropertiesCodec() {
    }

    /** Context of the Will Properties; packet types use their header value (1..15) as context. */
    static final int WILL = 0;

    static final int PAYLOAD_FORMAT_INDICATOR = 0x01;
    static final int MESSAGE_EXPIRY_INTERVAL = 0x02;
    static final int CONTENT_TYPE = 0x03;
    static final int RESPONSE_TOPIC = 0x08;
    static final int CORRELATION_DATA = 0x09;
    static final int SUBSCRIPTION_IDENTIFIER = 0x0B;
    static final int SESSION_EXPIRY_INTERVAL = 0x11;
    static final int ASSIGNED_CLIENT_IDENTIFIER = 0x12;
    static final int SERVER_KEEP_ALIVE = 0x13;
    static final int AUTHENTICATION_METHOD = 0x15;
    static final int AUTHENTICATION_DATA = 0x16;
    static final int REQUEST_PROBLEM_INFORMATION = 0x17;
    static final int WILL_DELAY_INTERVAL = 0x18;
    static final int REQUEST_RESPONSE_INFORMATION = 0x19;
    static final int RESPONSE_INFORMATION = 0x1A;
    static final int SERVER_REFERENCE = 0x1C;
    static final int REASON_STRING = 0x1F;
    static final int RECEIVE_MAXIMUM = 0x21;
    static final int TOPIC_ALIAS_MAXIMUM = 0x22;
    static final int TOPIC_ALIAS = 0x23;
    static final int MAXIMUM_QOS = 0x24;
    static final int RETAIN_AVAILABLE = 0x25;
    static final int USER_PROPERTY = 0x26;
    static final int MAXIMUM_PACKET_SIZE = 0x27;
    static final int WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28;
    static final int SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29;
    static final int SHARED_SUBSCRIPTION_AVAILABLE = 0x2A;

    private static final int CONNECT = bit(PacketType.CONNECT);
    private static final int CONNACK = bit(PacketType.CONNACK);
    private static final int PUBLISH = bit(PacketType.PUBLISH);
    private static final int PUBACK = bit(PacketType.PUBACK);
    private static final int PUBREC = bit(PacketType.PUBREC);
    private static final int PUBREL = bit(PacketType.PUBREL);
    private static final int PUBCOMP = bit(PacketType.PUBCOMP);
    private static final int SUBSCRIBE = bit(PacketType.SUBSCRIBE);
    private static final int SUBACK = bit(PacketType.SUBACK);
    private static final int UNSUBSCRIBE = bit(PacketType.UNSUBSCRIBE);
    private static final int UNSUBACK = bit(PacketType.UNSUBACK);
    private static final int DISCONNECT = bit(PacketType.DISCONNECT);
    private static final int AUTH = bit(PacketType.AUTH);
    private static final int WILL_BIT = 1;

    /** Table 2.2.2.2: for each identifier, a bit per context in which it may appear; 0 = unknown. */
    private static final int[] ALLOWED = new int[SHARED_SUBSCRIPTION_AVAILABLE + 1];

    static {
        int message = PUBLISH | WILL_BIT;
        ALLOWED[PAYLOAD_FORMAT_INDICATOR] = message;
        ALLOWED[MESSAGE_EXPIRY_INTERVAL] = message;
        ALLOWED[CONTENT_TYPE] = message;
        ALLOWED[RESPONSE_TOPIC] = message;
        ALLOWED[CORRELATION_DATA] = message;
        ALLOWED[SUBSCRIPTION_IDENTIFIER] = PUBLISH | SUBSCRIBE;
        ALLOWED[SESSION_EXPIRY_INTERVAL] = CONNECT | CONNACK | DISCONNECT;
        ALLOWED[ASSIGNED_CLIENT_IDENTIFIER] = CONNACK;
        ALLOWED[SERVER_KEEP_ALIVE] = CONNACK;
        ALLOWED[AUTHENTICATION_METHOD] = CONNECT | CONNACK | AUTH;
        ALLOWED[AUTHENTICATION_DATA] = CONNECT | CONNACK | AUTH;
        ALLOWED[REQUEST_PROBLEM_INFORMATION] = CONNECT;
        ALLOWED[WILL_DELAY_INTERVAL] = WILL_BIT;
        ALLOWED[REQUEST_RESPONSE_INFORMATION] = CONNECT;
        ALLOWED[RESPONSE_INFORMATION] = CONNACK;
        ALLOWED[SERVER_REFERENCE] = CONNACK | DISCONNECT;
        ALLOWED[REASON_STRING] = CONNACK | PUBACK | PUBREC | PUBREL | PUBCOMP | SUBACK | UNSUBACK | DISCONNECT | AUTH;
        ALLOWED[RECEIVE_MAXIMUM] = CONNECT | CONNACK;
        ALLOWED[TOPIC_ALIAS_MAXIMUM] = CONNECT | CONNACK;
        ALLOWED[TOPIC_ALIAS] = PUBLISH;
        ALLOWED[MAXIMUM_QOS] = CONNACK;
        ALLOWED[RETAIN_AVAILABLE] = CONNACK;
        ALLOWED[USER_PROPERTY] = CONNECT | CONNACK | PUBLISH | WILL_BIT | PUBACK | PUBREC | PUBREL | PUBCOMP
                | SUBSCRIBE | SUBACK | UNSUBSCRIBE | UNSUBACK | DISCONNECT | AUTH;
        ALLOWED[MAXIMUM_PACKET_SIZE] = CONNECT | CONNACK;
        ALLOWED[WILDCARD_SUBSCRIPTION_AVAILABLE] = CONNACK;
        ALLOWED[SUBSCRIPTION_IDENTIFIER_AVAILABLE] = CONNACK;
        ALLOWED[SHARED_SUBSCRIPTION_AVAILABLE] = CONNACK;
    }

    private static int bit(PacketType type) {
        return 1 << type.value();
    }

    static boolean allowed(int id, int context) {
        return id < ALLOWED.length && (ALLOWED[id] & (1 << context)) != 0;
    }

    private static String contextName(int context) {
        return context == WILL ? "Will Properties" : PacketType.of(context).name();
    }

    // ------------------------------------------------------------------------------------------ decoding

    /**
     * Reads a Property Length and the properties it covers.
     *
     * @return {@link Properties#EMPTY} when the Property Length is 0, else a new instance
     */
    static Properties decode(WireReader r, int context) throws ProtocolViolation {
        int length = r.readVbi("property length");
        if (length == 0) {
            return Properties.EMPTY;
        }
        if (length > r.remaining()) {
            throw ProtocolViolation.malformed(WireReader.LENGTH_RULE,
                    "the property length " + length + " runs past the end of the " + contextName(context));
        }
        int outerLimit = r.limit();
        r.limit(r.position() + length);
        Properties p = new Properties();
        long seen = 0;
        while (r.hasRemaining()) {
            int id = r.readVbi("property identifier");
            if (!allowed(id, context)) {
                // 2.2.2.2: "A Control Packet which contains an Identifier which is not valid for its
                // packet type, or contains a value not of the specified data type, is a Malformed Packet."
                throw ProtocolViolation.malformed("2.2.2.2", id < ALLOWED.length && ALLOWED[id] != 0
                        ? String.format("property 0x%02X is not allowed in %s", id, contextName(context))
                        : String.format("unknown property identifier 0x%02X in %s", id, contextName(context)));
            }
            boolean repeatable = id == USER_PROPERTY
                    || (id == SUBSCRIPTION_IDENTIFIER && context == PacketType.PUBLISH.value());
            if (!repeatable) {
                if ((seen & (1L << id)) != 0) {
                    // Each property section: "It is a Protocol Error to include the <property> more than once."
                    throw ProtocolViolation.protocolError("2.2.2.2",
                            String.format("property 0x%02X appears more than once in %s", id, contextName(context)));
                }
                seen |= 1L << id;
            }
            readValue(r, id, context, p);
        }
        r.limit(outerLimit);
        return p;
    }

    private static void readValue(WireReader r, int id, int context, Properties p) throws ProtocolViolation {
        switch (id) {
            case PAYLOAD_FORMAT_INDICATOR -> p.payloadFormatIndicator =
                    zeroOrOne(r.readByte("payload format indicator"), "3.3.2.3.2", "Payload Format Indicator");
            case MESSAGE_EXPIRY_INTERVAL -> p.messageExpiryInterval = r.readInt("message expiry interval");
            case CONTENT_TYPE -> p.contentType = r.readString("content type");
            case RESPONSE_TOPIC -> p.responseTopic = r.readString("response topic");
            case CORRELATION_DATA -> p.correlationData = r.readBinary("correlation data");
            case SUBSCRIPTION_IDENTIFIER -> {
                int v = r.readVbi("subscription identifier");
                if (v == 0) {
                    // "It is a Protocol Error if the Subscription Identifier has a value of 0."
                    throw ProtocolViolation.protocolError(
                            context == PacketType.SUBSCRIBE.value() ? "3.8.2.1.2" : "3.3.2.3.8",
                            "Subscription Identifier 0");
                }
                p.addSubscriptionIdentifier(v);
            }
            case SESSION_EXPIRY_INTERVAL -> p.sessionExpiryInterval = r.readInt("session expiry interval");
            case ASSIGNED_CLIENT_IDENTIFIER -> p.assignedClientIdentifier = r.readString("assigned client identifier");
            case SERVER_KEEP_ALIVE -> p.serverKeepAlive = r.readShort("server keep alive");
            case AUTHENTICATION_METHOD -> p.authenticationMethod = r.readString("authentication method");
            case AUTHENTICATION_DATA -> p.authenticationData = r.readBinary("authentication data");
            case REQUEST_PROBLEM_INFORMATION -> p.requestProblemInformation =
                    zeroOrOne(r.readByte("request problem information"), "3.1.2.11.7", "Request Problem Information");
            case WILL_DELAY_INTERVAL -> p.willDelayInterval = r.readInt("will delay interval");
            case REQUEST_RESPONSE_INFORMATION -> p.requestResponseInformation =
                    zeroOrOne(r.readByte("request response information"), "3.1.2.11.6", "Request Response Information");
            case RESPONSE_INFORMATION -> p.responseInformation = r.readString("response information");
            case SERVER_REFERENCE -> p.serverReference = r.readString("server reference");
            case REASON_STRING -> p.reasonString = r.readString("reason string");
            case RECEIVE_MAXIMUM -> {
                int v = r.readShort("receive maximum");
                if (v == 0) {
                    // "It is a Protocol Error to include the Receive Maximum value more than once or for it to have the value 0."
                    throw ProtocolViolation.protocolError(
                            context == PacketType.CONNECT.value() ? "3.1.2.11.3" : "3.2.2.3.3", "Receive Maximum 0");
                }
                p.receiveMaximum = v;
            }
            case TOPIC_ALIAS_MAXIMUM -> p.topicAliasMaximum = r.readShort("topic alias maximum");
            case TOPIC_ALIAS -> {
                int v = r.readShort("topic alias");
                if (v == 0) {
                    // [MQTT-3.3.2-8] A sender MUST NOT send a PUBLISH packet containing a Topic Alias which has the value 0.
                    // Spec 3.3.2.3.4: the receiver answers 0x94 Topic Alias invalid.
                    throw new ProtocolViolation(ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-8", "Topic Alias 0");
                }
                p.topicAlias = v;
            }
            case MAXIMUM_QOS -> p.maximumQos = zeroOrOne(r.readByte("maximum qos"), "3.2.2.3.4", "Maximum QoS");
            case RETAIN_AVAILABLE -> p.retainAvailable =
                    zeroOrOne(r.readByte("retain available"), "3.2.2.3.5", "Retain Available");
            case USER_PROPERTY -> {
                String name = r.readString("user property name");
                p.addUserProperty(name, r.readString("user property value"));
            }
            case MAXIMUM_PACKET_SIZE -> {
                long v = r.readInt("maximum packet size");
                if (v == 0) {
                    // "It is a Protocol Error to include the Maximum Packet Size more than once, or for the value to be set to zero."
                    throw ProtocolViolation.protocolError(
                            context == PacketType.CONNECT.value() ? "3.1.2.11.4" : "3.2.2.3.6", "Maximum Packet Size 0");
                }
                p.maximumPacketSize = v;
            }
            case WILDCARD_SUBSCRIPTION_AVAILABLE -> p.wildcardSubscriptionAvailable =
                    zeroOrOne(r.readByte("wildcard subscription available"), "3.2.2.3.11", "Wildcard Subscription Available");
            case SUBSCRIPTION_IDENTIFIER_AVAILABLE -> p.subscriptionIdentifierAvailable =
                    zeroOrOne(r.readByte("subscription identifier available"), "3.2.2.3.12", "Subscription Identifiers Available");
            case SHARED_SUBSCRIPTION_AVAILABLE -> p.sharedSubscriptionAvailable =
                    zeroOrOne(r.readByte("shared subscription available"), "3.2.2.3.13", "Shared Subscription Available");
            default -> throw new AssertionError("identifier passed the table but has no reader: " + id);
        }
    }

    private static Integer zeroOrOne(int value, String rule, String name) throws ProtocolViolation {
        if (value > 1) {
            // Each of these sections: "It is a Protocol Error to ... have a value other than 0 or 1."
            throw ProtocolViolation.protocolError(rule, name + " is " + value + ", not 0 or 1");
        }
        return value;
    }

    // ------------------------------------------------------------------------------------------ encoding

    /**
     * The number of bytes the properties admitted in {@code context} take, without the Property
     * Length itself. Properties the context does not admit are not counted (and not written).
     */
    static int length(Properties p, int context) {
        return write(p, context, null);
    }

    /** Writes the Property Length ({@code length} from {@link #length}) and the properties. */
    static void encode(Buffer out, Properties p, int context, int length) {
        writeVbi(out, length);
        write(p, context, out);
    }

    /** Counts and, when {@code out} is not null, writes, in identifier order. */
    private static int write(Properties p, int context, Buffer out) {
        if (p == null || p == Properties.EMPTY) {
            return 0;
        }
        int n = 0;
        n += writeByte(out, PAYLOAD_FORMAT_INDICATOR, p.payloadFormatIndicator, context);
        n += writeInt(out, MESSAGE_EXPIRY_INTERVAL, p.messageExpiryInterval, context);
        n += writeString(out, CONTENT_TYPE, p.contentType, context);
        n += writeString(out, RESPONSE_TOPIC, p.responseTopic, context);
        n += writeBinary(out, CORRELATION_DATA, p.correlationData, context);
        if (p.subscriptionIdentifiers != null && allowed(SUBSCRIPTION_IDENTIFIER, context)) {
            for (int id : p.subscriptionIdentifiers) {
                n += 1 + vbiLength(id);
                if (out != null) {
                    out.appendByte((byte) SUBSCRIPTION_IDENTIFIER);
                    writeVbi(out, id);
                }
            }
        }
        n += writeInt(out, SESSION_EXPIRY_INTERVAL, p.sessionExpiryInterval, context);
        n += writeString(out, ASSIGNED_CLIENT_IDENTIFIER, p.assignedClientIdentifier, context);
        n += writeShort(out, SERVER_KEEP_ALIVE, p.serverKeepAlive, context);
        n += writeString(out, AUTHENTICATION_METHOD, p.authenticationMethod, context);
        n += writeBinary(out, AUTHENTICATION_DATA, p.authenticationData, context);
        n += writeByte(out, REQUEST_PROBLEM_INFORMATION, p.requestProblemInformation, context);
        n += writeInt(out, WILL_DELAY_INTERVAL, p.willDelayInterval, context);
        n += writeByte(out, REQUEST_RESPONSE_INFORMATION, p.requestResponseInformation, context);
        n += writeString(out, RESPONSE_INFORMATION, p.responseInformation, context);
        n += writeString(out, SERVER_REFERENCE, p.serverReference, context);
        n += writeString(out, REASON_STRING, p.reasonString, context);
        n += writeShort(out, RECEIVE_MAXIMUM, p.receiveMaximum, context);
        n += writeShort(out, TOPIC_ALIAS_MAXIMUM, p.topicAliasMaximum, context);
        n += writeShort(out, TOPIC_ALIAS, p.topicAlias, context);
        n += writeByte(out, MAXIMUM_QOS, p.maximumQos, context);
        n += writeByte(out, RETAIN_AVAILABLE, p.retainAvailable, context);
        List<Properties.UserProperty> users = p.userProperties;
        if (users != null && allowed(USER_PROPERTY, context)) {
            for (Properties.UserProperty u : users) {
                byte[] name = Utf8.encode(u.name());
                byte[] value = Utf8.encode(u.value());
                n += 5 + name.length + value.length;
                if (out != null) {
                    out.appendByte((byte) USER_PROPERTY);
                    out.appendUnsignedShort(name.length).appendBytes(name);
                    out.appendUnsignedShort(value.length).appendBytes(value);
                }
            }
        }
        n += writeInt(out, MAXIMUM_PACKET_SIZE, p.maximumPacketSize, context);
        n += writeByte(out, WILDCARD_SUBSCRIPTION_AVAILABLE, p.wildcardSubscriptionAvailable, context);
        n += writeByte(out, SUBSCRIPTION_IDENTIFIER_AVAILABLE, p.subscriptionIdentifierAvailable, context);
        n += writeByte(out, SHARED_SUBSCRIPTION_AVAILABLE, p.sharedSubscriptionAvailable, context);
        return n;
    }

    private static int writeByte(Buffer out, int id, Integer v, int context) {
        if (v == null || !allowed(id, context)) {
            return 0;
        }
        if (out != null) {
            out.appendByte((byte) id).appendByte((byte) v.intValue());
        }
        return 2;
    }

    private static int writeShort(Buffer out, int id, Integer v, int context) {
        if (v == null || !allowed(id, context)) {
            return 0;
        }
        if (out != null) {
            out.appendByte((byte) id).appendUnsignedShort(v);
        }
        return 3;
    }

    private static int writeInt(Buffer out, int id, Long v, int context) {
        if (v == null || !allowed(id, context)) {
            return 0;
        }
        if (out != null) {
            out.appendByte((byte) id).appendUnsignedInt(v);
        }
        return 5;
    }

    private static int writeString(Buffer out, int id, String v, int context) {
        if (v == null || !allowed(id, context)) {
            return 0;
        }
        return writeBinary(out, id, Utf8.encode(v), context);
    }

    private static int writeBinary(Buffer out, int id, byte[] v, int context) {
        if (v == null || !allowed(id, context)) {
            return 0;
        }
        if (out != null) {
            out.appendByte((byte) id).appendUnsignedShort(v.length).appendBytes(v);
        }
        return 3 + v.length;
    }

    // ------------------------------------------------------------------------------------------ VBI helpers

    /** Bytes a Variable Byte Integer (1.5.5) of this value takes. */
    static int vbiLength(int value) {
        if (value < 0 || value > 268_435_455) {
            throw new IllegalArgumentException("not representable as a Variable Byte Integer: " + value);
        }
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    static void writeVbi(Buffer out, int value) {
        do {
            int b = value & 0x7F;
            value >>>= 7;
            out.appendByte((byte) (value > 0 ? b | 0x80 : b));
        } while (value > 0);
    }
}
