package io.starling.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.starling.Broker;
import io.starling.config.ConfigLoader;
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
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.starling.protocol.SubAck;
import io.starling.protocol.UnsubAck;
import io.starling.session.Services;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of one connection's state machine (issue 9, item 9): the real
 * {@link MqttConnection} (decoder, protocol, sessions, routing, encoder, close) of a running node,
 * on a Netty {@link EmbeddedChannel} instead of a socket, driven by a {@link ClientScript} that the
 * input chooses (CONNECT state and version, then packets). All of it runs on one Vert.x context
 * of the node, as a listener's connection does; input is read only while the connection reads
 * (flow control pauses it).
 *
 * <p>Findings: any exception out of the pipeline, an internal error counted by the node
 * ({@code starling_internal_errors}: a session task or input handling that threw), input paused
 * for good, and a broken rule of what a server sends:
 * <ul>
 *   <li>the first packet is CONNACK [MQTT-3.2.0-1], and there is at most one;</li>
 *   <li>a refusing CONNACK, and a DISCONNECT, are the last packet, and the server closes
 *       [MQTT-3.2.2-7] [MQTT-3.14.4-1]; a 3.1/3.1.1 client is never sent DISCONNECT or AUTH;</li>
 *   <li>no packet is larger than the client's Maximum Packet Size [MQTT-3.1.2-24];</li>
 *   <li>PUBACK, PUBREC, PUBCOMP, SUBACK and UNSUBACK answer a packet identifier the client used for
 *       that flow, SUBACK with one code per filter [MQTT-3.8.4-6], UNSUBACK (5.0) likewise
 *       [MQTT-3.10.4-6];</li>
 *   <li>a 3.1/3.1.1 client is never sent a PUBACK or PUBREC for a message the broker refused (it
 *       has no reason codes: an error code would be encoded as success);</li>
 *   <li>a PUBLISH of QoS 1 or 2 has a packet identifier, one of QoS 0 none [MQTT-2.2.1-2].</li>
 * </ul>
 * Fuzz with {@code ./fuzz connection 30m} (docs/fuzzing.md).
 */
class ConnectionFuzzTest {
    private static final long INPUT_DEADLINE_MS = 5_000;
    /**
     * Every so many inputs the sessions of the script's client identifiers end (a clean-start
     * CONNECT and a DISCONNECT for each) and the retained messages go: what piles up over a
     * campaign (queues of thousands, held acknowledgements, a retained message per random topic,
     * all sent to each SUBSCRIBE of #) otherwise makes each later input slower, and keeps a
     * finding's input from replaying alone.
     */
    private static final int SESSIONS_END_EVERY = 1_000;
    private static int inputs;

    /** One node for the whole campaign, started on first use: sessions outlive connections, as in use. */
    private static final class Node {
        /** Held here: java.util.logging keeps loggers weakly, and a collected one forgets its level. */
        static final Logger[] QUIET = {Logger.getLogger("io.starling"), Logger.getLogger("com.hazelcast")};

        static final Broker BROKER = start();
        static final Services SERVICES = BROKER.services();
        static final ContextInternal CONTEXT = ((VertxInternal) SERVICES.vertx()).contextBuilder().build();

