package io.starling.protocol;

/** DISCONNECT (spec 3.14). For 3.1/3.1.1 there is no reason code; it reads 0. */
public record Disconnect(int reasonCode, Properties properties) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.DISCONNECT;
    }
}
