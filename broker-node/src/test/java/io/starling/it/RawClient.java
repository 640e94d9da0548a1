package io.starling.it;

import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A bare TCP client for tests that need exact bytes: malformed packets, abrupt closes, and
 * reading exactly what the broker answers. Valid packets are written with Starling's encoder.
 */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        this.socket.setSoTimeout(5000);
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    static RawClient connect(int port) throws IOException {
        return new RawClient(new Socket("127.0.0.1", port));
    }

    /** With a small receive buffer, for a client that reads slowly or not at all: the broker's writes back up. */
    static RawClient connect(int port, int receiveBufferBytes) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(receiveBufferBytes);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        return new RawClient(s);
    }

    void send(byte... bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(Packet p, MqttVersion v) throws IOException {
        send(PacketEncoder.encode(p, v).getBytes());
    }

    static byte[] hex(String hex) {
        String h = hex.replace(" ", "");
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    void sendHex(String hex) throws IOException {
        send(hex(hex));
    }

    /** CONNECT as 3.1.1 with a will, then reads the CONNACK. */
    void connectV311(String clientId, int keepAlive, String willTopic, String willPayload, int willQos) throws IOException {
        Connect.Will will = willTopic == null ? null
                : new Connect.Will(willTopic, willPayload.getBytes(StandardCharsets.UTF_8), willQos, false, Properties.EMPTY);
        send(new Connect(MqttVersion.V3_1_1, clientId, true, keepAlive, Properties.EMPTY, will, null, null),
                MqttVersion.V3_1_1);
        byte[] connack = readPacket();
        if (connack == null || (connack[0] & 0xF0) != 0x20 || connack[connack.length - 1] != 0) {
            throw new IOException("not accepted: " + toHex(connack));
        }
    }

    /** Reads one whole packet (fixed header included), or null when the broker closed the connection. */
    byte[] readPacket() throws IOException {
        return readPacket(in);
    }

    /** MQTT framing only: one fixed header, its remaining length, and that many bytes; null at end of stream. */
    public static byte[] readPacket(InputStream in) throws IOException {
        int first = in.read();
        if (first < 0) {
            return null;
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        buf.write(first);
        int length = 0;
        int shift = 0;
        int b;
        do {
            b = in.read();
            if (b < 0) {
                return null;
            }
            buf.write(b);
            length |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        byte[] rest = in.readNBytes(length);
        if (rest.length < length) {
            return null;
        }
        buf.write(rest);
        return buf.toByteArray();
    }

    /**
     * True when the broker closed the connection (reads past any packets it sent first). A reset
     * is not a close: it throws, since a client may lose what was sent before it.
     */
    boolean closedByBroker() throws IOException {
        try {
            while (readPacket() != null) {
                // skip
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    static String toHex(byte[] b) {
        if (b == null) {
            return "<closed>";
        }
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x ", x));
        }
        return s.toString().trim();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** Closes without a DISCONNECT and with a TCP reset, like a device losing power. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }
}
