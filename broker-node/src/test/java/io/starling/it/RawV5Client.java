package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.starling.protocol.Ack;
import io.starling.protocol.ConnAck;
import io.starling.protocol.Connect;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.PacketType;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.SubAck;
import io.starling.protocol.Subscribe;
import io.starling.protocol.UnsubAck;
import io.starling.protocol.Unsubscribe;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An MQTT 5.0 client over a bare socket for tests that need to see exactly what the broker sends
 * (DUP flags, packet identifiers, topic aliases, packet sizes, DISCONNECT reason codes) or to
 * misbehave (never acknowledge, exceed limits, drop the connection). Packets are written with
 * Starling's encoder; what the broker sends is decoded by Starling's decoder on a reader thread
 * and handed out with {@link #poll(long)}, so every wait is bounded.
 */
final class RawV5Client implements AutoCloseable {
    /** One packet from the broker with the number of bytes it had on the wire. */
    record Received(Packet packet, int wireSize) {
    }

    private static final Object CLOSED = new Object();

    private final Socket socket;
    private final OutputStream out;
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final PacketDecoder decoder = new PacketDecoder(Integer.MAX_VALUE);
    private volatile boolean closedByBroker;
    private ConnAck connAck;
    private int nextPacketId = 1;

    private RawV5Client(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    /** Opens a socket and sends a 5.0 CONNECT; read the answer with {@link #connAck()}. */
    static RawV5Client connect(int port, String clientId, boolean cleanStart, int keepAlive,
                               Consumer<Properties> connectProperties, Connect.Will will) throws IOException {
        Properties p = new Properties();
        if (connectProperties != null) {
            connectProperties.accept(p);
        }
        RawV5Client c = new RawV5Client(new Socket("127.0.0.1", port));
        Connect connect = new Connect(MqttVersion.V5, clientId, cleanStart, keepAlive, p, will, null, null);
        Buffer bytes = PacketEncoder.encode(connect, MqttVersion.V5);
        try {
            // The decoder learns the protocol version from a CONNECT; feed it ours first.
            c.decoder.feed(bytes.copy(), x -> { });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        c.out.write(bytes.getBytes());
        c.out.flush();
        Thread t = new Thread(c::readLoop, "raw-v5-" + clientId);
        t.setDaemon(true);
        t.start();
        return c;
    }

    /** Connects and asserts CONNACK Success. */
    static RawV5Client connected(int port, String clientId, boolean cleanStart, Consumer<Properties> props)
            throws Exception {
        RawV5Client c = connect(port, clientId, cleanStart, 60, props, null);
        ConnAck ack = c.connAck();
        assertEquals(0, ack.reasonCode(), "CONNACK reason for " + clientId + ": " + ack);
        return c;
    }

    private void readLoop() {
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                byte[] packet = RawClient.readPacket(in);
                if (packet == null) {
                    break;
                }
                decoder.feed(Buffer.buffer(packet), p -> inbox.add(new Received(p, packet.length)));
            }
        } catch (Exception e) {
            if (!socket.isClosed()) {
                inbox.add(e);
            }
        } finally {
            closedByBroker = !socket.isClosed();
            inbox.add(CLOSED);
        }
    }

    /** The CONNACK (waits up to 5 s). */
    ConnAck connAck() throws Exception {
        if (connAck == null) {
            Packet p = poll(5000);
            assertTrue(p instanceof ConnAck, "expected CONNACK, got " + p);
            connAck = (ConnAck) p;
        }
        return connAck;
    }

    /**
     * The next packet from the broker within {@code millis}, or null when none arrived; fails when
     * the connection closed or the broker sent bytes the decoder rejects.
     */
    Packet poll(long millis) throws Exception {
        Received r = pollReceived(millis);
        return r == null ? null : r.packet();
    }

    Received pollReceived(long millis) throws Exception {
        Object o = inbox.poll(millis, TimeUnit.MILLISECONDS);
        if (o == null) {
            return null;
        }
        if (o == CLOSED) {
            inbox.add(CLOSED);
            fail("the connection was closed while a packet was expected");
        }
        if (o instanceof Exception e) {
            throw new AssertionError("broker sent an undecodable packet", e);
        }
        return (Received) o;
    }

    /** The next packet, which must be of this type, within 5 s. */
    <T extends Packet> T expect(Class<T> type) throws Exception {
        Packet p = poll(5000);
        assertNotNull(p, "no " + type.getSimpleName() + " within 5 s");
        assertTrue(type.isInstance(p), "expected " + type.getSimpleName() + ", got " + p);
        return type.cast(p);
    }

    /**
     * Waits up to {@code millis} for the broker to close the connection and returns the packets it
     * sent before closing (e.g. a DISCONNECT); fails when it stays open.
     */
    List<Packet> awaitClose(long millis) throws Exception {
        List<Packet> before = new ArrayList<>();
        long deadline = System.currentTimeMillis() + millis;
        while (true) {
            long left = deadline - System.currentTimeMillis();
            Object o = left <= 0 ? null : inbox.poll(left, TimeUnit.MILLISECONDS);
            if (o == null) {
                fail("the broker did not close the connection within " + millis + " ms; it sent " + before);
            }
            if (o == CLOSED) {
                inbox.add(CLOSED);
                assertTrue(closedByBroker, "closed by the test, not the broker");
                return before;
            }
            if (o instanceof Exception e) {
                throw new AssertionError("broker sent an undecodable packet", e);
            }
            before.add(((Received) o).packet());
        }
    }

    /** Asserts the broker sends DISCONNECT with this reason code and closes the connection. */
    void expectDisconnect(int reasonCode) throws Exception {
        List<Packet> before = awaitClose(5000);
        Disconnect d = before.stream().filter(p -> p instanceof Disconnect).map(p -> (Disconnect) p)
                .findFirst().orElse(null);
        assertNotNull(d, "no DISCONNECT before the close; packets: " + before);
        assertEquals(reasonCode, d.reasonCode(), String.format("DISCONNECT reason 0x%02X expected, got 0x%02X (%s)",
                reasonCode, d.reasonCode(), d.properties()));
    }

    /** Writes bytes as they are, in one write (e.g. many packets at once, or malformed ones). */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void send(Packet p) throws IOException {
        out.write(PacketEncoder.encode(p, MqttVersion.V5).getBytes());
        out.flush();
    }

    int nextPacketId() {
        int id = nextPacketId++;
        if (nextPacketId > 65_535) {
            nextPacketId = 1;
        }
        return id;
    }

    /** SUBSCRIBE with one filter and options; returns the SUBACK reason codes. */
    int[] subscribe(String filter, int qos, boolean noLocal, boolean retainAsPublished, int retainHandling,
                    Integer subscriptionId) throws Exception {
        Properties p = new Properties();
        if (subscriptionId != null) {
            p.addSubscriptionIdentifier(subscriptionId);
        }
        int id = nextPacketId();
        send(new Subscribe(id, p, List.of(new Subscribe.Request(filter, qos, noLocal, retainAsPublished, retainHandling))));
        SubAck ack = expect(SubAck.class);
        assertEquals(id, ack.packetId());
        return ack.reasonCodes();
    }

    /** SUBSCRIBE with default options, asserting the requested QoS was granted. */
    void subscribe(String filter, int qos) throws Exception {
        int[] codes = subscribe(filter, qos, false, false, 0, null);
        assertEquals(qos, codes[0], "SUBACK for " + filter);
    }

    int[] unsubscribe(String... filters) throws Exception {
        int id = nextPacketId();
        send(new Unsubscribe(id, Properties.EMPTY, List.of(filters)));
        UnsubAck ack = expect(UnsubAck.class);
        return ack.reasonCodes();
    }

    void publish(String topic, int qos, String payload, Properties props) throws IOException {
        send(new Publish(qos, false, false, topic, qos == 0 ? 0 : nextPacketId(),
                props == null ? Properties.EMPTY : props, payload.getBytes(StandardCharsets.UTF_8)));
    }

    void puback(int packetId) throws IOException {
        send(Ack.of(PacketType.PUBACK, packetId, 0));
    }

    static String text(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    /** Closes with a normal DISCONNECT. */
    void disconnect() throws IOException {
        try {
            send(new Disconnect(0, Properties.EMPTY));
        } finally {
            socket.close();
        }
    }

    /** Closes without DISCONNECT and with a TCP reset, like a device losing power. */
    void abort() throws IOException {
        if (!socket.isClosed()) {
            socket.setSoLinger(true, 0);
            socket.close();
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
