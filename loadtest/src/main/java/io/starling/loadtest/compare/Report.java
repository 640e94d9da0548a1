package io.starling.loadtest.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** docs/benchmarks.md: medians side by side, the ratio, the targets, every run, the machine and the commands. */
final class Report {
    private static final String STARLING = "Starling";
    private static final String MOSQUITTO = "Mosquitto";
    private final Results results;
    private final List<Scenario> scenarios;
    private final Comparison.Options options;
    private final Map<String, String> commands;
    private final String starlingCommand;
    private final String mosquittoCommand;
    private final String clusterCommand;
    private final String mosquittoVersion;
    private final Instant started;

    Report(Results results, List<Scenario> scenarios, Comparison.Options options, Map<String, String> commands,
            String starlingCommand, String mosquittoCommand, String clusterCommand, String mosquittoVersion,
            Instant started) {
        this.results = results;
        this.scenarios = scenarios;
        this.options = options;
        this.commands = commands;
        this.starlingCommand = starlingCommand;
        this.mosquittoCommand = mosquittoCommand;
        this.clusterCommand = clusterCommand;
        this.mosquittoVersion = mosquittoVersion;
        this.started = started;
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmarks: Starling and Mosquitto on the same machine, in the same run\n\n");
        md.append("Written by `loadtest/benchmark").append(options.given.isEmpty() ? "" : " " + String.join(" ", options.given))
                .append("` (started ").append(started).append(", commit ").append(Comparison.gitDescribe())
                .append("). Each figure is the **median of ").append(options.runs).append(" run")
                .append(options.runs == 1 ? "" : "s").append("**; the brokers take turns within each round, and the same "
                        + "load generator (`loadtest/`, its own JVM) drives both. Both brokers and the load generator share "
                        + "the machine's cores, as they would in any one-machine comparison.\n\n");
        md.append("## Results\n\n");
        md.append("| Scenario | Figure | Starling | Mosquitto | Starling ÷ Mosquitto | Target | Met | Lost / dup / out of order (Starling; Mosquitto) |\n");
        md.append("|---|---|---:|---:|---:|---|---|---|\n");
        for (Scenario s : scenarios) {
            double st = results.median(s.id(), STARLING, s.metric());
            double mo = results.median(s.id(), MOSQUITTO, s.metric());
            double ratio = st / mo;
            boolean met = s.target().ratio()
                    ? (s.higherIsBetter() ? s.target().met().test(ratio) : s.target().met().test(1 / ratio))
                    : s.target().met().test(st);
            md.append("| ").append(s.title()).append(" | ").append(s.metric()).append(" (").append(s.unit()).append(") | ")
                    .append(number(st)).append(" | ").append(number(mo)).append(" | ").append(number(ratio)).append("× | ")
                    .append(s.target().text()).append(" | ").append(met ? "yes" : "**no**").append(" | ")
                    .append(integrity(s.id(), STARLING)).append("; ").append(integrity(s.id(), MOSQUITTO)).append(" |\n");
        }
        if (!results.of("idle-memory", STARLING).isEmpty()) {
            double stRss = results.median("idle-memory", STARLING, "rssBytesPerClient");
            double moRss = results.median("idle-memory", MOSQUITTO, "rssBytesPerClient");
            double stJvm = results.median("idle-memory", STARLING, "heapAndDirectBytesPerClient");
            md.append("| ").append(options.idleClients).append(" idle clients: heap after full GC + direct buffers, per client")
                    .append(" | bytes/client | ").append(number(stJvm)).append(" | - | - | ≤ 4,096 B | ")
                    .append(stJvm <= 4096 ? "yes" : "**no**").append(" | - |\n");
            md.append("| ").append(options.idleClients).append(" idle clients: resident memory, per client | bytes/client | ")
                    .append(number(stRss)).append(" | ").append(number(moRss)).append(" | ").append(number(stRss / moRss))
                    .append("× | (lower is better) | - | - |\n");
            md.append("| ").append(options.idleClients).append(" idle clients: connect rate | connects/s | ")
                    .append(number(results.median("idle-memory", STARLING, "connectRate"))).append(" | ")
                    .append(number(results.median("idle-memory", MOSQUITTO, "connectRate"))).append(" | ")
                    .append(number(results.median("idle-memory", STARLING, "connectRate")
                            / results.median("idle-memory", MOSQUITTO, "connectRate")))
                    .append("× | - | - | - |\n");
        }
        if (!results.of("cross-node", CrossNode.SAME_NODE).isEmpty()) {
            double same = results.median("cross-node", CrossNode.SAME_NODE, "latencyP99Us");
            double cross = results.median("cross-node", CrossNode.CROSS_NODE, "latencyP99Us");
            md.append("| Two Starling nodes, 10 publishers, QoS 1, 1,000 msg/s, each message to a subscriber on the other "
                    + "node and one on the publisher's: p99 of the first minus p99 of the second | µs | ")
                    .append(number(cross - same)).append(" (").append(number(cross))
                    .append(" − ").append(number(same)).append(") | no cluster | - | ≤ 1,000 µs | ")
                    .append(cross - same <= 1000 ? "yes" : "**no**").append(" | ")
                    .append(integrity("cross-node", CrossNode.CROSS_NODE)).append(" |\n");
        }
        md.append("\nFor throughput the ratio is Starling's figure over Mosquitto's (higher is better); for latency and "
                + "memory, lower is better. Latency is measured by the load generator from the send time written in "
                + "each payload (for fixed-rate runs the scheduled send time, so a stall is not hidden) to its receipt.\n\n");
        md.append("## Every run\n\n| Scenario | Broker | Figure | Runs | Median |\n|---|---|---|---|---:|\n");
        for (Scenario s : scenarios) {
            for (String b : List.of(STARLING, MOSQUITTO)) {
                runs(md, s.id(), b, s.metric());
            }
        }
        for (String b : List.of(STARLING, MOSQUITTO)) {
            runs(md, "idle-memory", b, "rssBytesPerClient");
        }
        runs(md, "idle-memory", STARLING, "heapAndDirectBytesPerClient");
        for (String leg : List.of(CrossNode.SAME_NODE, CrossNode.CROSS_NODE)) {
            runs(md, "cross-node", leg, "latencyP99Us");
        }
        md.append("\n## Machine\n\n").append(machine()).append("\n");
        md.append("## Commands\n\nThe whole comparison: `loadtest/benchmark")
                .append(options.given.isEmpty() ? "" : " " + String.join(" ", options.given)).append("`.\n\n");
        md.append("Brokers (ports were free loopback ports at the time):\n\n```\n").append(starlingCommand).append('\n')
                .append(mosquittoCommand).append('\n');
        if (clusterCommand != null) {
            md.append(clusterCommand).append('\n');
        }
        md.append("```\n\nLoad generator, per scenario (HOST:PORT is the broker under test):\n\n```\n");
        commands.forEach((id, cmd) -> md.append("# ").append(id).append('\n').append(cmd).append('\n'));
        md.append("```\n");
        return md.toString();
    }

