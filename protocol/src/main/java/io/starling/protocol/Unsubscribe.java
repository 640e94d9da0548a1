package io.starling.protocol;

import java.util.List;

/** UNSUBSCRIBE (spec 3.10). */
public record Unsubscribe(int packetId, Properties properties, List<String> filters) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.UNSUBSCRIBE;
    }
}
