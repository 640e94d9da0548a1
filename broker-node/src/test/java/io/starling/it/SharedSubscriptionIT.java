package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.starling.protocol.Packet;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** MQTT 5.0 shared subscriptions {@code $share/group/filter} (spec 4.8.2). */
class SharedSubscriptionIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @RegisterExtension
    final Clients clients = new Clients(broker);

    @Test
    void eachMessageGoesToExactlyOneMemberAndAllAreDelivered() throws Exception {
        PahoV5Client a = clients.paho("sh-even-a");
        PahoV5Client b = clients.paho("sh-even-b");
        assertEquals(1, a.subscribe("$share/g/sh/even", 1)[0]);
        assertEquals(1, b.subscribe("$share/g/sh/even", 1)[0]);
        PahoV5Client pub = clients.paho("sh-even-pub");
        int n = 200;
        for (int i = 0; i < n; i++) {
            pub.publish("sh/even", Integer.toString(i), 1, false);
        }
        List<String> gotA = new ArrayList<>();
        List<String> gotB = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 15_000;
        while (gotA.size() + gotB.size() < n && System.currentTimeMillis() < deadline) {
            PahoV5Client.Received r = a.poll(5);
            if (r != null) {
                gotA.add(r.text());
            }
            r = b.poll(5);
            if (r != null) {
                gotB.add(r.text());
            }
        }
        // anything beyond n would be a duplicate: give it a moment to show up
        PahoV5Client.Received extra;
        while ((extra = a.poll(250)) != null) {
            gotA.add(extra.text());
        }
        while ((extra = b.poll(250)) != null) {
            gotB.add(extra.text());
        }
        Set<String> all = new HashSet<>(gotA);
        all.addAll(gotB);
        assertEquals(n, all.size(), "every message delivered to the group (A " + gotA.size() + ", B " + gotB.size() + ")");
        assertEquals(n, gotA.size() + gotB.size(), "each message to exactly one member, no duplicates");
        assertTrue(!gotA.isEmpty() && !gotB.isEmpty(), "both members get some: A " + gotA.size() + ", B " + gotB.size());
    }

    @Test
    void unacknowledgedMessagesOfAMemberThatLeavesGoToAnotherMember() throws Exception {
        RawV5Client lazy = clients.raw("sh-redeliver-lazy", true, null);
        lazy.subscribe("$share/g2/sh/redeliver", 1);
        PahoV5Client good = clients.paho("sh-redeliver-good");
        good.subscribe("$share/g2/sh/redeliver", 1);

        PahoV5Client pub = clients.paho("sh-redeliver-pub");
        int n = 10;
        for (int i = 0; i < n; i++) {
            pub.publish("sh/redeliver", "m" + i, 1, false);
        }
        Set<String> heldByLazy = new HashSet<>();
        Packet p;
        while ((p = lazy.poll(1000)) != null) {
            assertTrue(p instanceof Publish, "unexpected " + p);
            heldByLazy.add(RawV5Client.text((Publish) p)); // never acknowledged
        }
        assertTrue(!heldByLazy.isEmpty(), "the raw member should have received some messages to hold");
        lazy.close(); // leaves with them unacknowledged; its session ends (expiry 0)

        Set<String> got = new HashSet<>();
        long deadline = System.currentTimeMillis() + 10_000;
        while (got.size() < n && System.currentTimeMillis() < deadline) {
            PahoV5Client.Received r = good.poll(200);
            if (r != null) {
                got.add(r.text());
            }
        }
        Set<String> missing = new HashSet<>(heldByLazy);
        missing.removeAll(got);
        assertTrue(missing.isEmpty(), "messages the departed member never acknowledged must go to another member "
                + "(spec 4.8.2); missing " + missing);
        assertEquals(n, got.size(), "all messages reach the remaining member");
    }

    @Test
    void sharedSubscriptionDoesNotGetRetainedMessages() throws Exception {
        PahoV5Client pub = clients.paho("sh-retained-pub");
        pub.publish("sh/retained", "kept", 1, true);
        try {
            PahoV5Client member = clients.paho("sh-retained-member");
            member.subscribe("$share/g3/sh/retained", 1);
            assertNull(member.poll(500), "retained messages are not sent to shared subscriptions (spec 4.8.2)");
            pub.publish("sh/retained", "live", 1, false);
            PahoV5Client.Received r = member.poll(5000);
            assertNotNull(r, "the shared subscription itself works");
            assertEquals("live", r.text());
        } finally {
            pub.publish("sh/retained", "", 1, true);
        }
    }

    @Test
    void noLocalOnSharedSubscriptionIsAProtocolError() throws Exception {
        RawV5Client c = clients.raw("sh-nolocal", true, null);
        c.send(new io.starling.protocol.Subscribe(c.nextPacketId(), io.starling.protocol.Properties.EMPTY,
                List.of(new io.starling.protocol.Subscribe.Request("$share/g4/sh/nolocal", 1, true, false, 0))));
        try {
            c.expectDisconnect(ReasonCode.PROTOCOL_ERROR);
        } catch (AssertionError e) {
            fail("No Local on a shared subscription must be answered with DISCONNECT 0x82 [MQTT-3.8.3-4]: "
                    + e.getMessage(), e);
        }
    }
}
