package io.starling.protocol;

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP (spec 3.4 to 3.7): a packet identifier, and for 5.0 a reason
 * code and properties. 3.1/3.1.1 carry only the identifier; the reason code then reads 0.
 */
public record Ack(PacketType type, int packetId, int reasonCode, Properties properties) implements Packet {
    public Ack {
        if (type != PacketType.PUBACK && type != PacketType.PUBREC
                && type != PacketType.PUBREL && type != PacketType.PUBCOMP) {
            throw new IllegalArgumentException("not an acknowledgement type: " + type);
        }
    }

    public static Ack of(PacketType type, int packetId, int reasonCode) {
        return new Ack(type, packetId, reasonCode, Properties.EMPTY);
    }
}
