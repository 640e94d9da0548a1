package io.starling.it;

import static io.starling.it.Quietly.sleep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node killed with SIGKILL under QoS 1 load (issue 3): every message the broker acknowledged to
 * its publisher reaches every matching persistent session: one whose client was connected to the
 * dead node and reconnects elsewhere, one on a surviving node, and one that was offline with its
 * session on the dead node. Lost and out-of-order messages are counted; both must be 0.
 */
class NodeFailureIT {
    /**
     * The offline session must be able to keep everything the load publishes (issue 2's default
     * of 1,000 queued messages per session would drop the rest, by design and counted, which is
     * not what these tests are about).
     */
    @RegisterExtension
    static final ClusterFixture cluster = new ClusterFixture(3).restartingDeadNodesBeforeEach()
            .withEnv(0, "STARLING_MQTT_MAX_QUEUED_MESSAGES", "100000")
            .withEnv(1, "STARLING_MQTT_MAX_QUEUED_MESSAGES", "100000")
            .withEnv(2, "STARLING_MQTT_MAX_QUEUED_MESSAGES", "100000");

    @Test
    void willsOfClientsOfAKilledNodeArePublishedByTheNodesThatAdoptTheirSessions() throws Exception {
        String willTopic = "will/" + UUID.randomUUID();
        try (PahoV5Client watcher = PahoV5Client.connect(cluster.uri(0), "watch-" + UUID.randomUUID(), null)) {
            watcher.subscribe(willTopic + "/#", 1);
            // One session that outlives its connection, one that ends with it (Session Expiry 0).
            java.util.List<PahoV5Client> doomed = new java.util.ArrayList<>();
            for (long expiry : new long[] {600L, 0L}) {
                PahoV5Client c = new PahoV5Client(cluster.uri(2), "doomed-" + expiry + "-" + UUID.randomUUID());
                c.connect(o -> {
                    o.setSessionExpiryInterval(expiry);
                    o.setWill(willTopic + "/" + expiry, new org.eclipse.paho.mqttv5.common.MqttMessage(
                            ("gone " + expiry).getBytes(java.nio.charset.StandardCharsets.UTF_8), 1, false, null));
                });
                c.subscribe("doomed/#", 1); // the SUBACK waits for the session record, will included
                doomed.add(c);
            }
            cluster.kill(2);
            // spec 3.1.2.5: the network connection closed without DISCONNECT, so each will goes out.
            Set<String> wills = new java.util.TreeSet<>();
            PahoV5Client.Received r;
            while (wills.size() < 2 && (r = watcher.poll(20_000)) != null) {
                wills.add(r.text());
            }
            assertEquals(Set.of("gone 0", "gone 600"), wills, "wills after the clients' node was killed");
            doomed.forEach(PahoV5Client::close);
        }
    }

