package io.starling.protocol;

import java.util.List;

/** SUBSCRIBE (spec 3.8). */
public record Subscribe(int packetId, Properties properties, List<Request> requests) implements Packet {

    /**
     * One topic filter with its subscription options (spec 3.8.3.1). For 3.1/3.1.1 only the
     * maximum QoS is carried; the other options read false/0.
     */
    public record Request(String filter, int qos, boolean noLocal, boolean retainAsPublished,
                          int retainHandling) {
    }

    @Override
    public PacketType type() {
        return PacketType.SUBSCRIBE;
    }
}
