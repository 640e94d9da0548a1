package io.starling.loadtest.compare;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a hop between two Starling nodes adds: one fixed-rate QoS 1 run in which each message goes
 * both to a subscriber on the other node and to one on the publisher's own node (the generator's
 * cross-node scenario), the hop being the difference of their p99s. Both legs see the same
 * moments, GC pauses and scheduling of three JVMs on shared cores included: measured in separate
 * runs, as before, the same-node p99 alone moved between 1.6 and 3.1 ms from run to run at this
 * rate, and the difference swung by as much. Mosquitto has no cluster, so this compares Starling
 * with itself.
 */
final class CrossNode {
    static final String SAME_NODE = "same node";
    static final String CROSS_NODE = "cross-node";

    private CrossNode() {
    }

    static List<String> args(List<String> endpoints, int duration) {
        return List.of("cross-node", "--hosts", String.join(",", endpoints), "--clients", "10", "--qos", "1",
                "--payload", "64", "--rate", "1000", "--warmup", Scenario.WARMUP_SECONDS,
                "--duration", String.valueOf(duration));
    }

    /** The same-node leg of a run: its reference subscribers' latency, under the names the report reads. */
    static Map<String, String> sameNodeLeg(Map<String, String> run) {
        Map<String, String> leg = new HashMap<>(run);
        leg.put("latencyP50Us", run.getOrDefault("sameNodeLatencyP50Us", "0"));
        leg.put("latencyP99Us", run.getOrDefault("sameNodeLatencyP99Us", "0"));
        leg.put("latencyCount", run.getOrDefault("sameNodeLatencyCount", "0"));
        return leg;
    }
}
