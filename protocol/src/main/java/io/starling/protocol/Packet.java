package io.starling.protocol;

/** A decoded MQTT control packet. Implementations are plain values; the codec does all byte work. */
public sealed interface Packet
        permits Connect, ConnAck, Publish, Ack, Subscribe, SubAck, Unsubscribe, UnsubAck,
        PingReq, PingResp, Disconnect, Auth {

    PacketType type();
}
