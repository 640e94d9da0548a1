package io.starling.loadtest.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark command (loadtest/benchmark): Starling and Mosquitto on free loopback ports, the
 * same load generator runs against each in turn, several times, and docs/benchmarks.md gets the
 * medians, their ratio, the machine and the exact commands. Brokers alternate within each round so
 * that a noisy moment on the machine does not land on one broker only.
 */
public final class Comparison {
    public static void main(String[] argv) throws Exception {
        Options o = Options.parse(argv);
        Path workDir = Files.createTempDirectory("starling-bench");
        String java = ProcessHandle.current().info().command().orElse("java");
        LoadRun load = new LoadRun(java, o.loadJar, workDir);
        Results results = new Results();
        Map<String, String> commands = new LinkedHashMap<>();
        List<Scenario> scenarios = Scenario.comparisons(o.quick).stream()
                .filter(s -> s.id().matches(o.only)).toList();
        String mosquittoVersion = null;
        String starlingCommand = null;
        String mosquittoCommand = null;
        Instant started = Instant.now();
        boolean plain = !scenarios.isEmpty() || "idle-memory".matches(o.only) || "cross-node".matches(o.only);
        if (!scenarios.isEmpty()) try (Brokers.Broker starling = new Brokers.Starling(java, o.brokerJar, 1, workDir);
                Brokers.Broker mosquitto = new Brokers.Mosquitto(o.mosquitto, workDir)) {
            mosquittoVersion = mosquitto.version();
            starlingCommand = starling.command();
            mosquittoCommand = mosquitto.command();
            List<Brokers.Broker> brokers = List.of(starling, mosquitto);
            for (Brokers.Broker b : brokers) { // JIT and connection pools warm before anything counts
                log("warm-up against " + b.name());
                load.run(List.of("p2p", "--hosts", String.join(",", b.endpoints()), "--clients", "10", "--qos", "1",
                        "--rate", "0", "--duration", String.valueOf(Math.min(5, o.duration))), 5);
            }
            for (int round = 1; round <= o.runs; round++) {
                for (Scenario s : scenarios) {
                    List<Brokers.Broker> order = round % 2 == 1 ? brokers : List.of(mosquitto, starling);
                    for (Brokers.Broker b : order) {
                        List<String> args = s.commandArgs(b.endpoints(), o.duration);
                        commands.put(s.id(), load.commandLine(s.commandArgs(List.of("HOST:PORT"), o.duration)));
                        Map<String, String> r = load.run(args, o.duration);
                        results.add(s.id(), b.name(), r);
                        log(String.format("round %d/%d %-14s %-9s %s = %s", round, o.runs, s.id(), b.name(), s.metric(),
                                Report.number(FlatJson.number(r, s.metric()))));
                        Thread.sleep(1000); // sockets of the last run close before the next
                    }
                }
            }
        }
        if ("idle-memory".matches(o.only)) {
            // Fresh brokers: one that has run load holds memory it freed (the JVM's grown heap,
            // glibc's arenas), which new clients would reuse and so seem to cost nothing.
            for (int round = 1; round <= o.runs; round++) {
                for (boolean isStarling : new boolean[] {true, false}) {
                    try (Brokers.Broker b = isStarling ? new Brokers.Starling(java, o.brokerJar, 1, workDir)
                            : new Brokers.Mosquitto(o.mosquitto, workDir)) {
                        Thread.sleep(2000); // start-up settles
                        Map<String, String> r = IdleMemory.measure(b, load, o.idleClients, workDir);
                        results.add("idle-memory", b.name(), r);
                        commands.put("idle-memory", load.commandLine(IdleMemory.args(List.of("HOST:PORT"), o.idleClients, 40)));
                        log(String.format("round %d/%d idle-memory    %-9s %s B/client resident, %s B/client heap+direct "
                                        + "(%s connected)", round, o.runs, b.name(),
                                Report.number(FlatJson.number(r, "rssBytesPerClient")),
                                r.getOrDefault("heapAndDirectBytesPerClient", "-"), r.get("idleClientsConnected")));
                    }
                }
            }
        }
        String clusterCommand = null;
        if ("cross-node".matches(o.only)) {
            try (Brokers.Broker cluster = new Brokers.Starling(java, o.brokerJar, 2, workDir)) {
                clusterCommand = cluster.command();
                // Warmed like the single brokers: JIT, and enough collections that what the nodes
                // allocated at start-up is tenured rather than copied in every young pause
                // (10-23 ms pauses on fresh nodes, 4-6 ms once it was).
                log("warm-up against the 2-node cluster");
                load.run(List.of("cross-node", "--hosts", String.join(",", cluster.endpoints()), "--clients", "10",
                        "--qos", "1", "--rate", "0", "--duration", String.valueOf(Math.min(10, 2 * o.duration))), 10);
                commands.put("cross-node", load.commandLine(CrossNode.args(List.of("HOST1:PORT", "HOST2:PORT"),
                        o.duration)));
                for (int round = 1; round <= o.runs; round++) {
                    Map<String, String> r = load.run(CrossNode.args(cluster.endpoints(), o.duration), o.duration);
                    results.add("cross-node", CrossNode.CROSS_NODE, r);
                    results.add("cross-node", CrossNode.SAME_NODE, CrossNode.sameNodeLeg(r));
                    log(String.format("round %d/%d cross-node p99 = %s µs, same node p99 = %s µs (same messages)",
                            round, o.runs, Report.number(FlatJson.number(r, "latencyP99Us")),
                            Report.number(FlatJson.number(r, "sameNodeLatencyP99Us"))));
                    Thread.sleep(1000);
                }
            }
        }
        String tlsSection = null;
        if (TlsComparison.selected(o)) {
            TlsComparison tls = new TlsComparison(o, java, workDir, load, results);
            tls.run();
            tlsSection = TlsReport.section(results, tls.ran, o, tls.commands, tls.brokerCommands, started);
        }
        String passwordSection = null;
        if (PasswordStorm.selected(o)) {
            PasswordStorm storm = new PasswordStorm(o, java, workDir, load, results);
            storm.run();
            passwordSection = storm.section(started);
        }
        if (mosquittoVersion == null) {
            try (Brokers.Broker m = new Brokers.Mosquitto(o.mosquitto, workDir)) {
                mosquittoVersion = m.version();
            }
        }
        String markdown;
        if (plain) {
            markdown = new Report(results, scenarios, o, commands, starlingCommand, mosquittoCommand,
                    clusterCommand, mosquittoVersion, started).markdown();
            if (tlsSection != null) {
                markdown = TlsReport.splice(markdown, tlsSection);
            }
            if (passwordSection != null) {
                markdown = TlsReport.splice(markdown, passwordSection, PasswordStorm.BEGIN, PasswordStorm.END);
            }
        } else {
            // The TLS or password scenarios alone: their sections replace their old selves in the
            // report, and the rest stays what its own run wrote (a new file gets the sections and the machine).
            String machine = "## Machine (" + (tlsSection != null ? "TLS" : "password storm") + " run)\n\n"
                    + new Report(results, List.of(), o, commands, null, null, null, mosquittoVersion, started).machineText();
            markdown = Files.isRegularFile(o.out) ? Files.readString(o.out) : "";
            if (tlsSection != null) {
                markdown = TlsReport.splice(markdown, tlsSection.replace(TlsReport.END, machine + TlsReport.END));
            }
            if (passwordSection != null) {
                markdown = TlsReport.splice(markdown, tlsSection != null ? passwordSection
                        : passwordSection.replace(PasswordStorm.END, machine + PasswordStorm.END), PasswordStorm.BEGIN,
                        PasswordStorm.END);
            }
        }
        Files.createDirectories(o.out.toAbsolutePath().getParent());
        Files.writeString(o.out, markdown);
        log("wrote " + o.out);
        System.out.println(markdown);
    }

