package io.starling.session;

import io.starling.protocol.Connect;
import io.starling.protocol.Properties;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.MessageCodec;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A session's state as it moves between nodes on a takeover (spec 4.1: subscriptions, QoS 1/2
 * messages sent and not completed, messages queued, QoS 2 publishes received and not released),
 * and its byte form. The first byte is a format version.
 */
record SessionState(long expirySeconds, List<Subscription> subscriptions, List<Inflight> inflight,
                    List<Delivery> queued, List<Inbound> inboundQos2, Connect.Will will, List<Long> completed) {

    /**
     * A QoS 2 PUBLISH received and not yet released: its packet identifier, the id the broker gave
     * the message, and whether its routing was accepted (PUBREC due). A resend of one that was not
     * accepted (its node died while routing it) is routed again under the same message id, which
     * a node that has it already recognises [MQTT-4.3.3-2].
     */
    record Inbound(int packetId, long messageId, boolean accepted) {
    }

    /**
     * @param completed ids of messages the session completed lately (from the journal's tombstones):
     *     a copy of one that arrives with the session's move (republished for a dead node) is not new
     */
    SessionState(long expirySeconds, List<Subscription> subscriptions, List<Inflight> inflight,
                 List<Delivery> queued, List<Inbound> inboundQos2, Connect.Will will) {
        this(expirySeconds, subscriptions, inflight, queued, inboundQos2, will, List.of());
    }
    private static final int FORMAT = 2;

    SessionState withWill(Connect.Will w) {
        return new SessionState(expirySeconds, subscriptions, inflight, queued, inboundQos2, w, completed);
    }

    /** A message sent to the client and not yet completed, with its packet identifier. */
    record Inflight(int packetId, boolean released, Delivery delivery) {
    }

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(expirySeconds);
            out.writeInt(subscriptions.size());
            for (Subscription s : subscriptions) {
                out.writeUTF(s.filter().value());
                out.writeByte(s.qos());
                out.writeBoolean(s.noLocal());
                out.writeBoolean(s.retainAsPublished());
                out.writeByte(s.retainHandling());
                out.writeInt(s.subscriptionId());
            }
            out.writeInt(inflight.size());
            for (Inflight i : inflight) {
                out.writeShort(i.packetId());
                out.writeBoolean(i.released());
                writeDelivery(out, i.delivery());
            }
            out.writeInt(queued.size());
            for (Delivery d : queued) {
                writeDelivery(out, d);
            }
            out.writeInt(inboundQos2.size());
            for (Inbound i : inboundQos2) {
                out.writeShort(i.packetId());
                out.writeLong(i.messageId());
                out.writeBoolean(i.accepted());
            }
            out.writeBoolean(will != null);
            if (will != null) {
                // The will as a message, plus the two properties a message does not carry.
                Properties p = will.properties() == null ? Properties.EMPTY : will.properties();
                out.writeLong(p.willDelayInterval == null ? -1 : p.willDelayInterval);
                out.writeLong(p.messageExpiryInterval == null ? -1 : p.messageExpiryInterval);
                byte[] m = MessageCodec.encode(new Message(will.topic(), will.payload(), will.qos(), will.retain(),
                        Message.forwardedProperties(p), 0, "", 0));
                out.writeInt(m.length);
                out.write(m);
            }
            out.writeInt(completed.size());
            for (long id : completed) {
                out.writeLong(id);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static SessionState decode(String clientId, byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalArgumentException("unknown session format " + format);
            }
            long expiry = in.readLong();
            int n = in.readInt();
            List<Subscription> subs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                subs.add(new Subscription(clientId, TopicFilter.of(in.readUTF()), in.readByte(), in.readBoolean(),
                        in.readBoolean(), in.readByte(), in.readInt()));
            }
            n = in.readInt();
            List<Inflight> inflight = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                inflight.add(new Inflight(in.readUnsignedShort(), in.readBoolean(), readDelivery(in)));
            }
            n = in.readInt();
            List<Delivery> queued = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                queued.add(readDelivery(in));
            }
            n = in.readInt();
            List<Inbound> qos2 = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                qos2.add(new Inbound(in.readUnsignedShort(), in.readLong(), in.readBoolean()));
            }
            Connect.Will will = null;
            if (in.readBoolean()) {
                long delay = in.readLong();
                long expiryInterval = in.readLong();
                Message m = MessageCodec.decode(in.readNBytes(in.readInt()));
                Properties p = new Properties();
                Properties f = m.properties();
                p.payloadFormatIndicator = f.payloadFormatIndicator;
                p.contentType = f.contentType;
                p.responseTopic = f.responseTopic;
                p.correlationData = f.correlationData;
                p.userProperties = f.userProperties;
                p.willDelayInterval = delay < 0 ? null : delay;
                p.messageExpiryInterval = expiryInterval < 0 ? null : expiryInterval;
                will = new Connect.Will(m.topic(), m.payload(), m.qos(), m.retain(), p);
            }
            n = in.readInt();
            List<Long> completed = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                completed.add(in.readLong());
            }
            return new SessionState(expiry, subs, inflight, queued, qos2, will, completed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeDelivery(DataOutputStream out, Delivery d) throws IOException {
        byte[] m = MessageCodec.encode(d.message());
        out.writeInt(m.length);
        out.write(m);
        out.writeByte(d.qos());
        out.writeBoolean(d.retain());
        out.writeInt(d.subscriptionIds().length);
        for (int id : d.subscriptionIds()) {
            out.writeInt(id);
        }
        out.writeBoolean(d.sharedFilter() != null);
        if (d.sharedFilter() != null) {
            out.writeUTF(d.sharedFilter());
        }
        out.writeLong(d.seq());
    }

    static Delivery readDelivery(DataInputStream in) throws IOException {
        Message m = MessageCodec.decode(in.readNBytes(in.readInt()));
        int qos = in.readByte();
        boolean retain = in.readBoolean();
        int n = in.readInt();
        int[] ids = n == 0 ? Delivery.NO_IDS : new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = in.readInt();
        }
        String shared = in.readBoolean() ? in.readUTF() : null;
        return new Delivery(m, qos, retain, ids, shared, in.readLong(), null, Delivery.ROUTED);
    }
}
