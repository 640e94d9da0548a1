package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 subscription options (spec 3.8.3.1), Subscription Identifiers (3.8.2.1.2) and UNSUBACK codes. */
class PahoV5SubscriptionOptionsIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    static MqttSubscription sub(String filter, int qos, boolean noLocal, boolean rap, int retainHandling) {
        MqttSubscription s = new MqttSubscription(filter, qos);
        s.setNoLocal(noLocal);
        s.setRetainAsPublished(rap);
        s.setRetainHandling(retainHandling);
        return s;
    }

    @Test
    void noLocalSuppressesMessagesFromTheSubscriberItself() throws Exception {
        PahoV5Client self = clients.paho("so-nl-self");
        PahoV5Client other = clients.paho("so-nl-other");
        self.subscribe(null, sub("so/nl/t", 1, true, false, 0));
        self.subscribe(null, sub("so/nl/control", 1, false, false, 0));
        other.subscribe("so/nl/t", 1);

        self.publish("so/nl/t", "own", 1, false);
        PahoV5Client.Received r = other.poll(5000);
        assertNotNull(r, "other subscribers still get the message");
        assertEquals("own", r.text());
        assertNull(self.poll(500), "No Local: the publisher's own subscription must not receive it [MQTT-3.8.3-3]");

        self.publish("so/nl/control", "own-control", 1, false);
        PahoV5Client.Received c = self.poll(5000);
        assertNotNull(c, "without No Local a client receives its own messages");
        assertEquals("own-control", c.text());
    }

    @Test
    void retainAsPublishedKeepsRetainFlagOnLiveDeliveryWhileDefaultClearsIt() throws Exception {
        PahoV5Client keep = clients.paho("so-rap-keep");
        PahoV5Client clear = clients.paho("so-rap-clear");
        keep.subscribe(null, sub("so/rap/t", 1, false, true, 0));
        clear.subscribe(null, sub("so/rap/t", 1, false, false, 0));
        PahoV5Client pub = clients.paho("so-rap-pub");
        try {
            pub.publish("so/rap/t", "live-retained", 1, true);
            PahoV5Client.Received k = keep.poll(5000);
            PahoV5Client.Received c = clear.poll(5000);
            assertNotNull(k);
            assertNotNull(c);
            assertTrue(k.message().isRetained(), "Retain As Published 1: RETAIN kept [MQTT-3.3.1-13]");
            assertFalse(c.message().isRetained(), "Retain As Published 0: RETAIN cleared on live delivery [MQTT-3.3.1-12]");
        } finally {
            pub.publish("so/rap/t", "", 1, true); // clear the retained message
        }
    }

    @Test
    void retainHandling0SendsRetainedOnEverySubscribe() throws Exception {
        clients.paho("so-rh0-pub").publish("so/rh0/t", "kept0", 1, true);
        PahoV5Client c = clients.paho("so-rh0-sub");
        c.subscribe(null, sub("so/rh0/t", 1, false, false, 0));
        PahoV5Client.Received r = c.poll(5000);
        assertNotNull(r, "Retain Handling 0: retained message on subscribe");
        assertEquals("kept0", r.text());
        assertTrue(r.message().isRetained());
        c.subscribe(null, sub("so/rh0/t", 1, false, false, 0));
        PahoV5Client.Received again = c.poll(5000);
        assertNotNull(again, "Retain Handling 0: retained message also on a repeated subscribe");
        assertEquals("kept0", again.text());
    }

    @Test
    void retainHandling1SendsRetainedOnlyForANewSubscription() throws Exception {
        clients.paho("so-rh1-pub").publish("so/rh1/t", "kept1", 1, true);
        PahoV5Client c = clients.paho("so-rh1-sub");
        c.subscribe(null, sub("so/rh1/t", 1, false, false, 1));
        PahoV5Client.Received r = c.poll(5000);
        assertNotNull(r, "Retain Handling 1: retained message for a new subscription");
        assertEquals("kept1", r.text());
        c.subscribe(null, sub("so/rh1/t", 1, false, false, 1));
        assertNull(c.poll(500), "Retain Handling 1: no retained message when the subscription existed [MQTT-3.3.1-10]");
    }

    @Test
    void retainHandling2NeverSendsRetained() throws Exception {
        clients.paho("so-rh2-pub").publish("so/rh2/t", "kept2", 1, true);
        PahoV5Client c = clients.paho("so-rh2-sub");
        c.subscribe(null, sub("so/rh2/t", 1, false, false, 2));
        assertNull(c.poll(500), "Retain Handling 2: no retained message [MQTT-3.3.1-11]");
        clients.paho("so-rh2-pub2").publish("so/rh2/t", "live", 1, false);
        PahoV5Client.Received r = c.poll(5000);
        assertNotNull(r, "the subscription itself works");
        assertEquals("live", r.text());
    }

    @Test
    void maximumQosInSubscriptionOptionsCapsDeliveryQos() throws Exception {
        PahoV5Client c = clients.paho("so-maxqos-sub");
        assertArrayEquals(new int[] {1}, c.subscribe(null, sub("so/maxqos/one", 1, false, false, 0)));
        assertArrayEquals(new int[] {0}, c.subscribe(null, sub("so/maxqos/zero", 0, false, false, 0)));
        PahoV5Client pub = clients.paho("so-maxqos-pub");
        pub.publish("so/maxqos/one", "q2", 2, false);
        PahoV5Client.Received r1 = c.poll(5000);
        assertNotNull(r1);
        assertEquals(1, r1.message().getQos(), "QoS 2 publish to a maximum-QoS-1 subscription arrives at QoS 1");
        pub.publish("so/maxqos/zero", "q1", 1, false);
        PahoV5Client.Received r0 = c.poll(5000);
        assertNotNull(r0);
        assertEquals(0, r0.message().getQos(), "QoS 1 publish to a maximum-QoS-0 subscription arrives at QoS 0");
    }

    @Test
    void subscriptionIdentifierIsDeliveredWithMatchingMessages() throws Exception {
        PahoV5Client c = clients.paho("so-sid-sub");
        c.subscribe(42, sub("so/sid/+", 1, false, false, 0));
        c.subscribe(null, sub("so/sidnone/t", 1, false, false, 0));
        PahoV5Client pub = clients.paho("so-sid-pub");
        pub.publish("so/sid/a", "with-id", 1, false);
        PahoV5Client.Received r = c.poll(5000);
        assertNotNull(r);
        assertEquals(List.of(42), r.props().getSubscriptionIdentifiers(), "Subscription Identifier [MQTT-3.3.4-3]");
        pub.publish("so/sidnone/t", "without-id", 1, false);
        PahoV5Client.Received n = c.poll(5000);
        assertNotNull(n);
        assertTrue(n.props().getSubscriptionIdentifiers() == null || n.props().getSubscriptionIdentifiers().isEmpty(),
                "no Subscription Identifier for a subscription made without one: " + n.props().getSubscriptionIdentifiers());
    }

    @Test
    void overlappingSubscriptionsGiveOneCopyAtHighestQosWithEverySubscriptionIdentifier() throws Exception {
        PahoV5Client c = clients.paho("so-overlap-sub");
        c.subscribe(1, sub("so/ov/+", 0, false, false, 0));
        c.subscribe(2, sub("so/ov/#", 2, false, false, 0));
        c.subscribe(3, sub("so/+/x", 1, false, false, 0));
        clients.paho("so-overlap-pub").publish("so/ov/x", "once", 2, false);
        PahoV5Client.Received r = c.poll(5000);
        assertNotNull(r);
        assertEquals("once", r.text());
        assertEquals(2, r.message().getQos(), "the copy goes at the highest granted QoS of the matches");
        Set<Integer> ids = new TreeSet<>(r.props().getSubscriptionIdentifiers());
        assertEquals(Set.of(1, 2, 3), ids, "every matching Subscription Identifier [MQTT-3.3.4-5]");
        assertNull(c.poll(500), "overlapping subscriptions must give ONE copy");
    }

    @Test
    void unsubscribeAnswersSuccessForExistingAndNoSubscriptionExistedOtherwise() throws Exception {
        PahoV5Client c = clients.paho("so-unsub");
        c.subscribe("so/unsub/a", 1);
        int[] codes = c.unsubscribe("so/unsub/a", "so/unsub/never");
        assertArrayEquals(new int[] {0x00, 0x11}, codes);
        assertArrayEquals(new int[] {0x11}, c.unsubscribe("so/unsub/a"), "a second unsubscribe finds nothing");
    }
    @Test
    void retainedMessageSentOnSubscribeCarriesTheSubscriptionIdentifier() throws Exception {
        PahoV5Client pub = clients.paho("so-rsid-pub");
        pub.publish("so/rsid/t", "kept", 1, true);
        try {
            PahoV5Client c = clients.paho("so-rsid-sub");
            c.subscribe(99, sub("so/rsid/#", 1, false, false, 0));
            PahoV5Client.Received r = c.poll(5000);
            assertNotNull(r);
            assertTrue(r.message().isRetained());
            assertEquals(List.of(99), r.props().getSubscriptionIdentifiers());
        } finally {
            pub.publish("so/rsid/t", "", 1, true);
        }
    }
}
