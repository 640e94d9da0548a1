package io.starling.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of {@link PropertiesCodec#decode} (spec 2.2.2) on fuzzed bytes, in every
 * property context: the Will Properties and each packet type. The only exception allowed is a
 * {@link ProtocolViolation} with a reason code the properties sections use. What is accepted must
 * <ul>
 *   <li>have consumed exactly the Property Length and its properties, and restored the packet's limit;</li>
 *   <li>hold only identifiers that table 2.2.2.2 admits in the context ({@link #ADMITTED}, copied
 *       from the specification here, not from the codec);</li>
 *   <li>keep the value rules: 0 or 1 for the byte-valued flags, no 0 where the spec calls 0 a Protocol Error;</li>
 *   <li>encode and decode back to equal properties.</li>
 * </ul>
 * Seeds: {@code PropertiesCodecFuzzTestInputs/decode/}.
 */
class PropertiesCodecFuzzTest {
    static final int MAX_CONTEXT = 15;
    static final int MAX_PREFIX = 3;

    private static final Set<Integer> VIOLATION_CODES =
            Set.of(ReasonCode.MALFORMED_PACKET, ReasonCode.PROTOCOL_ERROR, ReasonCode.TOPIC_ALIAS_INVALID);

    // Contexts as the codec numbers them: 0 the Will Properties, else the packet type value.
    private static final int WILL = 0;
    private static final int CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
            SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, DISCONNECT = 14, AUTH = 15;

    /** Table 2.2.2.2 of MQTT 5.0, by identifier: the contexts in which it may appear. */
    private static final List<Set<Integer>> ADMITTED = new ArrayList<>();

    static {
        for (int i = 0; i <= 0x2A; i++) {
            ADMITTED.add(Set.of());
        }
        admit(0x01, PUBLISH, WILL);                          // Payload Format Indicator
        admit(0x02, PUBLISH, WILL);                          // Message Expiry Interval
        admit(0x03, PUBLISH, WILL);                          // Content Type
        admit(0x08, PUBLISH, WILL);                          // Response Topic
        admit(0x09, PUBLISH, WILL);                          // Correlation Data
        admit(0x0B, PUBLISH, SUBSCRIBE);                     // Subscription Identifier
        admit(0x11, CONNECT, CONNACK, DISCONNECT);           // Session Expiry Interval
        admit(0x12, CONNACK);                                // Assigned Client Identifier
        admit(0x13, CONNACK);                                // Server Keep Alive
        admit(0x15, CONNECT, CONNACK, AUTH);                 // Authentication Method
        admit(0x16, CONNECT, CONNACK, AUTH);                 // Authentication Data
        admit(0x17, CONNECT);                                // Request Problem Information
        admit(0x18, WILL);                                   // Will Delay Interval
        admit(0x19, CONNECT);                                // Request Response Information
        admit(0x1A, CONNACK);                                // Response Information
        admit(0x1C, CONNACK, DISCONNECT);                    // Server Reference
        admit(0x1F, CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH); // Reason String
        admit(0x21, CONNECT, CONNACK);                       // Receive Maximum
        admit(0x22, CONNECT, CONNACK);                       // Topic Alias Maximum
        admit(0x23, PUBLISH);                                // Topic Alias
        admit(0x24, CONNACK);                                // Maximum QoS
        admit(0x25, CONNACK);                                // Retain Available
        admit(0x26, CONNECT, CONNACK, PUBLISH, WILL, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK,
                UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH);    // User Property
        admit(0x27, CONNECT, CONNACK);                       // Maximum Packet Size
        admit(0x28, CONNACK);                                // Wildcard Subscription Available
        admit(0x29, CONNACK);                                // Subscription Identifier Available
        admit(0x2A, CONNACK);                                // Shared Subscription Available
    }

    private static void admit(int id, Integer... contexts) {
        ADMITTED.set(id, Set.of(contexts));
    }

    @FuzzTest
    @Timeout(10)
    void decode(FuzzedDataProvider data) {
        int context = data.consumeInt(0, MAX_CONTEXT);
        int prefix = data.consumeInt(0, MAX_PREFIX);
        byte[] bytes = data.consumeRemainingAsBytes();
        int start = Math.min(prefix, bytes.length);

        // The properties start inside a packet (after its fixed part) and the packet's limit is the
        // end of the bytes: the Property Length says how much of the rest is properties.
        WireReader r = new WireReader();
        r.reset(Buffer.buffer(bytes), start, bytes.length);
        Properties p;
        try {
            p = PropertiesCodec.decode(r, context);
        } catch (ProtocolViolation v) {
            assertTrue(VIOLATION_CODES.contains(v.reasonCode()), () -> "unexpected reason code in " + v);
            assertNotNull(v.rule(), "a violation names its rule");
            return;
        }
        int[] lengthAndSize = vbi(bytes, start);
        assertNotNull(lengthAndSize, "accepted a Property Length that is not a Variable Byte Integer");
        assertEquals(start + lengthAndSize[1] + lengthAndSize[0], r.position(), "bytes consumed");
        assertEquals(bytes.length, r.limit(), "the packet's limit is restored");
        checkAdmitted(p, context);
        checkValues(p);
        roundTrip(p, context);
    }

    /** A Variable Byte Integer (1.5.5) at {@code pos}: {value, bytes}, or null. */
    private static int[] vbi(byte[] b, int pos) {
        int value = 0;
        for (int i = 0; i < 4 && pos + i < b.length; i++) {
            value |= (b[pos + i] & 0x7F) << (7 * i);
            if ((b[pos + i] & 0x80) == 0) {
                return new int[]{value, i + 1};
            }
        }
        return null;
    }

    private static void checkAdmitted(Properties p, int context) {
        for (int id : presentIds(p)) {
            assertTrue(ADMITTED.get(id).contains(context), () ->
                    String.format("2.2.2.2: property 0x%02X accepted in context %d", id, context));
        }
        // Only User Property, and Subscription Identifier in PUBLISH, may repeat (each property's section).
        if (p.subscriptionIdentifiers != null && context != PUBLISH) {
            assertEquals(1, p.subscriptionIdentifiers.size(), "3.8.2.1.2: Subscription Identifier repeated in SUBSCRIBE");
        }
    }

    private static List<Integer> presentIds(Properties p) {
        List<Integer> ids = new ArrayList<>();
        Object[] fields = {p.payloadFormatIndicator, p.messageExpiryInterval, p.contentType, p.responseTopic,
                p.correlationData, p.subscriptionIdentifiers, p.sessionExpiryInterval, p.assignedClientIdentifier,
                p.serverKeepAlive, p.authenticationMethod, p.authenticationData, p.requestProblemInformation,
                p.willDelayInterval, p.requestResponseInformation, p.responseInformation, p.serverReference,
                p.reasonString, p.receiveMaximum, p.topicAliasMaximum, p.topicAlias, p.maximumQos, p.retainAvailable,
                p.userProperties, p.maximumPacketSize, p.wildcardSubscriptionAvailable,
                p.subscriptionIdentifierAvailable, p.sharedSubscriptionAvailable};
        int[] idOf = {0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C,
                0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A};
        for (int i = 0; i < fields.length; i++) {
            if (fields[i] != null) {
                ids.add(idOf[i]);
            }
        }
        return ids;
    }

    private static void checkValues(Properties p) {
        zeroOrOne(p.payloadFormatIndicator, "3.3.2.3.2 Payload Format Indicator");
        zeroOrOne(p.requestProblemInformation, "3.1.2.11.7 Request Problem Information");
        zeroOrOne(p.requestResponseInformation, "3.1.2.11.6 Request Response Information");
        zeroOrOne(p.maximumQos, "3.2.2.3.4 Maximum QoS");
        zeroOrOne(p.retainAvailable, "3.2.2.3.5 Retain Available");
        zeroOrOne(p.wildcardSubscriptionAvailable, "3.2.2.3.11 Wildcard Subscription Available");
        zeroOrOne(p.subscriptionIdentifierAvailable, "3.2.2.3.12 Subscription Identifiers Available");
        zeroOrOne(p.sharedSubscriptionAvailable, "3.2.2.3.13 Shared Subscription Available");
        assertFalse(p.receiveMaximum != null && p.receiveMaximum == 0, "3.1.2.11.3 Receive Maximum 0");
        assertFalse(p.maximumPacketSize != null && p.maximumPacketSize == 0, "3.1.2.11.4 Maximum Packet Size 0");
        assertFalse(p.topicAlias != null && p.topicAlias == 0, "[MQTT-3.3.2-8] Topic Alias 0");
        if (p.subscriptionIdentifiers != null) {
            for (int id : p.subscriptionIdentifiers) {
                assertTrue(id >= 1 && id <= 268_435_455, () -> "3.3.2.3.8 Subscription Identifier " + id);
            }
        }
    }

    private static void zeroOrOne(Integer v, String what) {
        assertTrue(v == null || v == 0 || v == 1, () -> what + " is " + v);
    }

    private static void roundTrip(Properties p, int context) {
        int length = PropertiesCodec.length(p, context);
        Buffer out = Buffer.buffer();
        PropertiesCodec.encode(out, p, context, length);
        WireReader again = new WireReader();
        again.reset(out, 0, out.length());
        Properties back;
        try {
            back = PropertiesCodec.decode(again, context);
        } catch (ProtocolViolation v) {
            throw new AssertionError("re-encoded properties rejected: " + v + " for " + p, v);
        }
        assertEquals(out.length(), again.position(), "re-encoded properties consumed whole");
        assertEquals(p, back, () -> "properties after encode and decode in context " + context);
    }
}
