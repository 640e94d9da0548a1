package io.starling.loadtest.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoublePredicate;

/**
 * One load-generator run to compare: its arguments (without --hosts), the result field that is
 * the figure of merit, and issue 4's target for it.
 */
record Scenario(String id, String title, String generatorScenario, List<String> args, String metric, String unit,
        boolean higherIsBetter, Target target) {

    /** What the figure must reach: against Mosquitto's (a ratio) or an absolute bound for Starling. */
    record Target(String text, boolean ratio, DoublePredicate met) {
        static Target ratioAtLeast(double r) {
            return new Target("≥ " + r + "× Mosquitto", true, x -> x >= r);
        }

        static Target atMost(double v, String unit) {
            return new Target("≤ " + Report.number(v) + " " + unit, false, x -> x <= v);
        }

        static Target atLeast(double v, String unit) {
            return new Target("≥ " + Report.number(v) + " " + unit, false, x -> x >= v);
        }
    }

    /**
     * Seconds each fixed-rate (latency) run publishes before its measured window. Every run is a
     * fresh generator JVM: its first seconds are spent compiling its own hot paths (the C2 compiler
     * took 1.6 s of CPU in a 10 s run), which put a p99 of 13-68 ms on a load whose steady p99 is
     * about 1.5 ms, against either broker. The warm-up's messages are still checked for loss.
     * Throughput runs have none: a flood during a warm-up leaves a backlog that is then delivered
     * inside the window with warm-up timestamps, so it counts for nothing. A connect storm's
     * warm-up is an unmeasured storm of as many clients, launched for at most as long.
     */
    static final String WARMUP_SECONDS = "3";

    /** The generator's arguments for a broker with these endpoints. */
    List<String> commandArgs(List<String> endpoints, int durationSeconds) {
        List<String> out = new ArrayList<>();
        out.add(generatorScenario);
        out.add("--hosts");
        out.add(String.join(",", endpoints));
        out.addAll(args);
        if ((isFixedRate() || generatorScenario.equals("connect-storm")) && !args.contains("--warmup")) {
            out.add("--warmup");
            out.add(WARMUP_SECONDS);
        }
        if (!args.contains("--duration")) {
            out.add("--duration");
            out.add(String.valueOf(durationSeconds));
        }
        return out;
    }

    private boolean isFixedRate() {
        int i = args.indexOf("--rate");
        return i >= 0 && !args.get(i + 1).equals("0");
    }

    /** Issue 4's comparisons, each run against both brokers with the same arguments. */
    static List<Scenario> comparisons(boolean quick) {
        String pairs = quick ? "4" : "10";
        String many = quick ? "100" : "1000";
        String sources = "127.0.0.1-127.0.0.8";
        return List.of(
                new Scenario("p2p-qos0", pairs + " publisher/subscriber pairs, QoS 0, 64 B, as fast as possible",
                        "p2p", List.of("--clients", pairs, "--qos", "0", "--payload", "64", "--rate", "0"),
                        "receiveRate", "msg/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("p2p-qos1", pairs + " publisher/subscriber pairs, QoS 1, 64 B, as fast as possible "
                        + "(32 in flight per publisher)", "p2p",
                        List.of("--clients", pairs, "--qos", "1", "--payload", "64", "--rate", "0", "--inflight", "32"),
                        "receiveRate", "msg/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("fan-out-qos0", "1 publisher to " + many + " subscribers, QoS 0, 64 B; deliveries per second",
                        "fan-out", List.of("--clients", many, "--qos", "0", "--payload", "64", "--rate", "0",
                                "--source-addresses", sources),
                        "receiveRate", "deliveries/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("fan-out-qos1", "1 publisher to " + many + " subscribers, QoS 1, 64 B; deliveries per second",
                        "fan-out", List.of("--clients", many, "--qos", "1", "--payload", "64", "--rate", "0",
                                "--source-addresses", sources),
                        "receiveRate", "deliveries/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("fan-in-qos0", many + " publishers to 1 subscriber, QoS 0, 64 B; deliveries per second",
                        "fan-in", List.of("--clients", many, "--qos", "0", "--payload", "64",
                                "--rate", "0", "--source-addresses", sources),
                        "receiveRate", "deliveries/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("fan-in-qos1", many + " publishers to 1 subscriber, QoS 1, 64 B; deliveries per second",
                        "fan-in", List.of("--clients", many, "--qos", "1", "--payload", "64",
                                "--rate", "0", "--source-addresses", sources),
                        "receiveRate", "deliveries/s", true, Target.ratioAtLeast(1.5)),
                new Scenario("latency-qos1", "100 publisher/subscriber pairs, QoS 1, 10,000 msg/s in all (fixed rate); "
                        + "p99 latency", "p2p", List.of("--clients", "100", "--qos", "1", "--payload", "64",
                                "--rate", "10000"),
                        "latencyP99Us", "µs", false, Target.atMost(2000, "µs")),
                new Scenario("connect-storm", (quick ? "1000" : "5000") + " clients connecting at once (MQTT 5, clean start)",
                        // No --source-addresses: 5,000 connections fit in one address's ports, and a
                        // bind() to a chosen address searches for a free port among the TIME_WAIT
                        // sockets of earlier runs (1,475 connects/s after a few storms, 5,000+ without).
                        "connect-storm", List.of("--clients", quick ? "1000" : "5000", "--connect-rate", "0"),
                        "connectRate", "connects/s", true, Target.atLeast(5000, "connects/s")));
    }
}
