package io.starling.it;

import static io.starling.it.RawClient.toHex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input over real sockets, byte by byte. Every test:
 * <ol>
 *   <li>checks the exact answer: a 5.0 connection gets a DISCONNECT with the reason code and is then
 *       closed; a 3.1.1 connection is closed without any packet; a bad CONNECT gets the CONNACK code
 *       the specification prescribes;</li>
 *   <li>checks that {@code starling_protocol_errors{reason}} went up by exactly the expected amount;</li>
 *   <li>checks that a well-behaved Paho client, connected before the bad one, still publishes and
 *       receives afterwards.</li>
 * </ol>
 * The broker runs with {@code mqtt.max-packet-size: 1024} and the default Topic Alias Maximum of 10.
 * Packets are written as hex; the comment above each names the rule it breaks.
 */
class MalformedInputIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.max-packet-size", 1024);

    private static final AtomicInteger SEQ = new AtomicInteger();

    private MqttClient bystander;
    private final BlockingQueue<String[]> inbox = new LinkedBlockingQueue<>();

    @BeforeEach
    void connectBystander() throws MqttException {
        bystander = new MqttClient(broker.tcpUri(), "bystander-" + SEQ.incrementAndGet(), new MemoryPersistence());
        bystander.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(new String[] {topic, new String(message.getPayload(), StandardCharsets.UTF_8)});
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(true);
        o.setAutomaticReconnect(false);
        bystander.connect(o);
        bystander.subscribe(new String[] {"bystander/#", "will/#"}, new int[] {1, 1});
    }

    @AfterEach
    void closeBystander() {
        try {
            if (bystander.isConnected()) {
                bystander.disconnect(1000);
            }
            bystander.close(true);
        } catch (MqttException ignored) {
            // already gone
        }
    }

    // =========================================================================================
    // helpers
    // =========================================================================================

    /** The protocol-error counter for one reason tag (0 when it was never incremented). */
    static double errors(String reason) {
        Counter c = broker.broker().services().metrics().registry()
                .find("starling_protocol_errors").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    /** The authentication-failure counter for one reason tag. */
    static double authFailures(String reason) {
        return broker.broker().services().metrics().registry()
                .get("starling_auth_failures").tag("reason", reason).counter().count();
    }

    /** Waits briefly for the counter to reach before + n, then requires exactly that. */
    static void assertCounted(String reason, double before, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (errors(reason) < before + n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before + n, errors(reason), "starling_protocol_errors{reason=" + reason + "}");
    }

    static void assertCounted(String reason, double before) throws InterruptedException {
        assertCounted(reason, before, 1);
    }

    /** The bystander still publishes (QoS 1) and receives its own message. */
    void assertBystanderUndisturbed() throws Exception {
        assertTrue(bystander.isConnected(), "the well-behaved client was disconnected");
        String topic = "bystander/check-" + SEQ.incrementAndGet();
        MqttMessage m = new MqttMessage("still here".getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        bystander.publish(topic, m);
        assertNotNull(awaitMessage(topic, 5), "the well-behaved client no longer receives its messages");
    }

    /** Polls the bystander's inbox for a message on the topic; returns its payload or null. */
    String awaitMessage(String topic, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String[] r = inbox.poll(100, TimeUnit.MILLISECONDS);
            if (r != null && r[0].equals(topic)) {
                return r[1];
            }
        }
        return null;
    }

    /** Number of bytes of the Remaining Length field, which starts at offset 1. */
    static int lengthBytes(byte[] p) {
        int n = 1;
        while ((p[n] & 0x80) != 0) {
            n++;
        }
        return n;
    }

    /** Offset of the first byte after the fixed header. */
    static int body(byte[] p) {
        return 1 + lengthBytes(p);
    }

    static String utf8Hex(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return String.format("%04x ", b.length) + toHex(b);
    }

    /**
     * 3.1.1 CONNECT, Clean Session 1, keep-alive 60, then the CONNACK {@code 20 02 00 00}:
     * {@code 10 LL | 00 04 'MQTT' | 04 | 02 | 00 3c | 00 NN <client id>}.
     */
    static void connectV311(RawClient raw, String clientId) throws IOException {
        raw.sendHex(String.format("10 %02x 00 04 4d 51 54 54 04 02 00 3c ", 12 + clientId.length()) + utf8Hex(clientId));
        byte[] connack = raw.readPacket();
        assertEquals("20 02 00 00", toHex(connack), "CONNACK accepting the 3.1.1 client");
    }

    /**
     * 5.0 CONNECT, Clean Start 1, keep-alive 60, no properties, then a CONNACK with reason 0x00:
     * {@code 10 LL | 00 04 'MQTT' | 05 | 02 | 00 3c | 00 | 00 NN <client id>}. Returns the CONNACK.
     */
    static byte[] connectV5(RawClient raw, String clientId) throws IOException {
        raw.sendHex(String.format("10 %02x 00 04 4d 51 54 54 05 02 00 3c 00 ", 13 + clientId.length()) + utf8Hex(clientId));
        byte[] connack = raw.readPacket();
        assertNotNull(connack, "no CONNACK");
        assertEquals(0x20, connack[0] & 0xFF, "CONNACK expected: " + toHex(connack));
        assertEquals(0x00, connack[body(connack) + 1] & 0xFF, "CONNACK reason code: " + toHex(connack));
        return connack;
    }

    /** The next packet is a 5.0 DISCONNECT with this reason code, and then the broker closes. */
    static void assertDisconnect(RawClient raw, int reasonCode) throws IOException {
        byte[] p;
        try {
            p = raw.readPacket();
        } catch (SocketTimeoutException e) {
            fail(String.format("expected DISCONNECT 0x%02X, but the broker sent nothing and kept the connection open", reasonCode));
            return;
        } catch (IOException e) {
            fail(String.format("expected DISCONNECT 0x%02X, but the connection was reset: %s", reasonCode, e));
            return;
        }
        assertNotNull(p, String.format("expected DISCONNECT 0x%02X, but the connection was closed without it", reasonCode));
        assertEquals(0xE0, p[0] & 0xFF, String.format("expected DISCONNECT 0x%02X, got %s", reasonCode, toHex(p)));
        assertTrue(p.length > body(p), "DISCONNECT without a reason code: " + toHex(p));
        assertEquals(reasonCode, p[body(p)] & 0xFF, "DISCONNECT reason code in " + toHex(p));
        assertClosedSilently(raw, "after the DISCONNECT");
    }

    /** The broker closes the connection without sending (any more) packets. */
    static void assertClosedSilently(RawClient raw, String what) throws IOException {
        byte[] p;
        try {
            p = raw.readPacket();
        } catch (SocketTimeoutException e) {
            fail(what + ": expected the broker to close the connection, but it is still open after 5 s");
            return;
        } catch (IOException e) {
            // A reset is not a clean close: the client may have lost what the broker sent last (issue 9).
            fail(what + ": expected the broker to close the connection (FIN), but it was reset: " + e);
            return;
        }
        assertNull(p, what + ": expected the connection closed without a packet, but got " + toHex(p));
    }

    /** A CONNACK with this reason/return code (byte after the acknowledge flags), then close. */
    static void assertConnAckThenClosed(RawClient raw, int code) throws IOException {
        byte[] p;
        try {
            p = raw.readPacket();
        } catch (SocketTimeoutException e) {
            fail(String.format("expected CONNACK 0x%02X, but the broker sent nothing and kept the connection open", code));
            return;
        }
        assertNotNull(p, String.format("expected CONNACK 0x%02X, but the connection was closed without it", code));
        assertEquals(0x20, p[0] & 0xFF, "expected CONNACK, got " + toHex(p));
        assertEquals(0x00, p[body(p)] & 0xFF, "Session Present must be 0 on a refused CONNACK: " + toHex(p));
        assertEquals(code, p[body(p) + 1] & 0xFF, "CONNACK code in " + toHex(p));
        assertClosedSilently(raw, "after the refusing CONNACK");
    }

    // =========================================================================================
    // malformed packets: fields cut off by the Remaining Length, bytes left over
    // =========================================================================================

    @Test
    void v5TopicLengthRunningPastThePacketIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "mal-trunc-v5");
            // 2.1.4 / 1.5.4: the topic's length prefix says 10 bytes, but only 3 follow before the end
            // of the Remaining Length (5): a field that does not fit is a Malformed Packet.
            //           PUBLISH RL=5 | len=10 | 'a/b'
            raw.sendHex("30 05       00 0a    61 2f 62");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SubscribeEndingInsideTheTopicFilterIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "mal-trunc-v3");
            // 3.1.1 2.2.3 / 1.5.3: the filter's length prefix says 5 bytes, the packet ends right after it.
            //           SUBSCRIBE RL=4 | id=1 | len=5 | (nothing)
            raw.sendHex("82 04         00 01  00 05");
            assertClosedSilently(raw, "3.1.1 truncated SUBSCRIBE");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5PingreqWithAPayloadByteIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "mal-leftover-v5");
            // 3.12: PINGREQ has no Variable Header and no Payload; a leftover byte is a Malformed Packet.
            raw.sendHex("c0 01 00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311PubackWithALeftoverByteIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "mal-leftover-v3");
            // 3.1.1 3.4: PUBACK has Remaining Length 2 (the packet identifier) and no payload.
            //           PUBACK RL=3 | id=1 | extra byte
            raw.sendHex("40 03      00 01   00");
            assertClosedSilently(raw, "3.1.1 PUBACK with leftover byte");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // reserved fixed-header flag bits
    // =========================================================================================

    @Test
    void v5PubrelWithFlags0IsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "flags-pubrel-v5");
            // [MQTT-3.6.1-1] PUBREL fixed header bits 3..0 MUST be 0010; [MQTT-2.1.3-1] otherwise Malformed.
            raw.sendHex("60 02 00 01");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SubscribeWithFlags0IsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "flags-sub-v3");
            // 3.1.1 [MQTT-3.8.1-1] SUBSCRIBE fixed header bits 3..0 MUST be 0010, else close the connection.
            //           SUBSCRIBE(flags 0) RL=8 | id=1 | 'a/b' | QoS 0
            raw.sendHex("80 08                    00 01  00 03 61 2f 62 00");
            assertClosedSilently(raw, "3.1.1 SUBSCRIBE with flags 0");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5PingreqWithFlags1IsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "flags-ping-v5");
            // [MQTT-2.1.3-1] PINGREQ flag bits are reserved and MUST be 0000; otherwise Malformed Packet.
            raw.sendHex("c1 00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311PingreqWithFlags1ClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "flags-ping-v3");
            // 3.1.1 [MQTT-2.2.2-2] invalid reserved flags: the receiver MUST close the Network Connection.
            raw.sendHex("c1 00");
            assertClosedSilently(raw, "3.1.1 PINGREQ with flags 1");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // Remaining Length of more than four bytes
    // =========================================================================================

    @Test
    void v5RemainingLengthOfFiveBytesIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "rl5-v5");
            // 1.5.5 / 2.1.4: the Remaining Length is a Variable Byte Integer of at most 4 bytes; a fourth
            // byte with the continuation bit set makes it Malformed (not "too large": it has no value).
            raw.sendHex("30 ff ff ff ff 7f");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311RemainingLengthOfFiveBytesClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "rl5-v3");
            // 3.1.1 2.2.3: the Remaining Length is at most four bytes.
            raw.sendHex("30 ff ff ff ff 7f");
            assertClosedSilently(raw, "3.1.1 five-byte Remaining Length");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // UTF-8
    // =========================================================================================

    @Test
    void v5InvalidUtf8InTopicIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "utf8-topic-v5");
            // [MQTT-1.5.4-1] UTF-8 Encoded Strings MUST be well-formed: 0xFF never appears in UTF-8.
            //           PUBLISH RL=6 | 'a' 0xFF 'b' | no properties
            raw.sendHex("30 06       00 03 61 ff 62   00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5OverlongUtf8InTopicIsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "utf8-overlong-v5");
            // [MQTT-1.5.4-1] C0 AF is an overlong encoding of '/', which is not well-formed UTF-8.
            //           PUBLISH RL=7 | 'a' C0 AF 'b' | no properties
            raw.sendHex("30 07       00 04 61 c0 af 62   00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SurrogateInTopicClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "utf8-topic-v3");
            // 3.1.1 [MQTT-1.5.3-1] ED A0 80 encodes the surrogate U+D800, which MUST NOT appear: close.
            //           PUBLISH RL=5 | U+D800
            raw.sendHex("30 05       00 03 ed a0 80");
            assertClosedSilently(raw, "3.1.1 surrogate in topic");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311NulInClientIdClosesWithoutConnAck() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.1 [MQTT-1.5.3-2] a UTF-8 string MUST NOT include U+0000; [MQTT-3.1.4-1] a CONNECT that does
            // not conform is answered by closing the connection without a CONNACK.
            //           CONNECT RL=15 | 'MQTT' level 4 | clean | ka 60 | client id "a\0b"
            raw.sendHex("10 0f       00 04 4d 51 54 54 04 02 00 3c 00 03 61 00 62");
            assertClosedSilently(raw, "3.1.1 CONNECT with U+0000 in the client id");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5NulInClientIdIsRefusedWithConnAck0x81() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // [MQTT-1.5.4-2] a UTF-8 string MUST NOT include U+0000: Malformed Packet. For a bad CONNECT the
            // server may answer CONNACK with the reason code before closing [MQTT-4.13.1-1]; Starling's
            // decoder records the version before the client id precisely so that it can (PacketDecoder.version()).
            //           CONNECT RL=16 | 'MQTT' level 5 | clean | ka 60 | no props | client id "a\0b"
            raw.sendHex("10 10       00 04 4d 51 54 54 05 02 00 3c 00 00 03 61 00 62");
            assertConnAckThenClosed(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // packet order: before CONNECT, a second CONNECT
    // =========================================================================================

    @Test
    void publishBeforeConnectClosesTheConnection() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // [MQTT-3.1.0-1] the first packet from the client MUST be CONNECT; nothing is routed, nothing answered.
            //           PUBLISH RL=5 | 'a/b'
            raw.sendHex("30 05       00 03 61 2f 62");
            assertClosedSilently(raw, "PUBLISH before CONNECT");
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void pingreqBeforeConnectGetsNoPingresp() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // [MQTT-3.1.0-1] the first packet MUST be CONNECT: no PINGRESP, just close.
            raw.sendHex("c0 00");
            assertClosedSilently(raw, "PINGREQ before CONNECT");
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5SecondConnectIsAProtocolError() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "second-connect-v5");
            // [MQTT-3.1.0-2] a second CONNECT is a Protocol Error: DISCONNECT 0x82.
            //           CONNECT RL=30 | 'MQTT' level 5 | clean | ka 60 | no props | the same client id again
            raw.sendHex("10 1e       00 04 4d 51 54 54 05 02 00 3c 00 " + utf8Hex("second-connect-v5"));
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5SecondConnectWithAnUnknownProtocolIsAProtocolErrorNotACodeOnlyConnackHas() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "second-connect-level");
            // A second CONNECT whose protocol name is empty: the decoder's rule is 0x84 (Unsupported
            // Protocol Version), a CONNACK code; DISCONNECT may only carry its own [MQTT-3.14.2-1],
            // and once connected any CONNECT is a Protocol Error [MQTT-3.1.0-2]: DISCONNECT 0x82.
            //           CONNECT RL=9 | name '' | level 5 | clean | ka 60 | no props | id ''
            raw.sendHex("10 09       00 00 05 02 00 3c 00 00 00");
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SecondConnectClosesTheConnection() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "second-connect-v3");
            // 3.1.1 [MQTT-3.1.0-2] a second CONNECT is a protocol violation: disconnect.
            //           CONNECT RL=29 | 'MQTT' level 4 | clean | ka 60 | the same client id again
            raw.sendHex("10 1d       00 04 4d 51 54 54 04 02 00 3c " + utf8Hex("second-connect-v3"));
            assertClosedSilently(raw, "3.1.1 second CONNECT");
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // topics and filters
    // =========================================================================================

    @Test
    void v5WildcardInPublishTopicIsTopicNameInvalid() throws Exception {
        double before = errors("topic_name_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "wild-pub-v5");
            // [MQTT-3.3.2-2] the Topic Name in PUBLISH MUST NOT contain wildcards. The packet parses, so it is
            // not Malformed; the specific 5.0 code is 0x90 Topic Name invalid, which Starling also uses for
            // every other rejected topic name (Channel.onPublish).
            //           PUBLISH RL=6 | 'a/+' | no properties
            raw.sendHex("30 06       00 03 61 2f 2b   00");
            assertDisconnect(raw, 0x90);
        }
        assertCounted("topic_name_invalid", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311WildcardInPublishTopicClosesTheConnection() throws Exception {
        double before = errors("protocol_error") + errors("topic_name_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "wild-pub-v3");
            // 3.1.1 [MQTT-3.3.2-2] no wildcards in a PUBLISH Topic Name; nothing is routed to the bystander.
            //           PUBLISH RL=5 | 'a/#'
            raw.sendHex("30 05       00 03 61 2f 23");
            assertClosedSilently(raw, "3.1.1 PUBLISH with wildcard topic");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (errors("protocol_error") + errors("topic_name_invalid") < before + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before + 1, errors("protocol_error") + errors("topic_name_invalid"),
                "starling_protocol_errors for the wildcard topic");
        assertBystanderUndisturbed();
    }

    @Test
    void v5InvalidSubscriptionFiltersGetSubAck0x8FAndTheConnectionStaysUp() throws Exception {
        double before = errors("topic_filter_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "bad-filter-v5");
            // [MQTT-4.7.1-1] '#' MUST be the last character; [MQTT-4.7.1-2] '+' MUST occupy a whole level.
            // 3.9.3: each bad filter gets 0x8F Topic Filter invalid; the others are granted. Not a reason to close.
            //           SUBSCRIBE RL=23 | id=1 | no props | 'a/#/b' QoS1 | 'a+' QoS1 | 'ok/+' QoS1
            raw.sendHex("82 17         00 01  00         00 05 61 2f 23 2f 62 01  00 02 61 2b 01  00 04 6f 6b 2f 2b 01");
            //                       SUBACK RL=6 | id=1 | no props | 8F 8F 01
            assertEquals("90 06 00 01 00 8f 8f 01", toHex(raw.readPacket()));
            raw.sendHex("c0 00");
            assertEquals("d0 00", toHex(raw.readPacket()), "connection must stay up after a SUBACK with failures");
        }
        assertCounted("topic_filter_invalid", before, 2);
        assertBystanderUndisturbed();
    }

    @Test
    void v311InvalidSubscriptionFiltersGetSubAck0x80AndTheConnectionStaysUp() throws Exception {
        double before = errors("topic_filter_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "bad-filter-v3");
            // 3.1.1 [MQTT-4.7.1-2] '#' last, [MQTT-4.7.1-3] '+' a whole level; 3.9.3 return code 0x80 Failure.
            //           SUBSCRIBE RL=22 | id=1 | 'a/#/b' QoS1 | 'a+' QoS1 | 'ok/+' QoS1
            raw.sendHex("82 16         00 01  00 05 61 2f 23 2f 62 01  00 02 61 2b 01  00 04 6f 6b 2f 2b 01");
            assertEquals("90 05 00 01 80 80 01", toHex(raw.readPacket()));
            raw.sendHex("c0 00");
            assertEquals("d0 00", toHex(raw.readPacket()), "connection must stay up after a SUBACK with failures");
        }
        assertCounted("topic_filter_invalid", before, 2);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // packet identifiers
    // =========================================================================================

    @Test
    void v5PublishQos1WithPacketId0IsAProtocolError() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "pid0-v5");
            // [MQTT-2.2.1-3] a QoS > 0 PUBLISH MUST carry a non-zero Packet Identifier.
            //           PUBLISH QoS1 RL=8 | 'a/b' | id=0 | no properties
            raw.sendHex("32 08            00 03 61 2f 62  00 00  00");
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SubscribeWithPacketId0ClosesTheConnection() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "pid0-v3");
            // 3.1.1 [MQTT-2.3.1-1] SUBSCRIBE MUST carry a non-zero Packet Identifier.
            //           SUBSCRIBE RL=8 | id=0 | 'a/b' QoS 0
            raw.sendHex("82 08         00 00  00 03 61 2f 62 00");
            assertClosedSilently(raw, "3.1.1 SUBSCRIBE with packet id 0");
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // Maximum Packet Size (1024 here)
    // =========================================================================================

    @Test
    void v5PacketOverMaximumSizeIsRefusedBeforeItsBodyArrives() throws Exception {
        double before = errors("packet_too_large");
        try (RawClient raw = RawClient.connect(broker.port())) {
            byte[] connack = connectV5(raw, "too-large-v5");
            // 3.2.2.3.6: the server tells the client its Maximum Packet Size (property 0x27 = 1024).
            assertTrue(toHex(connack).contains("27 00 00 04 00"),
                    "CONNACK should carry Maximum Packet Size 1024: " + toHex(connack));
            // [MQTT-3.2.2-15] the client MUST NOT exceed it; the server disconnects with 0x95 Packet too large.
            // Only the fixed header (Remaining Length 2000 = d0 0f) and the topic are sent: the broker must
            // answer from the header, without waiting for the other ~1990 bytes.
            raw.sendHex("30 d0 0f   00 03 61 2f 62");
            assertDisconnect(raw, 0x95);
        }
        assertCounted("packet_too_large", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311PacketOverMaximumSizeClosesBeforeItsBodyArrives() throws Exception {
        double before = errors("packet_too_large");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "too-large-v3");
            // Same as above for 3.1.1, which has no DISCONNECT from the server: just close.
            raw.sendHex("30 d0 0f   00 03 61 2f 62");
            assertClosedSilently(raw, "3.1.1 PUBLISH over the maximum packet size");
        }
        assertCounted("packet_too_large", before);
        assertBystanderUndisturbed();
    }

    @Test
    void packetOfExactlyTheMaximumSizeIsAccepted() throws Exception {
        double before = errors("packet_too_large");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "max-size-v3");
            // The limit is on the whole packet: 1 + 2 (Remaining Length fd 07 = 1021) + 1021 = 1024 bytes.
            // PUBLISH QoS 0 | 'bystander/big' (2 + 13) | payload of 1006 'x'
            byte[] payload = new byte[1021 - 15];
            Arrays.fill(payload, (byte) 'x');
            raw.sendHex("30 fd 07 " + utf8Hex("bystander/big") + " " + toHex(payload));
            String got = awaitMessage("bystander/big", 5);
            assertNotNull(got, "a packet of exactly mqtt.max-packet-size bytes must be accepted and routed");
            assertEquals(1006, got.length());
            raw.sendHex("c0 00");
            assertEquals("d0 00", toHex(raw.readPacket()));
        }
        assertEquals(before, errors("packet_too_large"));
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // packet types: reserved 0, AUTH
    // =========================================================================================

    @Test
    void v5ReservedPacketType0IsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "type0-v5");
            // 2.1.2: control packet type 0 is Reserved (Forbidden).
            raw.sendHex("00 00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311ReservedPacketType0ClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "type0-v3");
            // 3.1.1 2.2.1: type 0 is Reserved (Forbidden).
            raw.sendHex("00 00");
            assertClosedSilently(raw, "3.1.1 packet type 0");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311AuthPacketClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "auth-v3");
            // 3.1.1 2.2.1: type 15 is Reserved (Forbidden) before 5.0.
            raw.sendHex("f0 00");
            assertClosedSilently(raw, "3.1.1 AUTH (type 15)");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5AuthWithoutAuthenticationMethodIsAProtocolError() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "auth-v5");
            // 4.12 / 3.15: a client that sent no Authentication Method in CONNECT must not send AUTH: Protocol Error.
            raw.sendHex("f0 00");
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // topic aliases (Topic Alias Maximum 10)
    // =========================================================================================

    @Test
    void v5TopicAlias0IsInvalid() throws Exception {
        double before = errors("topic_alias_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            byte[] connack = connectV5(raw, "alias0-v5");
            assertTrue(toHex(connack).contains("22 00 0a"), "CONNACK should carry Topic Alias Maximum 10: " + toHex(connack));
            // [MQTT-3.3.2-8] a Topic Alias of 0 is a Protocol Error; the specific code is 0x94 Topic Alias invalid.
            //           PUBLISH RL=9 | 'a/b' | props len 3: Topic Alias (0x23) = 0
            raw.sendHex("30 09       00 03 61 2f 62   03 23 00 00");
            assertDisconnect(raw, 0x94);
        }
        assertCounted("topic_alias_invalid", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5TopicAliasAboveMaximumIsInvalid() throws Exception {
        double before = errors("topic_alias_invalid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "alias11-v5");
            // [MQTT-3.3.2-9] the client MUST NOT send a Topic Alias greater than the server's Topic Alias Maximum (10).
            //           PUBLISH RL=9 | 'a/b' | props len 3: Topic Alias (0x23) = 11
            raw.sendHex("30 09       00 03 61 2f 62   03 23 00 0b");
            assertDisconnect(raw, 0x94);
        }
        assertCounted("topic_alias_invalid", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5TopicAliasUsedBeforeItIsSetIsAProtocolError() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "alias-unset-v5");
            // 3.3.2.3.4: an empty Topic Name with an alias that has no mapping is a Protocol Error.
            //           PUBLISH RL=6 | '' | props len 3: Topic Alias = 1
            raw.sendHex("30 06       00 00   03 23 00 01");
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // PUBLISH flags: QoS 3, DUP with QoS 0
    // =========================================================================================

    @Test
    void v5PublishWithQos3IsMalformed() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "qos3-v5");
            // [MQTT-3.3.1-4] a PUBLISH MUST NOT have both QoS bits set: Malformed Packet.
            //           PUBLISH QoS3 RL=8 | 'a/b' | id=1 | no properties
            raw.sendHex("36 08            00 03 61 2f 62  00 01  00");
            assertDisconnect(raw, 0x81);
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311PublishWithQos3ClosesTheConnection() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "qos3-v3");
            // 3.1.1 [MQTT-3.3.1-4] QoS 3: close the Network Connection.
            //           PUBLISH QoS3 RL=7 | 'a/b' | id=1
            raw.sendHex("36 07            00 03 61 2f 62  00 01");
            assertClosedSilently(raw, "3.1.1 PUBLISH QoS 3");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5PublishQos0WithDupIsAProtocolError() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV5(raw, "dup0-v5");
            // [MQTT-3.3.1-2] DUP MUST be 0 for QoS 0 messages.
            //           PUBLISH DUP QoS0 RL=6 | 'a/b' | no properties
            raw.sendHex("38 06                00 03 61 2f 62  00");
            assertDisconnect(raw, 0x82);
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311PublishQos0WithDupClosesTheConnection() throws Exception {
        double before = errors("protocol_error");
        try (RawClient raw = RawClient.connect(broker.port())) {
            connectV311(raw, "dup0-v3");
            // 3.1.1 [MQTT-3.3.1-2] DUP MUST be 0 for QoS 0 messages.
            raw.sendHex("38 05                00 03 61 2f 62");
            assertClosedSilently(raw, "3.1.1 PUBLISH QoS 0 with DUP");
        }
        assertCounted("protocol_error", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // CONNECT refused with a CONNACK code
    // =========================================================================================

    @Test
    void unsupportedProtocolLevelGetsConnAckReturnCode1() throws Exception {
        double before = errors("unsupported_protocol_version");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.1 [MQTT-3.1.2-2] an unsupported Protocol Level is answered with CONNACK return code 0x01
            // (unacceptable protocol version) in the 3.1.1 format, then the connection is closed.
            //           CONNECT RL=12 | 'MQTT' level 7 | clean | ka 60 | client id ""
            raw.sendHex("10 0c       00 04 4d 51 54 54 07 02 00 3c 00 00");
            byte[] p = raw.readPacket();
            assertEquals("20 02 00 01", toHex(p));
            assertClosedSilently(raw, "after CONNACK 1");
        }
        assertCounted("unsupported_protocol_version", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v5AuthenticationMethodGetsConnAck0x8C() throws Exception {
        double before = authFailures("bad_authentication_method");
        double protocolErrorsBefore = broker.broker().services().metrics().protocolErrorsTotal();
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.2.11.9 / 4.12: Starling supports no enhanced authentication: CONNACK 0x8C Bad authentication method.
            //           CONNECT RL=29 | 'MQTT' level 5 | clean | ka 60 | props len 14: Authentication Method
            //           (0x15) 'SCRAM-SHA-1' | client id 'am'
            raw.sendHex("10 1d       00 04 4d 51 54 54 05 02 00 3c"
                    + " 0e 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31   00 02 61 6d");
            assertConnAckThenClosed(raw, 0x8C);
        }
        // A refusal for who the client is counts as an authentication failure, not a protocol error.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (authFailures("bad_authentication_method") < before + 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(before + 1, authFailures("bad_authentication_method"),
                "starling_auth_failures{reason=bad_authentication_method}");
        assertEquals(protocolErrorsBefore, broker.broker().services().metrics().protocolErrorsTotal());
        assertBystanderUndisturbed();
    }

    @Test
    void v311EmptyClientIdWithoutCleanSessionGetsConnAckReturnCode2() throws Exception {
        double before = errors("client_identifier_not_valid");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.1 [MQTT-3.1.3-8] an empty client id with Clean Session 0: CONNACK 0x02 (identifier rejected), close.
            //           CONNECT RL=12 | 'MQTT' level 4 | flags 00 | ka 60 | client id ""
            raw.sendHex("10 0c       00 04 4d 51 54 54 04 00 00 3c 00 00");
            byte[] p = raw.readPacket();
            assertEquals("20 02 00 02", toHex(p));
            assertClosedSilently(raw, "after CONNACK 2");
        }
        assertCounted("client_identifier_not_valid", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311ReservedConnectFlagClosesWithoutConnAck() throws Exception {
        double before = errors("malformed_packet");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.1 [MQTT-3.1.2-3] the reserved CONNECT flag MUST be 0, else disconnect; [MQTT-3.1.4-1] no CONNACK.
            //           CONNECT RL=13 | 'MQTT' level 4 | flags 03 | ka 60 | client id 'r'
            raw.sendHex("10 0d       00 04 4d 51 54 54 04 03 00 3c 00 01 72");
            assertClosedSilently(raw, "3.1.1 CONNECT with the reserved flag");
        }
        assertCounted("malformed_packet", before);
        assertBystanderUndisturbed();
    }

    // =========================================================================================
    // keep-alive
    // =========================================================================================

    @Test
    void v5SilentClientIsDisconnectedAfterOneAndAHalfKeepAlivesAndItsWillIsPublished() throws Exception {
        double before = errors("keep_alive_timeout");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // CONNECT RL=33 | 'MQTT' level 5 | flags 0e (clean, will, will QoS 1) | keep-alive 1 | no props
            //         | client id 'ka5' | no will props | will topic 'will/ka5' | will payload 'gone'
            long start = System.nanoTime(); // the broker's keep-alive clock starts at the CONNECT
            raw.sendHex("10 21 00 04 4d 51 54 54 05 0e 00 01 00   00 03 6b 61 35"
                    + "   00   00 08 77 69 6c 6c 2f 6b 61 35   00 04 67 6f 6e 65");
            byte[] connack = raw.readPacket();
            assertNotNull(connack);
            assertEquals(0x00, connack[body(connack) + 1] & 0xFF, toHex(connack));
            // [MQTT-3.1.2-22] nothing received for 1.5 x keep-alive: the server MUST close; 5.0: DISCONNECT 0x8D.
            assertDisconnect(raw, 0x8D);
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds >= 1.4 && seconds <= 3.0, "disconnected after " + seconds + " s, expected about 1.5 s");
        }
        // [MQTT-3.1.2-8] the will is published when the server closes the connection for a keep-alive timeout.
        assertEquals("gone", awaitMessage("will/ka5", 5), "will of the timed-out client");
        assertCounted("keep_alive_timeout", before);
        assertBystanderUndisturbed();
    }

    @Test
    void v311SilentClientIsClosedAfterOneAndAHalfKeepAlivesAndItsWillIsPublished() throws Exception {
        double before = errors("keep_alive_timeout");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // CONNECT RL=31 | 'MQTT' level 4 | flags 0e (clean, will, will QoS 1) | keep-alive 1
            //         | client id 'ka3' | will topic 'will/ka3' | will payload 'gone'
            long start = System.nanoTime(); // the broker's keep-alive clock starts at the CONNECT
            raw.sendHex("10 1f 00 04 4d 51 54 54 04 0e 00 01   00 03 6b 61 33"
                    + "   00 08 77 69 6c 6c 2f 6b 61 33   00 04 67 6f 6e 65");
            assertEquals("20 02 00 00", toHex(raw.readPacket()));
            // 3.1.1 [MQTT-3.1.2-24] nothing received for 1.5 x keep-alive: disconnect, as if the network failed.
            assertClosedSilently(raw, "3.1.1 keep-alive timeout");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertTrue(seconds >= 1.4 && seconds <= 3.0, "closed after " + seconds + " s, expected about 1.5 s");
        }
        assertEquals("gone", awaitMessage("will/ka3", 5), "will of the timed-out client");
        assertCounted("keep_alive_timeout", before);
        assertBystanderUndisturbed();
    }

    @Test
    void pingreqKeepsAKeepAlive1ClientConnected() throws Exception {
        double before = errors("keep_alive_timeout");
        try (RawClient raw = RawClient.connect(broker.port())) {
            // CONNECT RL=15 | 'MQTT' level 4 | clean | keep-alive 1 | client id 'kap'
            raw.sendHex("10 0f 00 04 4d 51 54 54 04 02 00 01 00 03 6b 61 70");
            assertEquals("20 02 00 00", toHex(raw.readPacket()));
            // 3.1.2.10: a PINGREQ every second keeps the connection within the keep-alive.
            for (int i = 0; i < 4; i++) {
                Thread.sleep(800);
                raw.sendHex("c0 00");
                assertEquals("d0 00", toHex(raw.readPacket()), "PINGRESP " + i);
            }
        }
        assertEquals(before, errors("keep_alive_timeout"));
        assertBystanderUndisturbed();
    }

    /** Guards against a typo in the hand-written CONNECTs above: their Remaining Lengths add up. */
    @Test
    void handWrittenConnectLengthsAddUp() {
        {
            byte[] v5 = RawClient.hex("10 21 00 04 4d 51 54 54 05 0e 00 01 00   00 03 6b 61 35"
                    + "   00   00 08 77 69 6c 6c 2f 6b 61 35   00 04 67 6f 6e 65");
            assertEquals(v5[1], v5.length - 2);
            byte[] v3 = RawClient.hex("10 1f 00 04 4d 51 54 54 04 0e 00 01   00 03 6b 61 33"
                    + "   00 08 77 69 6c 6c 2f 6b 61 33   00 04 67 6f 6e 65");
            assertEquals(v3[1], v3.length - 2);
            byte[] am = RawClient.hex("10 1d       00 04 4d 51 54 54 05 02 00 3c"
                    + " 0e 15 00 0b 53 43 52 41 4d 2d 53 48 41 2d 31   00 02 61 6d");
            assertEquals(am[1], am.length - 2);
            assertArrayEquals(RawClient.hex("00 02 61 6d"), RawClient.hex(utf8Hex("am")));
        }
    }
}