    @Test
    void sigkillOfANodeUnderQos1LoadLosesNoAcknowledgedMessage() throws Exception {
        String topic = "kill/" + UUID.randomUUID();
        String offlineId = "kill-offline-" + UUID.randomUUID();
        // A persistent session homed on the node to be killed, offline throughout.
        try (PahoV5Client c = PahoV5Client.connect(cluster.uri(2), offlineId, o -> o.setSessionExpiryInterval(600L))) {
            c.subscribe(topic, 1);
            c.disconnect();
        }
        // Whenever their node goes, the subscribers go to a survivor: 0 and 1 in turn (the killed node is 2).
        IntUnaryOperator survivor = node -> node == 0 ? 1 : 0;
        ReconnectingSubscriber s1 = ReconnectingSubscriber.start(cluster, "kill-s1-" + UUID.randomUUID(), topic, 2,
                survivor);
        ReconnectingSubscriber s2 = ReconnectingSubscriber.start(cluster, "kill-s2-" + UUID.randomUUID(), topic, 1,
                survivor);
        Tally onVictim = s1.tally();
        Tally onSurvivor = s2.tally();
        sleep(2000); // both subscriptions are in place

        AtomicInteger acknowledged = new AtomicInteger();
        AtomicBoolean stopPublishing = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong longestWaitNanos = new java.util.concurrent.atomic.AtomicLong();
        Thread publisher = new Thread(() -> {
            try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(0), "kill-pub-" + UUID.randomUUID(), null)) {
                for (int seq = 0; !stopPublishing.get() && seq < 100_000; seq++) {
                    long t0 = System.nanoTime();
                    pub.publish(topic, String.valueOf(seq), 1, false).waitForCompletion(30_000);
                    longestWaitNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    acknowledged.set(seq + 1);
                    sleep(3);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Load load = killUnderLoad(publisher, acknowledged, stopPublishing);
        long killedAt = load.killedAt();
        int ackedAtKill = load.ackedAtKill();
        int sent = load.sent();

        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline
                && (onVictim.lostBelow(sent) > 0 || onSurvivor.lostBelow(sent) > 0)) {
            sleep(200);
        }
        s1.stop();
        s2.stop();
        s1.join(10_000);
        s2.join(10_000);
        Tally offline = new Tally();
        try (PahoV5Client back = new PahoV5Client(cluster.uri(1), offlineId)) {
            back.connect(o -> {
                o.setCleanStart(false);
                o.setSessionExpiryInterval(600L);
            });
            assertTrue(back.connectToken.getSessionPresent(), "the dead node's offline session was kept");
            PahoV5Client.Received r;
            while (offline.lostBelow(sent) > 0 && (r = back.poll(5000)) != null) {
                offline.got(Integer.parseInt(r.text()));
            }
        }
        System.out.printf("SIGKILL under QoS 1 load: %d acknowledged (%d before the kill); client of the dead node "
                        + "receiving again after %d ms; the publisher's longest wait for a PUBACK %d ms%n  %s%n  %s%n  %s%n",
                sent, ackedAtKill, (s1.reconnectedAt() - killedAt) / 1_000_000, longestWaitNanos.get() / 1_000_000, onVictim.describe("connected to the dead node", sent),
                onSurvivor.describe("connected to a survivor", sent), offline.describe("offline on the dead node", sent));
        assertTrue(sent > ackedAtKill + 100, "the load went on after the kill: " + ackedAtKill + " -> " + sent);
        for (Tally t : new Tally[] {onVictim, onSurvivor, offline}) {
            assertEquals(0, t.lostBelow(sent), "acknowledged messages lost");
            assertEquals(0, t.outOfOrder.get(), "messages out of order (spec 4.6)");
        }
    }

    /**
     * QoS 2 end to end across a SIGKILL, with a raw client that receives as [MQTT-4.3.3-2] says:
     * a message goes to the application once per packet identifier until its PUBREL, however
     * often the broker resends the PUBLISH; its state survives reconnects, as a real client's does.
     * (Paho 1.2.5 cannot serve here: it hands every QoS 2 PUBLISH to the application, resends
     * included, and never reports DUP.) Every acknowledged message arrives once, in order.
     */
    @Test
    void qos2SubscriberOfAKilledNodeGetsEveryMessageExactlyOnce() throws Exception {
        String topic = "kill2/" + UUID.randomUUID();
        String clientId = "kill2-sub-" + UUID.randomUUID();
        Tally tally = new Tally();
        AtomicBoolean stopReceiving = new AtomicBoolean();
        java.util.concurrent.CountDownLatch subscribed = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger resends = new AtomicInteger();
        Thread receiver = new Thread(() -> {
            java.util.Set<Integer> awaitingRelease = new java.util.HashSet<>();
            int node = 2;
            boolean first = true;
            while (!stopReceiving.get()) {
                boolean clean = first;
                try (RawV5Client c = RawV5Client.connect(cluster.mqttPort(node), clientId, clean, 60,
                        p -> p.sessionExpiryInterval = 600L, null)) {
                    if (c.connAck().reasonCode() != 0) {
                        throw new IllegalStateException("CONNACK " + c.connAck());
                    }
                    if (clean) {
                        c.subscribe(topic, 2);
                        first = false;
                        subscribed.countDown();
                    }
                    while (!stopReceiving.get()) {
                        io.starling.protocol.Packet p = c.poll(200);
                        if (p instanceof io.starling.protocol.Publish pub) {
                            if (awaitingRelease.add(pub.packetId())) {
                                tally.got(Integer.parseInt(new String(pub.payload(), java.nio.charset.StandardCharsets.UTF_8)));
                            } else {
                                resends.incrementAndGet(); // the same message again, before its PUBREL
                            }
                            c.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBREC, pub.packetId(), 0));
                        } else if (p instanceof io.starling.protocol.Ack a
                                && a.type() == io.starling.protocol.PacketType.PUBREL) {
                            awaitingRelease.remove(a.packetId());
                            c.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBCOMP, a.packetId(), 0));
                        }
                    }
                } catch (Throwable e) {
                    // the node is gone or the connection closed: the next survivor
                }
                node = node == 0 ? 1 : 0;
                Quietly.sleep(100);
            }
        });
        receiver.start();
        assertTrue(subscribed.await(10, java.util.concurrent.TimeUnit.SECONDS), "the raw subscriber subscribed");
        AtomicInteger acknowledged = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        Thread publisher = new Thread(() -> {
            try (PahoV5Client pub = PahoV5Client.connect(cluster.uri(0), "kill2-pub-" + UUID.randomUUID(), null)) {
                for (int seq = 0; !stop.get() && seq < 100_000; seq++) {
                    pub.publish(topic, String.valueOf(seq), 2, false).waitForCompletion(30_000);
                    acknowledged.set(seq + 1);
                    Quietly.sleep(3);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Load load = killUnderLoad(publisher, acknowledged, stop);
        int ackedAtKill = load.ackedAtKill();
        int sent = load.sent();
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline && tally.lostBelow(sent) > 0) {
            Quietly.sleep(200);
        }
        stopReceiving.set(true);
        receiver.join(10_000);
        System.out.printf("SIGKILL under QoS 2 load: %d acknowledged (%d before the kill); %s; %d PUBLISH resends "
                        + "before PUBREL, which the receiver dropped [MQTT-4.3.3-2]%n", sent, ackedAtKill,
                tally.describe("QoS 2 subscriber of the dead node", sent), resends.get());
        assertTrue(sent > ackedAtKill + 50, "the load went on after the kill: " + ackedAtKill + " -> " + sent);
        assertEquals(0, tally.lostBelow(sent), "acknowledged messages lost");
        assertEquals(0, tally.duplicates.get(), "[MQTT-4.3.3] a QoS 2 message delivered as new twice");
        assertEquals(0, tally.outOfOrder.get(), "messages out of order (spec 4.6)");
    }

    /**
     * A QoS 2 publisher whose node is killed mid-flow, sending as the spec says a client must after
     * it reconnects (to another node, resuming its session): a PUBLISH with no PUBREC yet is resent
     * with DUP and the same packet identifier, a PUBREL with no PUBCOMP is resent [MQTT-4.4.0-1].
     * The broker keeps the identifiers it has PUBREC'd with the session, so a resend is not routed
     * again [MQTT-4.3.3-2]: a subscriber on a surviving node gets every message, in order, and at
     * most the one message whose identifier was not yet backed up when the node died twice.
     */
    @Test
    void qos2PublisherOfAKilledNodeResendsAndNoMessageIsLost() throws Exception {
        String topic = "kill2p/" + UUID.randomUUID();
        String publisherId = "kill2p-pub-" + UUID.randomUUID();
        Tally tally = new Tally();
        try (PahoV5Client sub = PahoV5Client.connect(cluster.uri(0), "kill2p-sub-" + UUID.randomUUID(), null)) {
            sub.subscribe(topic, 2);
            AtomicInteger acknowledged = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger reconnects = new AtomicInteger();
            Thread publisher = new Thread(() -> {
                // What a conforming sender keeps across reconnects: the message in flight and its stage.
                int node = 2;
                int seq = 0;
                int packetId = 0;
                boolean received = false; // PUBREC seen, PUBREL sent, PUBCOMP awaited
                boolean first = true;
                while (!stop.get() || packetId != 0) {
                    boolean clean = first;
                    try (RawV5Client c = RawV5Client.connect(cluster.mqttPort(node), publisherId, clean, 60,
                            p -> p.sessionExpiryInterval = 600L, null)) {
                        io.starling.protocol.ConnAck ack = c.connAck();
                        if (ack.reasonCode() != 0) {
                            throw new IllegalStateException("CONNACK " + ack);
                        }
                        first = false;
                        if (packetId != 0 && !received) {
                            c.send(new io.starling.protocol.Publish(2, true, false, topic, packetId,
                                    io.starling.protocol.Properties.EMPTY, String.valueOf(seq).getBytes()));
                        } else if (packetId != 0) {
                            c.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBREL, packetId, 0));
                        }
                        while (true) {
                            if (packetId == 0) {
                                if (stop.get()) {
                                    break;
                                }
                                packetId = seq % 65_535 + 1;
                                received = false;
                                c.send(new io.starling.protocol.Publish(2, false, false, topic, packetId,
                                        io.starling.protocol.Properties.EMPTY, String.valueOf(seq).getBytes()));
                            }
                            io.starling.protocol.Packet p = c.poll(5000);
                            if (p == null) {
                                throw new IllegalStateException("no answer within 5 s");
                            }
                            if (p instanceof io.starling.protocol.Ack a && a.packetId() == packetId) {
                                if (a.type() == io.starling.protocol.PacketType.PUBREC) {
                                    received = true;
                                    c.send(io.starling.protocol.Ack.of(io.starling.protocol.PacketType.PUBREL, packetId, 0));
                                } else if (a.type() == io.starling.protocol.PacketType.PUBCOMP) {
                                    acknowledged.set(++seq);
                                    packetId = 0;
                                    Quietly.sleep(3);
                                }
                            }
                        }
                    } catch (Throwable e) {
                        reconnects.incrementAndGet(); // its node is gone: the next survivor
                    }
                    node = node == 0 ? 1 : 0;
                    Quietly.sleep(100);
                }
            });
            Load load = killUnderLoad(publisher, acknowledged, stop);
            int ackedAtKill = load.ackedAtKill();
            int sent = load.sent();
            long deadline = System.currentTimeMillis() + 20_000;
            PahoV5Client.Received r;
            while (tally.lostBelow(sent) > 0 && System.currentTimeMillis() < deadline && (r = sub.poll(1000)) != null) {
                tally.got(Integer.parseInt(r.text()));
            }
            while ((r = sub.poll(500)) != null) {
                tally.got(Integer.parseInt(r.text())); // anything more would be a duplicate
            }
            System.out.printf("SIGKILL of a QoS 2 publisher's node: %d acknowledged (%d before the kill), the publisher "
                    + "reconnected %d times; %s%n", sent, ackedAtKill, reconnects.get(),
                    tally.describe("subscriber on a survivor", sent));
            assertTrue(sent > ackedAtKill + 50, "the load went on after the kill: " + ackedAtKill + " -> " + sent);
            assertEquals(0, tally.lostBelow(sent), "acknowledged messages lost");
            // A resend is routed again only if the node died in the instant between the message's
            // acceptance and the backup of its packet identifier (docs/adr/0006): one message at most.
            assertTrue(tally.duplicates.get() <= 1, "a resent QoS 2 PUBLISH was routed again more than once: "
                    + tally.duplicates.get());
            assertEquals(0, tally.outOfOrder.get(), "messages out of order (spec 4.6)");
        }
    }

    /** What a load run measured around the kill: when, and how many messages were acknowledged by then and in all. */
    record Load(long killedAt, int ackedAtKill, int sent) {
    }

    /**
     * Runs the publisher for 2 s, SIGKILLs node 2, then lets it publish until it has had at least
     * 4 s and 150 more acknowledgements (at most 30 s: a slow CI host stalls longer while the
     * cluster drops the dead member and promotes its backups), then stops it.
     */
    private static Load killUnderLoad(Thread publisher, AtomicInteger acknowledged, AtomicBoolean stop)
            throws InterruptedException {
        publisher.start();
        Quietly.sleep(2000);
        long killedAt = System.nanoTime();
        int ackedAtKill = acknowledged.get();
        cluster.kill(2);
        long deadline = System.currentTimeMillis() + 30_000;
        Quietly.sleep(4000);
        while (acknowledged.get() < ackedAtKill + 150 && System.currentTimeMillis() < deadline) {
            Quietly.sleep(100);
        }
        stop.set(true);
        publisher.join(40_000);
        return new Load(killedAt, ackedAtKill, acknowledged.get());
    }
}
