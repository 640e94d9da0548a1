package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two nodes in one JVM joined into one cluster: the quick check of two-level routing that every
 * build runs (the multi-process cluster tests run the real jar).
 */
class TwoNodesInProcessIT {
    static BrokerFixture a;
    static BrokerFixture b;

    @BeforeAll
    static void start() throws Exception {
        String cluster = "inproc-" + UUID.randomUUID();
        int pa = freePort();
        int pb = freePort();
        a = new BrokerFixture().with("cluster.name", cluster).with("cluster.port", pa)
                .with("cluster.members", "127.0.0.1:" + pb);
        b = new BrokerFixture().with("cluster.name", cluster).with("cluster.port", pb)
                .with("cluster.members", "127.0.0.1:" + pa);
        Thread t = new Thread(() -> {
            try {
                a.start();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        b.start();
        t.join();
        long deadline = System.currentTimeMillis() + 30_000;
        while (a.broker().services() == null || memberCount() < 2) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the two nodes did not form one cluster");
            }
            Thread.sleep(100);
        }
    }

    private static int memberCount() {
        return (int) a.broker().services().metrics().registry().get("starling_cluster_members").gauge().value();
    }

    @AfterAll
    static void stop() throws Exception {
        b.stop();
        a.stop();
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void messagePublishedOnOneNodeReachesSubscriberOnTheOtherInOrder() throws Exception {
        try (PahoV5Client sub = PahoV5Client.connect(b.tcpUri(), "sub-" + UUID.randomUUID(), null);
             PahoV5Client pub = PahoV5Client.connect(a.tcpUri(), "pub-" + UUID.randomUUID(), null)) {
            sub.subscribe("cross/+/t", 1);
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String text = "m" + i;
                sent.add(text);
                pub.publish("cross/x/t", text, i % 2, false).waitForCompletion(5000);
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                PahoV5Client.Received r = sub.poll(5000);
                assertNotNull(r, "message " + i + " did not arrive");
                got.add(r.text());
            }
            assertEquals(sent, got);
        }
    }

    @Test
    void sharedSubscriptionAcrossNodesGivesEachMessageToOneMember() throws Exception {
        try (PahoV5Client m1 = PahoV5Client.connect(a.tcpUri(), "m1-" + UUID.randomUUID(), null);
             PahoV5Client m2 = PahoV5Client.connect(b.tcpUri(), "m2-" + UUID.randomUUID(), null);
             PahoV5Client pub = PahoV5Client.connect(a.tcpUri(), "pub-" + UUID.randomUUID(), null)) {
            m1.subscribe("$share/g/work", 1);
            m2.subscribe("$share/g/work", 1);
            for (int i = 0; i < 40; i++) {
                pub.publish("work", "w" + i, 1, false).waitForCompletion(5000);
            }
            List<String> got = new ArrayList<>();
            int atA = 0;
            int atB = 0;
            PahoV5Client.Received r;
            while ((r = m1.poll(1000)) != null) {
                got.add(r.text());
                atA++;
            }
            while ((r = m2.poll(1000)) != null) {
                got.add(r.text());
                atB++;
            }
            assertEquals(40, got.size(), "each message exactly once: " + got);
            assertEquals(40, got.stream().distinct().count());
            assertEquals(true, atA > 0 && atB > 0, "both members got some: " + atA + "/" + atB);
        }
    }

    @Test
    void retainedMessageSetOnOneNodeIsSeenOnTheOther() throws Exception {
        try (PahoV5Client pub = PahoV5Client.connect(a.tcpUri(), "rp-" + UUID.randomUUID(), null)) {
            pub.publish("ret/one", "kept", 1, true).waitForCompletion(5000);
        }
        Thread.sleep(300); // the retained map is written asynchronously
        try (PahoV5Client sub = PahoV5Client.connect(b.tcpUri(), "rs-" + UUID.randomUUID(), null)) {
            sub.subscribe("ret/#", 1);
            PahoV5Client.Received r = sub.poll(5000);
            assertNotNull(r);
            assertEquals("kept", r.text());
            assertNull(sub.poll(300));
        }
    }

    @Test
    void offlineSessionMovesToTheNodeItsClientReconnectsTo() throws Exception {
        String id = "mover-" + UUID.randomUUID();
        try (PahoV5Client first = PahoV5Client.connect(a.tcpUri(), id, o -> {
            o.setCleanStart(true);
            o.setSessionExpiryInterval(300L);
        })) {
            first.subscribe("move/#", 1);
            first.disconnect();
        }
        try (PahoV5Client pub = PahoV5Client.connect(b.tcpUri(), "mp-" + UUID.randomUUID(), null)) {
            for (int i = 0; i < 5; i++) {
                pub.publish("move/q", "queued" + i, 1, false).waitForCompletion(5000);
            }
        }
        try (PahoV5Client again = new PahoV5Client(b.tcpUri(), id)) {
            again.connect(o -> {
                o.setCleanStart(false);
                o.setSessionExpiryInterval(300L);
            });
            assertEquals(true, again.connectToken.getSessionPresent(), "CONNACK Session Present after moving nodes");
            for (int i = 0; i < 5; i++) {
                PahoV5Client.Received r = again.poll(5000);
                assertNotNull(r, "queued message " + i);
                assertEquals("queued" + i, r.text());
            }
            try (PahoV5Client pub = PahoV5Client.connect(a.tcpUri(), "mp2-" + UUID.randomUUID(), null)) {
                pub.publish("move/live", "live", 1, false).waitForCompletion(5000);
            }
            PahoV5Client.Received live = again.poll(5000);
            assertNotNull(live, "the moved subscription gets messages published on the old node");
            assertEquals("live", live.text());
            assertNull(again.poll(500), "exactly once");
        }
    }

    @Test
    void connectingOnAnotherNodeTakesTheConnectedSessionOver() throws Exception {
        String id = "taker-" + UUID.randomUUID();
        try (PahoV5Client first = PahoV5Client.connect(a.tcpUri(), id, o -> o.setSessionExpiryInterval(300L))) {
            first.subscribe("take/#", 1);
            try (PahoV5Client second = new PahoV5Client(b.tcpUri(), id)) {
                second.connect(o -> {
                    o.setCleanStart(false);
                    o.setSessionExpiryInterval(300L);
                });
                assertEquals(true, second.connectToken.getSessionPresent());
                var d = first.disconnects.poll(5, java.util.concurrent.TimeUnit.SECONDS);
                assertNotNull(d, "the old connection is closed with a DISCONNECT");
                assertEquals(0x8E, d.getReturnCode(), "[MQTT-3.1.4-3] reason Session taken over");
                try (PahoV5Client pub = PahoV5Client.connect(a.tcpUri(), "tp-" + UUID.randomUUID(), null)) {
                    pub.publish("take/x", "after", 1, false).waitForCompletion(5000);
                }
                PahoV5Client.Received r = second.poll(5000);
                assertNotNull(r);
                assertEquals("after", r.text());
            }
        }
    }
}
