package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.Subscribe;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * QoS 0 flow control: a publisher that floods a congested subscriber is paused until that
 * subscriber drains, but a subscriber that stops reading altogether must not hold its publishers
 * (and so every other subscriber of theirs) back: after a second without progress its messages
 * are dropped, counted as queue_full, and the others keep receiving.
 */
class QosZeroFlowControlIT {
    private static final int MESSAGES = 60_000;

    @RegisterExtension
    static final BrokerFixture broker = new BrokerFixture();

    @Test
    void aSubscriberThatStopsReadingDoesNotHoldBackThePublisherOrTheOtherSubscribers() throws Exception {
        String topic = "qos0-flow/" + UUID.randomUUID();
        double droppedBefore = broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}");
        try (Socket stuck = stuckSubscriber(topic);
                RawV5Client reader = RawV5Client.connected(broker.port(), "reader-" + UUID.randomUUID(), true, null);
                RawV5Client pub = RawV5Client.connected(broker.port(), "flooder-" + UUID.randomUUID(), true, null)) {
            reader.subscribe(topic, 0);
            String payload = "x".repeat(200);
            CompletableFuture<Void> published = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < MESSAGES; i++) {
                        pub.publish(topic, 0, payload, null);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            // Bounded: the stuck subscriber may hold the publisher for about a second, not for good.
            published.get(30, TimeUnit.SECONDS);
            int received = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (received < MESSAGES && System.currentTimeMillis() < deadline) {
                if (reader.poll(2_000) instanceof Publish) {
                    received++;
                } else {
                    break; // nothing more for 2 s
                }
            }
            assertEquals(MESSAGES, received, "the subscriber that reads gets every message");
        }
        assertTrue(broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}") - droppedBefore > 0,
                "the stuck subscriber's messages were dropped and counted");
    }

    /**
     * The pause takes effect after the publisher's current socket read, whose messages (up to
     * 64 KB of them) still arrive once the subscriber's backlog reached the signal level. A
     * subscriber that only falls behind for a moment must get them all: they are queued past
     * mqtt.max-queued-messages, not dropped.
     */
    @Test
    void aSubscriberThatFallsBehindForAMomentLosesNothing() throws Exception {
        String topic = "qos0-behind/" + UUID.randomUUID();
        int messages = 100_000; // about 10 MB: more than the socket buffers hold
        double droppedBefore = broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}");
        try (Socket sub = stuckSubscriber(topic);
                Socket pub = new Socket()) {
            pub.connect(new InetSocketAddress("127.0.0.1", broker.port()), 5_000);
            pub.setSoTimeout(5_000);
            pub.getOutputStream().write(PacketEncoder.encode(new Connect(MqttVersion.V5, "burst-" + UUID.randomUUID(),
                    true, 60, Properties.EMPTY, null, null, null), MqttVersion.V5).getBytes());
            assertEquals(0x20, RawClient.readPacket(pub.getInputStream())[0] & 0xF0, "CONNACK");
            // One write of many small messages: the broker's reads of it are as full as they get.
            byte[] one = PacketEncoder.encode(new Publish(0, false, false, topic, 0, Properties.EMPTY,
                    "y".repeat(60).getBytes(java.nio.charset.StandardCharsets.UTF_8)), MqttVersion.V5).getBytes();
            byte[] burst = new byte[one.length * messages];
            for (int i = 0; i < messages; i++) {
                System.arraycopy(one, 0, burst, i * one.length, one.length);
            }
            CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                try {
                    pub.getOutputStream().write(burst);
                    pub.getOutputStream().flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500); // behind, but for less than the second after which it would count as stuck
            InputStream in = new java.io.BufferedInputStream(sub.getInputStream());
            int received = 0;
            while (received < messages) {
                byte[] packet = RawClient.readPacket(in); // the socket's 5 s timeout bounds each wait
                assertTrue(packet != null, "the connection stays open");
                if ((packet[0] & 0xF0) == 0x30) {
                    received++;
                }
            }
            written.get(10, TimeUnit.SECONDS);
        } catch (java.net.SocketTimeoutException e) {
            throw new AssertionError("messages stopped arriving; dropped meanwhile: "
                    + (broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}") - droppedBefore), e);
        }
        assertEquals(0, broker.metric("starling_messages_dropped_total{reason=\"queue_full\"}") - droppedBefore,
                "nothing dropped for a subscriber that keeps up in the end");
    }

    /** Subscribes at QoS 0 on a socket with a small receive buffer, then never reads again. */
    private static Socket stuckSubscriber(String topic) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", broker.port()), 5_000);
        s.setSoTimeout(5_000);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(PacketEncoder.encode(new Connect(MqttVersion.V5, "stuck-" + UUID.randomUUID(), true, 60,
                Properties.EMPTY, null, null, null), MqttVersion.V5).getBytes());
        out.write(PacketEncoder.encode(new Subscribe(1, Properties.EMPTY,
                List.of(new Subscribe.Request(topic, 0, false, false, 0))), MqttVersion.V5).getBytes());
        out.flush();
        byte[] connAck = RawClient.readPacket(in);
        byte[] subAck = RawClient.readPacket(in);
        assertEquals(0x20, connAck[0] & 0xF0, "CONNACK first");
        assertEquals(0x90, subAck[0] & 0xF0, "then SUBACK");
        return s;
    }
}
