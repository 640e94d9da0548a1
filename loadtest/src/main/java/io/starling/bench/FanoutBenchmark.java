package io.starling.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.routes.LocalRoutes;
import io.starling.cluster.routes.RouteTable;
import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.Properties;
import io.starling.retain.LocalRetainedStore;
import io.starling.routing.Forwarder;
import io.starling.routing.Message;
import io.starling.routing.Router;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Local fan-out of one PUBLISH: {@link Router#publish} on a single node, to {@code subscribers}
 * (1, 100, 1000) matching subscriptions.
 *
 * <p>Included: the real Router with its real subscription index: the retained check, the trie
 * match, No Local filtering, grouping the matches by client (several matches go through the
 * Router's merge of overlapping subscriptions, with its per-publish maps), building each
 * subscriber's {@link io.starling.routing.Delivery} (QoS downgrade, Subscription Identifiers) and
 * handing it to {@code Subscriber.deliver}, and the check for remote routes (none: one node).
 * Excluded: everything after {@code deliver}: the session mailbox and its hop to the
 * subscriber's event loop, packet ids and the in-flight window, building and encoding the outgoing
 * PUBLISH (see {@link PublishCodecBenchmark}: add N encodes for a full fan-out) and the socket
 * write; also forwarding to other nodes, the retained store (RETAIN is 0) and replication
 * acknowledgements (off). The Router gets a real Vert.x instance and node links that never
 * listen or connect: nothing here touches a socket or a Vert.x context.
 *
 * <p>Set-up: 10,000 background subscriptions of {@link Workload#iot} without its back-end ones
 * (per-device filters that do not match), then {@code subscribers} clients on the published topic
 * {@code devices/hot/telemetry}, by turns {@code devices/hot/telemetry}, {@code devices/+/telemetry},
 * {@code devices/hot/#}, {@code devices/#}; granted QoS 0, 1, 2 by turns; every other one with a
 * Subscription Identifier. The message is QoS 1 with a 64-byte payload, one object reused (the
 * broker builds it once per PUBLISH, before routing).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class FanoutBenchmark {
    static final int BACKGROUND = 10_000;
    static final String TOPIC = "devices/hot/telemetry";
    private static final String[] FILTERS = {TOPIC, "devices/+/telemetry", "devices/hot/#", "devices/#"};

    @Param({"1", "100", "1000"})
    public int subscribers;

    final BenchSubscriber.Sink sink = new BenchSubscriber.Sink();
    Router router;
    TopicName topic;
    Message message;
    private Vertx vertx;

    @Setup
    public void setUp() {
        vertx = Vertx.vertx();
        NodeLinks links = new NodeLinks(vertx, "node-0", 16L << 20);
        RouteTable routes = new RouteTable(links.localNode());
        LocalRoutes localRoutes = new LocalRoutes(vertx, links, routes, 5_000);
        Forwarder forwarder = new Forwarder(links, new BrokerMetrics(new SimpleMeterRegistry()));
        router = new Router(new LocalRetainedStore(), routes, localRoutes, forwarder);
        for (Workload.Sub s : Workload.iot(BACKGROUND, 0, false)) {
            subscribe(s.clientId(), s.filter(), 1, 0);
        }
        for (int j = 0; j < subscribers; j++) {
            subscribe("fan-" + j, TopicFilter.of(FILTERS[j % FILTERS.length]), j % 3, j % 2 == 0 ? j + 1 : 0);
        }
        topic = TopicName.of(TOPIC);
        byte[] payload = new byte[64];
        message = new Message(TOPIC, payload, 1, false, Properties.EMPTY, 0, "publisher-1", System.nanoTime());
    }

    private void subscribe(String clientId, TopicFilter filter, int qos, int subscriptionId) {
        router.subscribe(new BenchSubscriber(clientId, sink),
                new Subscription(clientId, filter, qos, false, false, 0, subscriptionId));
    }

    @TearDown
    public void tearDown() {
        vertx.close().await();
    }

    /** @return the Router's count of subscriptions reached (already complete: nothing is remote) */
    @Benchmark
    public Future<Integer> publish(Blackhole blackhole) {
        sink.blackhole = blackhole;
        return router.publish(topic, message);
    }
}
