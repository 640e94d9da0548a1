package io.starling.protocol;

/**
 * PUBLISH (spec 3.3). {@code packetId} is 0 for QoS 0. {@code topic} is "" when a v5 sender
 * used a topic alias only; the receiver resolves it.
 */
public record Publish(int qos, boolean dup, boolean retain, String topic, int packetId,
                      Properties properties, byte[] payload) implements Packet {
    @Override
    public PacketType type() {
        return PacketType.PUBLISH;
    }
}
