package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Starling behind a TCP load balancer, as users run it: a real HAProxy ({@link HaproxyProcess},
 * round robin, health checks) in front of three node processes, every client connecting through
 * it and so landing on whichever node it is given. The cluster must behave as one broker, and
 * persistent sessions must survive a node killed behind the balancer while their clients simply
 * reconnect to the same address. Skipped, never passed, without the haproxy binary or the jar.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoadBalancerIT {
    @RegisterExtension
    static final ClusterFixture cluster = new ClusterFixture(3);

    private static HaproxyProcess lb;

    @BeforeAll
    static void startLoadBalancer() throws Exception {
        if (HaproxyProcess.installed() && Files.isRegularFile(JarProcess.JAR)) {
            Map<String, Integer> servers = new LinkedHashMap<>();
            for (int i = 0; i < cluster.size(); i++) {
                servers.put(cluster.name(i), cluster.mqttPort(i));
            }
            lb = HaproxyProcess.start(servers);
        }
    }

    /** Each test is reported skipped without haproxy (an assumption in @BeforeAll would hide them). */
    @BeforeEach
    void everyNodeUpBehindTheBalancer() throws Exception {
        Assumptions.assumeTrue(HaproxyProcess.installed(),
                "haproxy neither on the PATH nor in /usr/sbin (apt-get install haproxy)");
        JarProcess.assumeBuilt();
        for (int i = 0; i < cluster.size(); i++) {
            if (!cluster.isAlive(i)) {
                cluster.restart(i);
            }
        }
        for (int i = 0; i < cluster.size(); i++) {
            cluster.awaitMembers(i, cluster.size());
        }
        lb.awaitServers("every server up", all -> all.values().stream().allMatch(HaproxyProcess.Server::up),
                HaproxyProcess.START_SECONDS);
    }

    @AfterAll
    static void stopLoadBalancer() throws InterruptedException {
        if (lb != null) {
            lb.close();
        }
    }

    @Test
    @Order(1)
    void clientsBehindTheLoadBalancerBehaveAsOneBroker() throws Exception {
        int clients = 30;
        int broadcasts = 5;
        List<PahoV5Client> subscribers = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                PahoV5Client c = PahoV5Client.connect(lb.uri(), "lb-" + i + "-" + UUID.randomUUID(), null);
                subscribers.add(c);
                assertArrayEquals(new int[] {1, 1},
                        c.subscribe(null, new MqttSubscription("lb/" + i, 1), new MqttSubscription("lb/all", 1)));
            }
            Map<String, HaproxyProcess.Server> servers = lb.servers();
            String spread = servers.values().stream().map(s -> s.name() + "=" + s.currentSessions())
                    .collect(Collectors.joining(", "));
            System.out.printf("%d clients through the load balancer, connections per node: %s%n", clients, spread);
            assertTrue(servers.values().stream().allMatch(s -> s.currentSessions() > 0),
                    "the clients landed on every node: " + spread);

            try (PahoV5Client pub = PahoV5Client.connect(lb.uri(), "lb-pub-" + UUID.randomUUID(), null)) {
                for (int i = 0; i < clients; i++) {
                    pub.publish("lb/" + i, "to-" + i, 1, false);
                }
                for (int n = 0; n < broadcasts; n++) {
                    pub.publish("lb/all", "all-" + n, 1, false);
                }
            }

            List<String> expectedAll = IntStream.range(0, broadcasts).mapToObj(n -> "all-" + n).toList();
            long deadline = System.currentTimeMillis() + 15_000;
            List<List<PahoV5Client.Received>> got = new ArrayList<>();
            for (PahoV5Client c : subscribers) {
                List<PahoV5Client.Received> mine = new ArrayList<>();
                while (mine.size() < 1 + broadcasts) {
                    PahoV5Client.Received r = c.poll(Math.max(1, deadline - System.currentTimeMillis()));
                    if (r == null) {
                        break;
                    }
                    mine.add(r);
                }
                got.add(mine);
            }
            Thread.sleep(500); // anything extra (a duplicate, another client's message) arrives by now
            List<String> problems = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                List<PahoV5Client.Received> mine = got.get(i);
                PahoV5Client.Received extra;
                while ((extra = subscribers.get(i).poll(0)) != null) {
                    mine.add(extra);
                }
                String own = "lb/" + i;
                List<String> direct = mine.stream().filter(r -> r.topic().equals(own)).map(PahoV5Client.Received::text)
                        .toList();
                List<String> all = mine.stream().filter(r -> r.topic().equals("lb/all"))
                        .map(PahoV5Client.Received::text).toList();
                List<String> other = mine.stream().filter(r -> !r.topic().equals(own) && !r.topic().equals("lb/all"))
                        .map(r -> r.topic() + ":" + r.text()).toList();
                if (!direct.equals(List.of("to-" + i)) || !all.equals(expectedAll) || !other.isEmpty()) {
                    problems.add("client " + i + ": " + own + " " + direct + ", lb/all " + all + ", other " + other);
                }
            }
            assertEquals(List.of(), problems, "each client gets its own message once and the broadcasts in order");
        } finally {
            subscribers.forEach(PahoV5Client::close);
        }
    }

    /** A persistent-session subscriber that reconnects through the balancer whenever its connection goes. */
    private static Thread follower(String clientId, String topic, Tally tally, AtomicBoolean subscribed,
                                   AtomicBoolean stop, AtomicInteger reconnects, AtomicLong reconnectedAt,
                                   AtomicInteger sessionsMissing) {
        Thread t = new Thread(() -> {
            boolean first = true;
            while (!stop.get()) {
                try (PahoV5Client sub = new PahoV5Client(lb.uri(), clientId)) {
                    boolean clean = first;
                    sub.connect(o -> {
                        o.setCleanStart(clean);
                        o.setSessionExpiryInterval(600L);
                    });
                    if (first) {
                        sub.subscribe(topic, 1);
                        subscribed.set(true);
                        first = false;
                    } else {
                        reconnects.incrementAndGet();
                        reconnectedAt.compareAndSet(0, System.nanoTime());
                        if (!sub.connectToken.getSessionPresent()) {
                            sessionsMissing.incrementAndGet(); // not subscribing again: the loss shows
                        }
                    }
                    while (!stop.get() && sub.client.isConnected()) {
                        PahoV5Client.Received r = sub.poll(200);
                        if (r != null) {
                            tally.got(Integer.parseInt(r.text()));
                        }
                    }
                } catch (Exception e) {
                    // the connection or its node is gone: through the balancer again
                }
                Quietly.sleep(100);
            }
        }, "lb-follower-" + topic);
        t.start();
        return t;
    }

    @Test
    @Order(2)
    void persistentSessionsSurviveANodeKilledBehindTheLoadBalancer() throws Exception {
        int topics = 10;
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<Tally> tallies = new ArrayList<>();
        List<AtomicBoolean> subscribed = new ArrayList<>();
        List<Thread> followers = new ArrayList<>();
        AtomicBoolean stopSubscribers = new AtomicBoolean();
        AtomicInteger reconnects = new AtomicInteger();
        AtomicInteger sessionsMissing = new AtomicInteger();
        AtomicLong reconnectedAt = new AtomicLong();
        for (int i = 0; i < topics; i++) {
            Tally tally = new Tally();
            AtomicBoolean s = new AtomicBoolean();
            tallies.add(tally);
            subscribed.add(s);
            followers.add(follower("lbk-sub-" + i + "-" + run, "lbk/" + i, tally, s, stopSubscribers, reconnects,
                    reconnectedAt, sessionsMissing));
        }
        long subscribeDeadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < subscribeDeadline && !subscribed.stream().allMatch(AtomicBoolean::get)) {
            Quietly.sleep(100);
        }
        assertTrue(subscribed.stream().allMatch(AtomicBoolean::get), "every subscriber holds its SUBACK");

        AtomicInteger acknowledged = new AtomicInteger(); // every number below it was acknowledged
        AtomicInteger publisherRetries = new AtomicInteger();
        AtomicBoolean publisherConnected = new AtomicBoolean();
        AtomicBoolean stopPublishing = new AtomicBoolean();
        Thread publisher = new Thread(() -> {
            int seq = 0;
            while (!stopPublishing.get() && seq < 100_000) {
                try (PahoV5Client pub = PahoV5Client.connect(lb.uri(), "lbk-pub-" + UUID.randomUUID(), null)) {
                    publisherConnected.set(true);
                    while (!stopPublishing.get()) {
                        pub.publish("lbk/" + seq % topics, String.valueOf(seq), 1, false);
                        acknowledged.set(++seq);
                        Quietly.sleep(3);
                    }
                } catch (Exception e) {
                    // not acknowledged: the same number again, through the balancer
                    publisherRetries.incrementAndGet();
                }
                Quietly.sleep(100);
            }
        }, "lb-publisher");
        Map<String, HaproxyProcess.Server> beforePublisher = lb.servers();
        publisher.start();
        long killedAt;
        int ackedAtKill;
        int victim;
        String spread;
        try {
            long connectDeadline = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < connectDeadline && !publisherConnected.get()) {
                Quietly.sleep(50);
            }
            assertTrue(publisherConnected.get(), "the publisher connected through the balancer");
            Map<String, HaproxyProcess.Server> servers = lb.servers();
            spread = servers.values().stream().map(s -> s.name() + "=" + s.currentSessions())
                    .collect(Collectors.joining(", "));
            // The node the balancer gave the publisher (its one new connection), which also has
            // about a third of the subscribers: both the publisher and they must go elsewhere.
            List<Integer> gained = IntStream.range(0, cluster.size()).boxed()
                    .filter(i -> servers.get(cluster.name(i)).currentSessions()
                            == beforePublisher.get(cluster.name(i)).currentSessions() + 1)
                    .toList();
            assertEquals(1, gained.size(), "one node got the publisher's connection: " + beforePublisher.values()
                    + " -> " + servers.values());
            victim = gained.get(0);
            Quietly.sleep(3000);
            killedAt = System.nanoTime();
            ackedAtKill = acknowledged.get();
            cluster.kill(victim);
            String dead = cluster.name(victim);
            lb.awaitServers(dead + " marked down", all -> !all.get(dead).up(), 10);
            Quietly.sleep(5000);
        } finally {
            stopPublishing.set(true);
            publisher.join(20_000);
        }
        long loadStoppedAt = System.nanoTime();
        int sent = acknowledged.get();

        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline && IntStream.range(0, topics)
                .anyMatch(i -> lost(tallies.get(i), i, topics, sent) > 0)) {
            Quietly.sleep(200);
        }
        long drainedAfterMs = (System.nanoTime() - loadStoppedAt) / 1_000_000;
        stopSubscribers.set(true);
        for (Thread t : followers) {
            t.join(10_000);
        }

        int lost = 0;
        int outOfOrder = 0;
        int duplicates = 0;
        StringBuilder perTopic = new StringBuilder();
        for (int i = 0; i < topics; i++) {
            Tally t = tallies.get(i);
            int l = lost(t, i, topics, sent);
            lost += l;
            outOfOrder += t.outOfOrder.get();
            duplicates += t.duplicates.get();
            perTopic.append(String.format("  lbk/%d: %d lost, %d out of order, %d duplicates%n", i, l,
                    t.outOfOrder.get(), t.duplicates.get()));
        }
        System.out.printf("SIGKILL of %s, the publisher's node, behind the load balancer (connections per node: %s): "
                        + "%d acknowledged (%d before the kill), publisher retried %d times, subscribers reconnected "
                        + "%d times (%d without their session; the first %d ms after the kill), drained %d ms after "
                        + "the load stopped%n  total: %d lost, %d out of order, %d duplicates%n%s",
                cluster.name(victim), spread, sent, ackedAtKill, publisherRetries.get(), reconnects.get(),
                sessionsMissing.get(), (reconnectedAt.get() - killedAt) / 1_000_000, drainedAfterMs, lost, outOfOrder,
                duplicates, perTopic);
        assertTrue(sent > ackedAtKill + 100, "the load went on after the kill: " + ackedAtKill + " -> " + sent);
        assertTrue(reconnects.get() > 0, "some subscriber was connected to the killed node");
        assertEquals(0, lost, "acknowledged messages lost\n" + perTopic);
        assertEquals(0, outOfOrder, "messages out of order (spec 4.6)\n" + perTopic);
    }

    /** Acknowledged numbers for topic {@code lbk/index} (n % topics == index, n < sent) not received. */
    private static int lost(Tally tally, int index, int topics, int sent) {
        int missing = 0;
        for (int n = index; n < sent; n += topics) {
            if (!tally.seen.contains(n)) {
                missing++;
            }
        }
        return missing;
    }
}
