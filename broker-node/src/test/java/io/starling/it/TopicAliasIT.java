package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 Topic Alias (spec 3.3.2.3.4) in both directions. The broker's Topic Alias Maximum is 10. */
class TopicAliasIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.topic-alias-maximum", 10);

    @RegisterExtension
    final Clients clients = new Clients(broker);

    static Properties alias(int a) {
        Properties p = new Properties();
        p.topicAlias = a;
        return p;
    }

    @Test
    void inboundAliasIsResolvedToTheFullTopicForSubscribers() throws Exception {
        PahoV5Client sub = clients.paho("ta-in-sub");
        sub.subscribe("ta/in/#", 1);
        RawV5Client pub = clients.raw("ta-in-pub", true, null);
        assertEquals(Integer.valueOf(10), pub.connAck().properties().topicAliasMaximum);

        pub.publish("ta/in/long/topic", 1, "sets-alias", alias(3));
        pub.expect(io.starling.protocol.Ack.class);
        pub.publish("", 1, "uses-alias", alias(3));
        pub.expect(io.starling.protocol.Ack.class);

        PahoV5Client.Received first = sub.poll(5000);
        PahoV5Client.Received second = sub.poll(5000);
        assertNotNull(first);
        assertNotNull(second, "a PUBLISH with an empty topic and a known alias must be routed");
        assertEquals("ta/in/long/topic", first.topic());
        assertEquals("sets-alias", first.text());
        assertEquals("ta/in/long/topic", second.topic(), "subscribers get the full topic, never the alias");
        assertEquals("uses-alias", second.text());
        assertNull(second.props().getTopicAlias(), "the publisher's alias is not forwarded");
    }

    @Test
    void aliasAboveTheBrokersTopicAliasMaximumIsDisconnectedWith0x94() throws Exception {
        RawV5Client pub = clients.raw("ta-too-big", true, null);
        pub.publish("ta/big", 1, "x", alias(11));
        pub.expectDisconnect(ReasonCode.TOPIC_ALIAS_INVALID);
    }

    @Test
    void outboundAliasIsAssignedToAClientThatAdvertisesTopicAliasMaximum() throws Exception {
        RawV5Client sub = clients.raw("ta-out-sub", true, p -> p.topicAliasMaximum = 5);
        sub.subscribe("ta/out/+", 0);
        PahoV5Client pub = clients.paho("ta-out-pub");
        pub.publish("ta/out/t", "one", 0, false);
        pub.publish("ta/out/t", "two", 0, false);
        pub.publish("ta/out/t", "three", 0, false);

        Publish p1 = sub.expect(Publish.class);
        Publish p2 = sub.expect(Publish.class);
        Publish p3 = sub.expect(Publish.class);
        assertEquals("one", RawV5Client.text(p1));
        assertEquals("ta/out/t", p1.topic(), "the first PUBLISH carries the topic with the alias");
        Integer a = p1.properties().topicAlias;
        assertNotNull(a, "a client advertising Topic Alias Maximum gets an alias");
        assertTrue(a >= 1 && a <= 5, "alias within the client's maximum [MQTT-3.3.2-9], was " + a);
        for (Publish later : List.of(p2, p3)) {
            assertEquals("", later.topic(), "later PUBLISHes on the same topic send the alias alone");
            assertEquals(a, later.properties().topicAlias);
        }
        assertEquals("two", RawV5Client.text(p2));
        assertEquals("three", RawV5Client.text(p3));
    }

    @Test
    void noOutboundAliasForAClientThatDoesNotAdvertiseTopicAliasMaximum() throws Exception {
        RawV5Client sub = clients.raw("ta-none-sub", true, null);
        sub.subscribe("ta/none/t", 0);
        PahoV5Client pub = clients.paho("ta-none-pub");
        pub.publish("ta/none/t", "one", 0, false);
        pub.publish("ta/none/t", "two", 0, false);
        for (int i = 0; i < 2; i++) {
            Publish p = sub.expect(Publish.class);
            assertEquals("ta/none/t", p.topic());
            assertNull(p.properties().topicAlias, "no alias above the client's Topic Alias Maximum of 0");
        }
    }
    @Test
    void aliasZeroIsDisconnectedWith0x94() throws Exception {
        RawV5Client pub = clients.raw("ta-zero", true, null);
        pub.publish("ta/zero", 1, "x", alias(0));
        pub.expectDisconnect(ReasonCode.TOPIC_ALIAS_INVALID); // [MQTT-3.3.2-8]
    }

    @Test
    void emptyTopicWithAnAliasNeverSetIsAProtocolError() throws Exception {
        RawV5Client pub = clients.raw("ta-unknown", true, null);
        pub.publish("", 1, "x", alias(4));
        pub.expectDisconnect(ReasonCode.PROTOCOL_ERROR); // spec 3.3.4: unknown alias mapping
    }

    @Test
    void inboundAliasesDoNotSurviveTheConnection() throws Exception {
        RawV5Client first = clients.raw("ta-conn-scope", true, null);
        first.publish("ta/scope/t", 1, "sets", alias(2));
        first.expect(io.starling.protocol.Ack.class);
        first.disconnect();
        RawV5Client second = clients.raw("ta-conn-scope", true, null);
        second.publish("", 1, "uses-old", alias(2));
        second.expectDisconnect(ReasonCode.PROTOCOL_ERROR); // [MQTT-3.3.2-10] aliases end with the connection
    }
}
