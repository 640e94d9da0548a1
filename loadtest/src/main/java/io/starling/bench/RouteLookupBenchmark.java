package io.starling.bench;

import io.starling.cluster.routes.RouteTable;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.HashSet;
import java.util.Set;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cluster half of routing a PUBLISH: {@link RouteTable#match} finds the other nodes that have
 * subscribers for the topic, as the Router does before forwarding.
 *
 * <p>Set-up: this node is {@code node-0}; {@code node-1} .. {@code node-3} each announce
 * {@code filtersPerNode} filters (10k) of {@link Workload#iot} for their own devices (device ids do
 * not overlap between nodes). Only {@code node-1} has the 50 back-end wildcard filters
 * ({@code devices/+/telemetry}, {@code devices/#}, ...), as when back-end services connect to one
 * node. Every node, this one included, has members of {@code $share/ingest/devices/+/telemetry},
 * so telemetry topics also go through a shared route and its round robin. Each operation looks
 * up the next of 1024 topics of devices spread over the three nodes, and collects the target nodes
 * into a set as the Router does; the result is how many nodes (plus shared picks) it goes to.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RouteLookupBenchmark {
    static final String LOCAL = "node-0";
    static final int REMOTE_NODES = 3;
    static final TopicFilter INGEST = TopicFilter.of("$share/ingest/devices/+/telemetry");

    @Param({"10000"})
    public int filtersPerNode;

    RouteTable routes;
    TopicName[] topics;
    private int next;

    @Setup
    public void setUp() {
        routes = new RouteTable(LOCAL);
        int devices = 0;
        for (int n = 1; n <= REMOTE_NODES; n++) {
            boolean backend = n == 1;
            for (Workload.Sub s : Workload.iot(filtersPerNode, devices, backend)) {
                routes.add("node-" + n, s.filter());
            }
            devices += Workload.iotDevices(filtersPerNode, backend);
        }
        for (int n = 0; n <= REMOTE_NODES; n++) {
            routes.add("node-" + n, INGEST);
        }
        topics = Workload.topics(0, devices, 7);
    }

    /** @return the number of target nodes plus the shared subscriptions whose turn came */
    @Benchmark
    public int match() {
        TopicName topic = topics[next++ & (Workload.TOPICS - 1)];
        Targets targets = new Targets();
        routes.match(topic, targets);
        return targets.nodes.size() + targets.shared;
    }

    /** What Router's own visitor does with each match: a set of nodes, one pick per shared route. */
    static final class Targets implements RouteTable.Visitor {
        final Set<String> nodes = new HashSet<>(4);
        int shared;

        @Override
        public void node(String node) {
            nodes.add(node);
        }

        @Override
        public void shared(RouteTable.SharedRoute route) {
            if (route.pick(null) != null) {
                shared++;
            }
        }
    }
}