    private void runs(StringBuilder md, String scenario, String broker, String key) {
        List<Map<String, String>> rs = results.of(scenario, broker);
        if (rs.isEmpty() || !rs.get(0).containsKey(key)) {
            return;
        }
        double[] v = results.values(scenario, broker, key);
        md.append("| ").append(scenario).append(" | ").append(broker).append(" | ").append(key).append(" | ")
                .append(Arrays.stream(v).mapToObj(Report::number).collect(Collectors.joining(", "))).append(" | ")
                .append(number(Results.median(v))).append(" |\n");
    }

    private String integrity(String scenario, String broker) {
        long lost = results.total(scenario, broker, "lost");
        if (lost < 0) {
            return "-";
        }
        return lost + " / " + results.total(scenario, broker, "duplicates") + " / "
                + results.total(scenario, broker, "outOfOrder");
    }

    /** The machine list, for a report section written by a run of its own. */
    String machineText() {
        return machine();
    }

    private String machine() {
        StringBuilder m = new StringBuilder();
        m.append("- CPU: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores available\n");
        m.append("- Memory: ").append(memTotal()).append('\n');
        m.append("- OS: ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version")).append('\n');
        m.append("- Java: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version")).append('\n');
        m.append("- Mosquitto: ").append(mosquittoVersion).append('\n');
        m.append("- Open files per process: ").append(openFileLimit()).append('\n');
        return m.toString();
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String memTotal() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .map(l -> String.format(Locale.ROOT, "%.1f GiB",
                            Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0))
                    .findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String openFileLimit() {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream().filter(l -> l.startsWith("Max open files"))
                    .map(l -> l.replaceAll("\\s+", " ").trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
