package io.starling.protocol;

/** MQTT control packet types, by the value of the fixed header's high nibble (spec 2.1.2). */
public enum PacketType {
    CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
    UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH;

    private static final PacketType[] BY_VALUE = values();

    public int value() {
        return ordinal() + 1;
    }

    /** @return the type for a header nibble, or null for 0 (reserved) and values out of range. */
    public static PacketType of(int value) {
        return value >= 1 && value <= 15 ? BY_VALUE[value - 1] : null;
    }
}
