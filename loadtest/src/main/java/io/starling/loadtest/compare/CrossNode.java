package io.starling.loadtest.compare;

import java.util.List;

/**
 * What a hop between two Starling nodes adds: the same fixed-rate QoS 1 load with publishers and
 * subscribers on one node, then with publishers on one node and subscribers on the other.
 * Mosquitto has no cluster, so this compares Starling with itself.
 */
final class CrossNode {
    private CrossNode() {
    }

    enum Leg {
        SAME_NODE("same node", "p2p"), CROSS_NODE("cross-node", "cross-node");

        final String label;
        final String scenario;

        Leg(String label, String scenario) {
            this.label = label;
            this.scenario = scenario;
        }
    }

    static List<String> args(Leg leg, List<String> endpoints, int duration) {
        String hosts = leg == Leg.SAME_NODE ? endpoints.get(0) : String.join(",", endpoints);
        return List.of(leg.scenario, "--hosts", hosts, "--clients", "10", "--qos", "1", "--payload", "64",
                "--rate", "1000", "--warmup", Scenario.WARMUP_SECONDS, "--duration", String.valueOf(duration));
    }
}
