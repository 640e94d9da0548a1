package io.starling.routing;

import io.starling.protocol.Properties;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A message as bytes, for state shared through the cluster (retained messages now; forwarded and
 * queued messages later). Never used on the single-node publish path. The first byte is a format
 * version so that mixed-version clusters can be detected.
 */
public final class MessageCodec {
    private static final int FORMAT = 2;

    private MessageCodec() {
    }

    public static byte[] encode(Message m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + m.payload().length);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeLong(m.id());
            out.writeUTF(m.topic());
            out.writeByte(m.qos());
            out.writeBoolean(m.retain());
            out.writeLong(m.expiresAtMillis());
            out.writeUTF(m.publisherId());
            out.writeInt(m.payload().length);
            out.write(m.payload());
            Properties p = m.properties();
            out.writeByte(p.payloadFormatIndicator == null ? -1 : p.payloadFormatIndicator);
            writeNullable(out, p.contentType);
            writeNullable(out, p.responseTopic);
            out.writeInt(p.correlationData == null ? -1 : p.correlationData.length);
            if (p.correlationData != null) {
                out.write(p.correlationData);
            }
            List<Properties.UserProperty> users = p.userPropertiesOrEmpty();
            out.writeInt(users.size());
            for (Properties.UserProperty u : users) {
                out.writeUTF(u.name());
                out.writeUTF(u.value());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static Message decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int format = in.readByte();
            if (format != FORMAT) {
                throw new IllegalArgumentException("unknown message format " + format);
            }
            long id = in.readLong();
            String topic = in.readUTF();
            int qos = in.readByte();
            boolean retain = in.readBoolean();
            long expiresAt = in.readLong();
            String publisher = in.readUTF();
            byte[] payload = in.readNBytes(in.readInt());
            Properties p = new Properties();
            int pfi = in.readByte();
            p.payloadFormatIndicator = pfi < 0 ? null : pfi;
            p.contentType = readNullable(in);
            p.responseTopic = readNullable(in);
            int corr = in.readInt();
            p.correlationData = corr < 0 ? null : in.readNBytes(corr);
            int users = in.readInt();
            if (users > 0) {
                p.userProperties = new ArrayList<>(users);
                for (int i = 0; i < users; i++) {
                    p.userProperties.add(new Properties.UserProperty(in.readUTF(), in.readUTF()));
                }
            }
            boolean empty = p.equals(new Properties());
            return new Message(topic, payload, qos, retain, empty ? Properties.EMPTY : p, expiresAt, publisher,
                    System.nanoTime(), id);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }
}
