package io.starling.protocol;

/**
 * CONNECT (spec 3.1). {@code will}, {@code username} and {@code password} are null when absent.
 * {@code cleanStart} is Clean Session for 3.1/3.1.1 and Clean Start for 5.0.
 */
public record Connect(MqttVersion version, String clientId, boolean cleanStart, int keepAliveSeconds,
                      Properties properties, Will will, String username, byte[] password) implements Packet {

    /** The will message carried in CONNECT (spec 3.1.2.5 and 3.1.3.2). */
    public record Will(String topic, byte[] payload, int qos, boolean retain, Properties properties) {
    }

    @Override
    public PacketType type() {
        return PacketType.CONNECT;
    }
}
