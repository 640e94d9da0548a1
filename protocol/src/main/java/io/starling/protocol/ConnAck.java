package io.starling.protocol;

/** CONNACK (spec 3.2). For 3.1/3.1.1 the reason code is the return code (0..5). */
public record ConnAck(boolean sessionPresent, int reasonCode, Properties properties) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.CONNACK;
    }
}
