package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.starling.protocol.Connect;
import io.starling.protocol.Properties;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The byte form a session takes between nodes (takeover, adoption after a node's loss): what spec
 * 4.1 says the server keeps of a session must come back exactly, including every property a
 * PUBLISH forwards unchanged [MQTT-3.3.2-4], [MQTT-3.3.2-17..20].
 */
class SessionStateTest {
    static final String CLIENT = "client-1";

    /** A message carrying every forwarded property, user properties in a deliberate non-sorted order. */
    static Message richMessage(String topic, long seq) {
        Properties p = new Properties();
        p.payloadFormatIndicator = 1;
        p.contentType = "application/json";
        p.responseTopic = "replies/" + seq;
        p.correlationData = new byte[] {0, 1, (byte) 0xFF, (byte) seq};
        // [MQTT-3.3.2-18] user properties are forwarded in the order they came; repeated names allowed.
        p.addUserProperty("z", "1");
        p.addUserProperty("a", "2");
        p.addUserProperty("z", "3");
        return new Message(topic, ("payload-" + seq).getBytes(StandardCharsets.UTF_8), 2, true, p,
                1_900_000_000_000L + seq, "publisher-" + seq, 0);
    }

    static Message plainMessage(String topic) {
        return new Message(topic, new byte[0], 1, false, Properties.EMPTY, 0, "p", 0);
    }

    static Delivery richDelivery(long seq) {
        return new Delivery(richMessage("sensors/" + seq, seq), 1, true, new int[] {3, 268_435_455, 7},
                "$share/group/sensors/+", seq, null, Delivery.ROUTED);
    }

    static SessionState fullState() {
        List<Subscription> subs = List.of(
                new Subscription(CLIENT, TopicFilter.of("a/+/c"), 2, true, true, 2, 268_435_455),
                new Subscription(CLIENT, TopicFilter.of("$share/g/x/#"), 1, false, false, 1, 0),
                new Subscription(CLIENT, TopicFilter.of("#"), 0, false, true, 0, 42));
        List<SessionState.Inflight> inflight = List.of(
                new SessionState.Inflight(65_535, false, richDelivery(5)),
                new SessionState.Inflight(1, true, new Delivery(plainMessage("t/1"), 2, false, Delivery.NO_IDS,
                        null, 6, null, Delivery.ROUTED)));
        List<Delivery> queued = List.of(richDelivery(7),
                new Delivery(plainMessage("t/2"), 1, false, Delivery.NO_IDS, null, 8, null, Delivery.ROUTED));
        Properties willProps = new Properties();
        willProps.willDelayInterval = 30L;
        willProps.messageExpiryInterval = 600L;
        willProps.payloadFormatIndicator = 1;
        willProps.contentType = "text/plain";
        willProps.responseTopic = "will/replies";
        willProps.correlationData = new byte[] {9, 8, 7};
        willProps.addUserProperty("why", "lost");
        willProps.addUserProperty("again", "x");
        Connect.Will will = new Connect.Will("clients/client-1/status", "gone".getBytes(StandardCharsets.UTF_8), 1,
                true, willProps);
        return new SessionState(3600, subs, inflight, queued, List.of(new SessionState.Inbound(1, 77L, true),
                new SessionState.Inbound(300, -5L, false), new SessionState.Inbound(65_535, Long.MAX_VALUE, true)), will,
                List.of(11L, -12L));
    }

    @Test
    void everyPartOfASessionSurvivesTheRoundTrip() {
        SessionState in = fullState();
        SessionState out = SessionState.decode(CLIENT, in.encode());

        assertEquals(3600, out.expirySeconds());
        // Subscription is a record of value types, so equality covers filter and every option (3.8.3.1).
        assertEquals(in.subscriptions(), out.subscriptions());
        assertEquals(in.inboundQos2(), out.inboundQos2(), "[MQTT-4.3.3-10] QoS 2 ids not yet released");
        assertEquals(in.completed(), out.completed(), "ids of messages completed lately");

        assertEquals(in.inflight().size(), out.inflight().size());
        for (int i = 0; i < in.inflight().size(); i++) {
            SessionState.Inflight a = in.inflight().get(i);
            SessionState.Inflight b = out.inflight().get(i);
            // [MQTT-4.4.0-1] a resend reuses the packet identifier; a released one resends PUBREL, not PUBLISH.
            assertEquals(a.packetId(), b.packetId());
            assertEquals(a.released(), b.released());
            assertDeliveryEquals(a.delivery(), b.delivery());
        }
        assertEquals(in.queued().size(), out.queued().size());
        for (int i = 0; i < in.queued().size(); i++) {
            assertDeliveryEquals(in.queued().get(i), out.queued().get(i));
        }
        assertWillEquals(in.will(), out.will());
    }

    @Test
    void subscriptionsBelongToTheDecodingClient() {
        // The client id is not in the bytes: the key the state is stored under supplies it.
        SessionState out = SessionState.decode("other", fullState().encode());
        out.subscriptions().forEach(s -> assertEquals("other", s.clientId()));
    }

    @Test
    void willDelayAndMessageExpiryAreKeptSeparatelyFromTheMessage() {
        // A Message carries neither (its expiry is an absolute time); the will needs both intervals
        // unchanged: [MQTT-3.1.3-9] the delay, and the expiry as sent when the will is published.
        SessionState out = SessionState.decode(CLIENT, fullState().encode());
        assertEquals(30L, out.will().properties().willDelayInterval);
        assertEquals(600L, out.will().properties().messageExpiryInterval);
    }

    @Test
    void aWillWithoutPropertiesComesBackWithoutDelayOrExpiry() {
        Connect.Will will = new Connect.Will("w", new byte[] {1}, 0, false, null);
        SessionState in = new SessionState(0, List.of(), List.of(), List.of(), List.of(), will);
        SessionState out = SessionState.decode(CLIENT, in.encode());
        assertEquals("w", out.will().topic());
        assertNull(out.will().properties().willDelayInterval, "absent means publish at once [MQTT-3.1.3-9]");
        assertNull(out.will().properties().messageExpiryInterval, "absent means the will never expires");
        assertEquals(Properties.EMPTY, out.will().properties());
    }

    @Test
    void noWillStaysNoWill() {
        SessionState in = new SessionState(0, List.of(), List.of(), List.of(), List.of(), null);
        SessionState out = SessionState.decode(CLIENT, in.encode());
        assertNull(out.will());
        assertEquals(List.of(), out.subscriptions());
        assertEquals(List.of(), out.inflight());
        assertEquals(List.of(), out.queued());
        assertEquals(List.of(), out.inboundQos2());
    }

    @Test
    void withWillReplacesOnlyTheWill() {
        SessionState in = fullState();
        SessionState cleared = in.withWill(null);
        assertNull(cleared.will());
        assertEquals(in.subscriptions(), cleared.subscriptions());
        assertEquals(in.expirySeconds(), cleared.expirySeconds());
    }

    @Test
    void anUnknownFormatIsRefused() {
        // The first byte is the format version: a node must not misread another version's bytes.
        byte[] bytes = fullState().encode();
        bytes[0] = 9;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SessionState.decode(CLIENT, bytes));
        assertEquals("unknown session format 9", e.getMessage());
    }

    static void assertDeliveryEquals(Delivery expected, Delivery actual) {
        assertMessageEquals(expected.message(), actual.message());
        assertEquals(expected.qos(), actual.qos());
        assertEquals(expected.retain(), actual.retain());
        // [MQTT-3.3.4-3] every matching Subscription Identifier is sent, so all of them must survive.
        assertArrayEquals(expected.subscriptionIds(), actual.subscriptionIds());
        assertEquals(expected.sharedFilter(), actual.sharedFilter());
        assertEquals(expected.seq(), actual.seq());
        assertNull(actual.acceptance(), "a publisher's acknowledgement does not travel with the session");
    }

    static void assertMessageEquals(Message expected, Message actual) {
        assertEquals(expected.topic(), actual.topic());
        assertArrayEquals(expected.payload(), actual.payload());
        assertEquals(expected.qos(), actual.qos());
        assertEquals(expected.retain(), actual.retain());
        assertEquals(expected.expiresAtMillis(), actual.expiresAtMillis());
        assertEquals(expected.publisherId(), actual.publisherId(), "No Local needs the publisher [MQTT-3.8.3-3]");
        // Properties.equals compares byte arrays by content; the list comparison checks user property order.
        assertEquals(expected.properties(), actual.properties());
        assertEquals(expected.properties().userPropertiesOrEmpty(), actual.properties().userPropertiesOrEmpty());
        // receivedNanos is deliberately not compared: it is this JVM's clock, restamped on decode.
    }

    static void assertWillEquals(Connect.Will expected, Connect.Will actual) {
        assertEquals(expected.topic(), actual.topic());
        assertArrayEquals(expected.payload(), actual.payload());
        assertEquals(expected.qos(), actual.qos());
        assertEquals(expected.retain(), actual.retain());
        assertEquals(expected.properties(), actual.properties());
        assertEquals(expected.properties().userPropertiesOrEmpty(), actual.properties().userPropertiesOrEmpty());
    }
}