        private static Broker start() {
            // One line per refused client would be most of the campaign's time.
            QUIET[0].setLevel(Level.WARNING);
            QUIET[1].setLevel(Level.SEVERE);
            try {
                Broker b = Broker.start(ConfigLoader.load(null, Map.of("STARLING_LISTENER_PORT", "0",
                        "STARLING_SYS_INTERVAL", "0", "STARLING_METRICS_ENABLED", "false")))
                        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> b.close()));
                return b;
            } catch (Exception e) {
                throw new IllegalStateException("the node did not start", e);
            }
        }

        static double internalErrors() {
            return SERVICES.metrics().registry().get("starling_internal_errors").counter().count();
        }
    }

    @FuzzTest
    @Timeout(10)
    void packetsAfterAnyConnect(FuzzedDataProvider data) throws Exception {
        if (++inputs % SESSIONS_END_EVERY == 0) {
            endSessions();
        }
        ClientScript script = ClientScript.read(data);
        double errorsBefore = Node.internalErrors();
        Run run = new Run(script);
        Node.CONTEXT.runOnContext(v -> run.start());
        try {
            run.done.get(INPUT_DEADLINE_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            fail("the connection stopped reading for good: input paused after read " + run.next + " of "
                    + script.reads().size() + ", server sent " + run.received);
        }
        if (run.failure != null) {
            throw run.failure;
        }
        // A session task that failed after the connection closed is counted on the node too.
        CompletableFuture<Void> drained = new CompletableFuture<>();
        Node.CONTEXT.runOnContext(v -> Node.CONTEXT.runOnContext(w -> drained.complete(null)));
        drained.get(INPUT_DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertEquals(errorsBefore, Node.internalErrors(), () -> "internal errors (logged above) for " + run.received);
        run.check();
    }

    private static void endSessions() throws Exception {
        for (String id : ClientScript.CLIENT_IDS) {
            if (id.isEmpty()) {
                continue;
            }
            Properties none = new Properties();
            none.sessionExpiryInterval = 0L;
            byte[] connect = PacketEncoder.encode(new Connect(MqttVersion.V5, id, true, 0, none, null, null, null),
                    MqttVersion.V5).getBytes();
            byte[] disconnect = PacketEncoder.encode(new Disconnect(0, Properties.EMPTY), MqttVersion.V5).getBytes();
            Run run = new Run(new ClientScript(MqttVersion.V5, List.of(connect, disconnect)));
            Node.CONTEXT.runOnContext(v -> run.start());
            run.done.get(INPUT_DEADLINE_MS, TimeUnit.MILLISECONDS);
            if (run.failure != null) {
                throw run.failure;
            }
            run.check();
        }
        CompletableFuture<Void> cleared = new CompletableFuture<>();
        Node.CONTEXT.runOnContext(v -> {
            io.starling.retain.RetainedStore retained = Node.SERVICES.router().retained();
            List<String> topics = new ArrayList<>();
            retained.match(io.starling.topic.TopicFilter.of("#"), System.currentTimeMillis(),
                    m -> topics.add(m.topic()));
            topics.forEach(t -> retained.remove(io.starling.topic.TopicName.of(t)));
            cleared.complete(null);
        });
        cleared.get(INPUT_DEADLINE_MS, TimeUnit.MILLISECONDS);
    }

    /** One connection of the script, confined to the node's context. */
    private static final class Run {
        final ClientScript script;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final List<Packet> received = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        /** What the client sent, decoded as the server decodes it, until its decoder failed. */
        final List<Packet> sent = new ArrayList<>();
        final PacketDecoder serverView;
        /** What the server sent, decoded in the version the server answers in; made with its first bytes. */
        PacketDecoder clientView;
        /** The version the server answers in (see {@link #clientView()}). */
        MqttVersion answerVersion;
        EmbeddedChannel channel;
        int next;
        boolean closedAfterLastWord = true;
        Exception failure;

        Run(ClientScript script) {
            this.script = script;
            this.serverView = new PacketDecoder(Node.SERVICES.config().maxPacketSize());
        }

        /**
         * The server answers in the version its decoder read from the CONNECT's protocol level
         * (also of a CONNECT it then found malformed), and in 3.1.1's format when it read none:
         * its CONNACK for an unsupported level [MQTT-3.1.2-2]. The script's own version can
         * differ, when its CONNECT is raw bytes.
         */
        private PacketDecoder clientView() {
            if (clientView == null) {
                MqttVersion v = serverView.version() == null ? MqttVersion.V3_1_1 : serverView.version();
                answerVersion = v;
                clientView = new PacketDecoder(Integer.MAX_VALUE);
                try {
                    // The decoder learns its version from a CONNECT; it then reads what a server sends.
                    clientView.feed(PacketEncoder.encode(new Connect(v, "x", true, 0, Properties.EMPTY,
                            null, null, null), v), p -> { });
                } catch (ProtocolViolation e) {
                    throw new IllegalStateException(e);
                }
            }
            return clientView;
        }

        void start() {
            channel = new EmbeddedChannel();
            io.starling.config.ListenerConfig tcp = Node.SERVICES.config().listener(io.starling.config.ListenerConfig.Kind.TCP).orElseThrow();
            MqttConnection connection = new MqttConnection(channel, Node.SERVICES, tcp,
                    Node.SERVICES.authenticatorFor(tcp), Node.CONTEXT, () -> { });
            channel.pipeline().addLast(connection);
            pump();
        }

        /** Feeds the next reads while the connection reads; waits for a resume when it paused. */
        void pump() {
            try {
                while (channel.isOpen() && next < script.reads().size() && channel.config().isAutoRead()) {
                    byte[] read = script.reads().get(next++);
                    observeClient(read);
                    channel.writeInbound(Unpooled.wrappedBuffer(read));
                    channel.runPendingTasks();
                    drainOutput();
                }
                if (channel.isOpen() && next < script.reads().size()) {
                    Node.SERVICES.vertx().setTimer(1, t -> pump()); // paused by flow control
                    return;
                }
                if (channel.isOpen()) {
                    channel.close(); // the client goes away without a DISCONNECT, or after one
                    channel.runPendingTasks();
                }
                drainOutput();
            } catch (Exception e) {
                failure = e;
            } catch (Throwable t) {
                failure = new Exception(t);
            }
            done.complete(null);
        }

        private void observeClient(byte[] read) {
            try {
                serverView.feed(Buffer.buffer(read), sent::add);
            } catch (ProtocolViolation | IllegalStateException e) {
                // the server's decoder fails at the same byte; nothing after it is read
            }
        }

        private void drainOutput() throws ProtocolViolation {
            ByteBuf b;
            while ((b = channel.readOutbound()) != null) {
                try {
                    if (b.readableBytes() == 0) {
                        continue; // the flush before a half-close
                    }
                    sizes.add(b.readableBytes());
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    clientView().feed(Buffer.buffer(bytes), received::add);
                } finally {
                    b.release();
                }
            }
            if (!received.isEmpty() && isLastWord(received.get(received.size() - 1)) && channel.isOpen()) {
                closedAfterLastWord = false;
            }
        }

        private boolean isLastWord(Packet p) {
            return p.type() == PacketType.DISCONNECT
                    || (p instanceof ConnAck c && c.reasonCode() != 0);
        }

        /** The rules of what a server sends, against what this client sent. */
        void check() {
            // Built only for a failure: the packets of one input can be many (retained messages).
            java.util.function.Supplier<String> what = () -> "sent " + sent + ", received " + received;
            MqttVersion version = answerVersion == null ? script.version() : answerVersion;
            boolean v5 = version.isV5();
            long maximum = clientMaximumPacketSize();
            for (int i = 0; i < received.size(); i++) {
                Packet p = received.get(i);
                if (i == 0) {
                    assertEquals(PacketType.CONNACK, p.type(), () -> "[MQTT-3.2.0-1] first packet: " + what.get());
                } else {
                    assertFalse(p.type() == PacketType.CONNACK, () -> "a second CONNACK: " + what.get());
                }
                if (isLastWord(p)) {
                    assertEquals(received.size() - 1, i,
                            () -> "nothing after a refusing CONNACK or a DISCONNECT: " + what.get());
                }
                if (!v5) {
                    assertFalse(p.type() == PacketType.DISCONNECT || p.type() == PacketType.AUTH,
                            () -> "no DISCONNECT or AUTH to a " + version + " client: " + what.get());
                }
                int size = sizes.get(i);
                assertTrue(size <= maximum, () -> "[MQTT-3.1.2-24] " + size + " bytes over the client's maximum "
                        + maximum + ": " + p + " in " + what.get());
                checkAnswer(p, what, v5);
            }
            assertTrue(closedAfterLastWord,
                    () -> "[MQTT-3.2.2-7] [MQTT-3.14.4-1] the connection stayed open: " + what.get());
        }

        private void checkAnswer(Packet p, java.util.function.Supplier<String> what, boolean v5) {
            switch (p.type()) {
                case PUBACK, PUBREC -> {
                    Ack a = (Ack) p;
                    int qos = p.type() == PacketType.PUBACK ? 1 : 2;
                    assertTrue(sentIds(PacketType.PUBLISH, qos).contains(a.packetId()),
                            () -> p + " answers no QoS " + qos + " PUBLISH: " + what.get());
                    if (!v5) {
                        assertTrue(a.reasonCode() < 0x80,
                                () -> "a refusal told to a 3.1.1 client as success: " + what.get());
                    }
                }
                case PUBCOMP -> assertTrue(sentIds(PacketType.PUBREL, -1).contains(((Ack) p).packetId()),
                        () -> p + " answers no PUBREL: " + what.get());
                case SUBACK -> {
                    SubAck s = (SubAck) p;
                    assertTrue(sent.stream().anyMatch(q -> q instanceof io.starling.protocol.Subscribe sub
                            && sub.packetId() == s.packetId() && sub.requests().size() == s.reasonCodes().length),
                            () -> "[MQTT-3.8.4-6] " + p + " answers no SUBSCRIBE of as many filters: " + what.get());
                }
                case UNSUBACK -> {
                    UnsubAck u = (UnsubAck) p;
                    assertTrue(sent.stream().anyMatch(q -> q instanceof io.starling.protocol.Unsubscribe un
                            && un.packetId() == u.packetId()
                            && (!v5 || un.filters().size() == u.reasonCodes().length)),
                            () -> "[MQTT-3.10.4-6] " + p + " answers no UNSUBSCRIBE: " + what.get());
                }
                case PUBLISH -> {
                    Publish pub = (Publish) p;
                    assertEquals(pub.qos() == 0, pub.packetId() == 0, () -> "[MQTT-2.2.1-2] " + p + " in " + what.get());
                }
                default -> { }
            }
        }

        /** What the server read of the client's Maximum Packet Size: from a CONNECT it decoded whole. */
        private long clientMaximumPacketSize() {
            if (!sent.isEmpty() && sent.get(0) instanceof Connect c && c.properties() != null
                    && c.properties().maximumPacketSize != null && c.properties().maximumPacketSize > 0) {
                return c.properties().maximumPacketSize;
            }
            return Long.MAX_VALUE;
        }

        private Set<Integer> sentIds(PacketType type, int qos) {
            Set<Integer> ids = new HashSet<>();
            for (Packet q : sent) {
                if (q.type() == type && (qos < 0 || ((Publish) q).qos() == qos)) {
                    ids.add(type == PacketType.PUBLISH ? ((Publish) q).packetId() : ((Ack) q).packetId());
                }
            }
            return ids;
        }
    }
}