    static void log(String line) {
        System.err.println("[benchmark] " + line);
    }

    /** The commit the jars were built from, for the report and the version column. */
    static String gitDescribe() {
        try {
            Process p = new ProcessBuilder("git", "describe", "--always", "--dirty").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "(unknown commit)";
        } catch (IOException | InterruptedException e) {
            return "(unknown commit)";
        }
    }

    /** Command-line options of the benchmark command. */
    static final class Options {
        int runs = 3;
        int duration = 10;
        int idleClients = 15_000;
        /** The TLS scenarios: key types for the handshake storm, its clients, and the idle TLS connections. */
        List<String> tlsKeys = List.of("ec", "rsa");
        int tlsStormClients = 2000;
        int tlsIdleClients = 10_000;
        /** Devices in the reconnect storm with passwords, each its own user. */
        int passwordClients = 10_000;
        boolean quick;
        String only = ".*";
        Path out = Path.of("docs/benchmarks.md");
        Path loadJar = Path.of("loadtest/target/starling-loadtest.jar");
        Path brokerJar = Path.of("broker-node/target/starling-broker.jar");
        String mosquitto = "/usr/sbin/mosquitto";
        final List<String> given = new ArrayList<>();

        static Options parse(String[] argv) {
            Options o = new Options();
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                String v = i + 1 < argv.length ? argv[i + 1] : null;
                switch (a) {
                    case "--runs" -> o.runs = bounded(a, v, 1, 20);
                    case "--duration" -> o.duration = bounded(a, v, 1, 600);
                    case "--idle-clients" -> o.idleClients = bounded(a, v, 1, 18_000);
                    case "--tls-keys" -> {
                        o.tlsKeys = List.of(require(a, v).split(","));
                        if (!o.tlsKeys.stream().allMatch(k -> k.equals("ec") || k.equals("rsa"))) {
                            throw new IllegalArgumentException("--tls-keys is a comma-separated list of ec and rsa");
                        }
                    }
                    case "--tls-clients" -> o.tlsStormClients = bounded(a, v, 1, 18_000);
                    case "--tls-idle-clients" -> o.tlsIdleClients = bounded(a, v, 1, 18_000);
                    case "--password-clients" -> o.passwordClients = bounded(a, v, 1, 18_000);
                    case "--only" -> o.only = require(a, v);
                    case "--out" -> o.out = Path.of(require(a, v));
                    case "--mosquitto" -> o.mosquitto = require(a, v);
                    case "--quick" -> {
                        o.quick = true;
                        o.given.add(a);
                        continue;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a + "; options: --runs N "
                            + "--duration S --idle-clients N --tls-keys ec,rsa --tls-clients N --tls-idle-clients N --password-clients N --only REGEX --out FILE --mosquitto PATH --quick");
                }
                if (!a.equals("--mosquitto")) { // the script always passes it; not the user's choice
                    o.given.add(a + " " + v);
                }
                i++;
            }
            if (o.quick) {
                o.runs = Math.min(o.runs, 1);
                o.duration = Math.min(o.duration, 3);
                o.idleClients = Math.min(o.idleClients, 1000);
            }
            for (Path p : List.of(o.loadJar, o.brokerJar)) {
                if (!Files.isRegularFile(p)) {
                    throw new IllegalArgumentException(p + " is missing: build first (mvn -B -q -DskipTests package)");
                }
            }
            return o;
        }

        private static String require(String option, String v) {
            if (v == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return v;
        }

        private static int bounded(String option, String v, int min, int max) {
            int n = Integer.parseInt(require(option, v));
            if (n < min || n > max) {
                throw new IllegalArgumentException(option + " must be between " + min + " and " + max);
            }
            return n;
        }
    }
}
