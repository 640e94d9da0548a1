package io.starling.it;

import static io.starling.it.Quietly.sleep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node that gets SIGTERM leaves gracefully (issue 3): its clients are told 0x8B, its sessions
 * and their queued messages go to the other nodes, and a rolling restart of every node under
 * QoS 1 load loses no acknowledged message.
 */
class GracefulLeaveIT {
    @RegisterExtension
    static final ClusterFixture cluster = new ClusterFixture(3).restartingDeadNodesBeforeEach();

    @Test
    void queuedMessagesOfALeavingNodesSessionsAreDeliveredByAnotherNode() throws Exception {
        String id = "leaver-" + UUID.randomUUID();
        try (PahoV5Client c = PahoV5Client.connect(cluster.uri(0), id, o -> o.setSessionExpiryInterval(300L))) {
            c.subscribe("leave/#", 1);
            c.disconnect();
        }
        try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(1), "lp-" + UUID.randomUUID(), null)) {
            for (int i = 0; i < 5; i++) {
                pub.publish("leave/q", "q" + i, 1, false).waitForCompletion(5000);
            }
        }
        cluster.stop(0);
        try (PahoV5Client again = new PahoV5Client(cluster.uri(2), id)) {
            again.connect(o -> {
                o.setCleanStart(false);
                o.setSessionExpiryInterval(300L);
            });
            assertTrue(again.connectToken.getSessionPresent(), "the session survived its node's leaving");
            for (int i = 0; i < 5; i++) {
                PahoV5Client.Received r = again.poll(5000);
                assertNotNull(r, "queued message " + i + " lost when node 0 left");
                assertEquals("q" + i, r.text());
            }
            try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(1), "lp2-" + UUID.randomUUID(), null)) {
                pub.publish("leave/live", "live", 1, false).waitForCompletion(5000);
            }
            assertEquals("live", again.poll(5000).text());
        }
    }

    @Test
    void retainedMessagesReachANodeThatJoinsLater() throws Exception {
        String topic = "late/" + UUID.randomUUID();
        cluster.stop(0);
        try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(1), "rp-" + UUID.randomUUID(), null)) {
            pub.publish(topic, "kept", 1, true).waitForCompletion(5000);
        }
        cluster.restart(0);
        cluster.awaitMembersOnEveryNode(3);
        try (PahoV5Client sub = PahoV5Client.connect(cluster.uri(0), "rs-" + UUID.randomUUID(), null)) {
            sub.subscribe(topic, 1);
            PahoV5Client.Received r = sub.poll(5000);
            assertNotNull(r, "the node that joined after the retained message was set has it");
            assertEquals("kept", r.text());
        }
    }

    @Test
    void connectedClientIsToldTheServerIsShuttingDown() throws Exception {
        String id = "told-" + UUID.randomUUID();
        try (PahoV5Client c = PahoV5Client.connect(cluster.uri(1), id, o -> o.setSessionExpiryInterval(300L))) {
            c.subscribe("told/#", 1);
            cluster.stop(1);
            MqttDisconnectResponse d = c.disconnects.poll(10, TimeUnit.SECONDS);
            assertNotNull(d, "no DISCONNECT before the node went");
            assertEquals(0x8B, d.getReturnCode(), "5.0 reason Server shutting down");
        }
        try (PahoV5Client again = new PahoV5Client(cluster.uri(0), id)) {
            again.connect(o -> {
                o.setCleanStart(false);
                o.setSessionExpiryInterval(300L);
            });
            assertTrue(again.connectToken.getSessionPresent());
        }
    }

    @Test
    void rollingRestartOfEveryNodeUnderQos1LoadLosesNoAcknowledgedMessage() throws Exception {
        String topic = "rolling/" + UUID.randomUUID();
        String subId = "roll-sub-" + UUID.randomUUID();
        AtomicInteger acknowledged = new AtomicInteger();
        AtomicBoolean stopPublishing = new AtomicBoolean();

        Thread publisher = new Thread(() -> {
            int node = 0;
            int seq = 0;
            while (!stopPublishing.get() && seq < 100_000) {
                try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(node), "roll-pub-" + UUID.randomUUID(), null)) {
                    while (!stopPublishing.get()) {
                        pub.publish(topic, String.valueOf(seq), 1, false).waitForCompletion(5000);
                        acknowledged.set(seq + 1); // every number below this was acknowledged
                        seq++;
                        sleep(5);
                    }
                } catch (Exception e) {
                    // not acknowledged: publish the same number again on another node
                }
                node = (node + 1) % 3;
                sleep(100);
            }
        });
        // Reconnects to each node in turn as they restart: 2, 0, 1, 2, ...
        ReconnectingSubscriber subscriber = ReconnectingSubscriber.start(cluster, subId, topic, 2,
                node -> (node + 1) % 3);
        sleep(1500); // the subscription exists before the load starts
        publisher.start();
        try {
            for (int node = 0; node < 3; node++) {
                sleep(1500);
                cluster.stop(node);
                cluster.restart(node);
                cluster.awaitMembersOnEveryNode(3);
            }
            sleep(1500);
        } finally {
            stopPublishing.set(true);
            publisher.join(15_000);
        }
        int sent = acknowledged.get();
        Tally received = subscriber.tally();
        long deadline = System.currentTimeMillis() + 20_000;
        // The subscriber keeps draining until everything acknowledged arrived or time is up.
        while (System.currentTimeMillis() < deadline && received.lostBelow(sent) > 0) {
            sleep(200);
        }
        subscriber.stop();
        subscriber.join(15_000);
        int lost = received.lostBelow(sent);
        int duplicates = received.duplicates.get();
        System.out.printf("rolling restart: %d acknowledged, %d lost, %d duplicates%n", sent, lost, duplicates);
        assertTrue(sent > 300, "too little load to mean anything: " + sent);
        assertEquals(0, lost, "acknowledged messages lost in a rolling restart (" + duplicates + " duplicates)");
    }
}
