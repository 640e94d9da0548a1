package io.starling.protocol;

/** UNSUBACK (spec 3.11). Reason codes are written for 5.0 only. */
public record UnsubAck(int packetId, Properties properties, int[] reasonCodes) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.UNSUBACK;
    }
}
