package io.starling.protocol;

/** AUTH (spec 3.15), 5.0 only. */
public record Auth(int reasonCode, Properties properties) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.AUTH;
    }
}
