package io.starling.bench;

import io.starling.topic.TopicName;
import java.util.List;
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
 * The first half of every PUBLISH: which local subscriptions a topic name matches, in the
 * {@link io.starling.topic.TopicTrie} the broker's subscription index is made of.
 *
 * <p>Set-up: {@code subscriptions} subscriptions (10k, 100k) of one of two sets, see {@link Workload}:
 * <ul>
 *   <li>{@code iot}: one client per subscription; 50 back-end wildcard subscriptions
 *       ({@code devices/+/telemetry}, {@code devices/+/status}, {@code devices/+/alerts/#},
 *       {@code devices/#}), the rest per device: 70% exact {@code devices/d{i}/cmd}, 15%
 *       {@code devices/d{i}/+}, 10% {@code devices/d{i}/#}, 5% {@code +/d{i}/telemetry};</li>
 *   <li>{@code sharedHeavy}: two thirds shared-subscription members: per device an exact
 *       {@code devices/d{i}/cmd} and a two-member {@code $share/twin/devices/d{i}/+}, plus
 *       {@code $share/ingest/devices/+/telemetry} (16 members), {@code $share/alerts/devices/+/alerts/#}
 *       (8) and 5 plain {@code devices/#}.</li>
 * </ul>
 * Each operation looks up the next of 1024 pre-parsed topics of random devices (depth 3 and 4:
 * {@code devices/d{i}/telemetry|status|alerts/overheat}), which reach 25 to 26 clients
 * ({@code alerts}: 10 to 11) in {@code iot}, 6 to 7 in {@code sharedHeavy}. The result is the number of clients reached, returned so that JMH
 * consumes it. Excluded: parsing the topic name (done once per PUBLISH by the decoder's caller).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class TopicMatchBenchmark {
    @Param({"10000", "100000"})
    public int subscriptions;

    @Param({"iot", "sharedHeavy"})
    public String set;

    SubscriptionTries tries;
    TopicName[] topics;
    private int next;

    @Setup
    public void setUp() {
        List<Workload.Sub> subs;
        int devices;
        if (set.equals("iot")) {
            subs = Workload.iot(subscriptions, 0, true);
            devices = Workload.iotDevices(subscriptions, true);
        } else if (set.equals("sharedHeavy")) {
            subs = Workload.sharedHeavy(subscriptions);
            devices = Workload.sharedHeavyDevices(subscriptions);
        } else {
            throw new IllegalArgumentException("unknown subscription set: " + set);
        }
        tries = new SubscriptionTries(subs);
        topics = Workload.topics(0, devices, 42);
    }

    /** @return how many clients the topic reaches */
    @Benchmark
    public int match() {
        TopicName topic = topics[next++ & (Workload.TOPICS - 1)];
        return tries.match(topic);
    }
}
