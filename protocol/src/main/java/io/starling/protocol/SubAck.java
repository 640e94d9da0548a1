package io.starling.protocol;

/** SUBACK (spec 3.9): one reason code (v3: return code 0,1,2 or 0x80) per requested filter. */
public record SubAck(int packetId, Properties properties, int[] reasonCodes) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.SUBACK;
    }
}
