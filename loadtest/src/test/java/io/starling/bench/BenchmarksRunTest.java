package io.starling.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Packet;
import io.starling.protocol.Publish;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Runs each benchmark's set-up and its benchmark methods directly, without the JMH runner, and
 * checks that they compute what they claim to: a broken benchmark fails here in a second instead
 * of producing a fast, meaningless number. Expected match counts come from brute force over
 * {@link TopicFilter#matches}, the reference the trie must agree with.
 */
class BenchmarksRunTest {
    /** JMH's own guard string: a Blackhole outside the runner is fine for a functional check. */
    private static final Blackhole BLACKHOLE = new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");

    @Test
    void topicMatchFindsWhatBruteForceFinds() {
        for (String set : List.of("iot", "sharedHeavy")) {
            TopicMatchBenchmark b = new TopicMatchBenchmark();
            b.subscriptions = 10_000;
            b.set = set;
            b.setUp();
            List<Workload.Sub> subs = set.equals("iot")
                    ? Workload.iot(10_000, 0, true) : Workload.sharedHeavy(10_000);
            assertEquals(10_000, subs.size());
            for (int i = 0; i < 64; i++) {
                TopicName topic = b.topics[i];
                int expected = bruteForce(subs, topic);
                assertEquals(expected, b.match(), () -> set + ": " + topic);
                // At least the back-end: alerting and archivers (iot), archivers and one group (sharedHeavy).
                assertTrue(expected >= (set.equals("iot") ? 10 : 6), () -> set + ": few matches for " + topic);
            }
        }
    }

    @Test
    void iotTelemetryTopicReachesBackendAndItsDevice() {
        // d14 has kind 14 ("devices/d14/+"): 20 dashboards, 5 archivers and the app.
        TopicName topic = TopicName.of("devices/d14/telemetry");
        assertEquals(26, new SubscriptionTries(Workload.iot(10_000, 0, true)).match(topic));
        // 5 archivers, one ingest member, one twin.
        assertEquals(7, new SubscriptionTries(Workload.sharedHeavy(10_000)).match(topic));
    }

    @Test
    void routeLookupFindsTheNodesBruteForceFinds() {
        RouteLookupBenchmark b = new RouteLookupBenchmark();
        b.filtersPerNode = 10_000;
        b.setUp();
        List<Set<TopicFilter>> perNode = new ArrayList<>();
        int devices = 0;
        int routes = 0;
        for (int n = 1; n <= RouteLookupBenchmark.REMOTE_NODES; n++) {
            Set<TopicFilter> filters = new HashSet<>(); // a node announces a filter once, however many clients
            Workload.iot(10_000, devices, n == 1).forEach(s -> filters.add(s.filter()));
            devices += Workload.iotDevices(10_000, n == 1);
            perNode.add(filters);
            routes += filters.size();
        }
        assertEquals(routes + 4, b.routes.size(), "plain routes of 3 nodes, shared route of 4");
        for (int i = 0; i < 64; i++) {
            TopicName topic = b.topics[i];
            Set<Integer> nodes = new HashSet<>();
            for (int n = 0; n < perNode.size(); n++) {
                for (TopicFilter f : perNode.get(n)) {
                    if (f.matches(topic)) {
                        nodes.add(n);
                    }
                }
            }
            int shared = RouteLookupBenchmark.INGEST.matches(topic) ? 1 : 0;
            assertEquals(nodes.size() + shared, b.match(), topic::toString);
        }
    }

    @Test
    void codecRoundTripsEveryVariant() throws Exception {
        for (String version : List.of("3.1.1", "5")) {
            for (int qos : new int[] {0, 1}) {
                for (int size : new int[] {64, 1024}) {
                    PublishCodecBenchmark b = new PublishCodecBenchmark();
                    b.version = version;
                    b.qos = qos;
                    b.payloadBytes = size;
                    b.setUp();
                    String what = version + " qos " + qos + " " + size + " B";
                    Buffer encoded = b.encode();
                    assertArrayEquals(b.encoded.getBytes(), encoded.getBytes(), what);
                    assertTrue(encoded.length() > size + PublishCodecBenchmark.TOPIC.length(), what);
                    for (int i = 0; i < 2; i++) { // twice: the decoder is reused across operations
                        Packet p = b.decode();
                        Publish d = (Publish) p;
                        assertEquals(PublishCodecBenchmark.TOPIC, d.topic(), what);
                        assertEquals(qos, d.qos(), what);
                        assertEquals(b.publish.packetId(), d.packetId(), what);
                        assertArrayEquals(b.publish.payload(), d.payload(), what);
                        assertEquals(b.publish.properties(), d.properties(), what);
                    }
                }
            }
        }
    }

    @Test
    void fanoutDeliversToEverySubscriber() {
        for (int n : new int[] {1, 100, 1000}) {
            FanoutBenchmark b = new FanoutBenchmark();
            b.subscribers = n;
            b.setUp();
            try {
                assertEquals(FanoutBenchmark.BACKGROUND + n, b.router.subscriptionCount());
                for (int round = 1; round <= 2; round++) {
                    Future<Integer> reached = b.publish(BLACKHOLE);
                    assertTrue(reached.succeeded(), "complete at once on a single node");
                    assertEquals(n, reached.result());
                    assertEquals((long) n * round, b.sink.delivered);
                }
            } finally {
                b.tearDown();
            }
        }
    }

    /** Plain matches plus one per matching shared group: what the broker delivers. */
    private static int bruteForce(List<Workload.Sub> subs, TopicName topic) {
        int direct = 0;
        Set<String> groups = new HashSet<>();
        for (Workload.Sub s : subs) {
            if (s.filter().matches(topic)) {
                if (s.filter().isShared()) {
                    groups.add(s.filter().value());
                } else {
                    direct++;
                }
            }
        }
        return direct + groups.size();
    }
}
