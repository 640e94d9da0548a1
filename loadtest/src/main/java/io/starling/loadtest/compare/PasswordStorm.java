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
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 10's reconnect storm with passwords: N devices, each its own user in one password file
 * made by Debian's {@code mosquitto_passwd -U} ({@code $7$}, PBKDF2-SHA512, what Mosquitto 2.0
 * writes), connect at once to a fresh broker ({@code password-storm-first}: every CONNECT is a
 * hash check), then all of them again ({@code password-storm-reconnect}: what a broker behind a
 * load balancer sees after a node failure or a network blip). Starling and Mosquitto read the
 * same file. Connects per second, the p99 CONNECT-to-CONNACK, and the broker's resident memory:
 * its peak growth during each storm over its size before the first.
 */
final class PasswordStorm {
    static final String FIRST = "password-storm-first";
    static final String AGAIN = "password-storm-reconnect";
    static final String STARLING = "Starling";
    static final String MOSQUITTO = "Mosquitto";
    static final String BEGIN = "<!-- password-section: written by the password storm of loadtest/benchmark -->";
    static final String END = "<!-- /password-section -->";

    private final Comparison.Options o;
    private final String java;
    private final Path workDir;
    private final LoadRun load;
    private final Results results;
    private final Map<String, String> brokerCommands = new LinkedHashMap<>();
    private String loadCommand;

    PasswordStorm(Comparison.Options o, String java, Path workDir, LoadRun load, Results results) {
        this.o = o;
        this.java = java;
        this.workDir = workDir;
        this.load = load;
        this.results = results;
    }

    static boolean selected(Comparison.Options o) {
        return FIRST.matches(o.only) || AGAIN.matches(o.only);
    }

    int clients() {
        return o.quick ? Math.min(1000, o.passwordClients) : o.passwordClients;
    }

    static List<String> stormArgs(String endpoint, int clients, int durationSeconds) {
        return List.of("connect-storm", "--hosts", endpoint, "--clients", String.valueOf(clients), "--connect-rate", "0",
                "--credentials", String.valueOf(clients), "--duration", String.valueOf(durationSeconds),
                "--source-addresses", "127.0.0.1-127.0.0.8");
    }

    /** u0:p0 ... u(n-1):p(n-1), hashed in place by mosquitto_passwd -U. */
    static Path passwordFile(Path dir, int users, String mosquittoPasswd) throws IOException, InterruptedException {
        Path f = dir.resolve("passwd");
        StringBuilder plain = new StringBuilder();
        for (int i = 0; i < users; i++) {
            plain.append('u').append(i).append(":p").append(i).append('\n');
        }
        Files.writeString(f, plain);
        Process p = new ProcessBuilder(mosquittoPasswd, "-U", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(mosquittoPasswd + " -U failed: " + out);
        }
        String first = Files.readAllLines(f).get(0);
        if (!first.startsWith("u0:$")) {
            throw new IOException(mosquittoPasswd + " -U left the file unhashed: " + first);
        }
        return f;
    }

    void run() throws Exception {
        int n = clients();
        Path dir = Files.createTempDirectory(workDir, "passwd");
        String passwd = Path.of(o.mosquitto).resolveSibling("mosquitto_passwd").toString();
        if (!Files.isExecutable(Path.of(passwd))) {
            passwd = "mosquitto_passwd";
        }
        Path file = passwordFile(dir, n, passwd);
        String scheme = Files.readAllLines(file).get(0).split("\\$")[1];
        Comparison.log("password file of " + n + " users made by " + passwd + " -U ($" + scheme + "$)");
        loadCommand = load.commandLine(stormArgs("HOST:PORT", n, o.duration));
        for (int round = 1; round <= o.runs; round++) {
            for (String name : round % 2 == 1 ? List.of(STARLING, MOSQUITTO) : List.of(MOSQUITTO, STARLING)) {
                try (Brokers.Broker b = name.equals(STARLING)
                        ? new Brokers.Starling(java, o.brokerJar, 1, workDir, null, null,
                                Map.of("STARLING_AUTH_PASSWORD_FILE", file.toString()))
                        : new Brokers.Mosquitto(o.mosquitto, workDir, 1000, null, file)) {
                    brokerCommands.putIfAbsent(name, b.command());
                    Thread.sleep(2000); // start-up settles
                    long before = b.residentBytes();
                    for (String id : List.of(FIRST, AGAIN)) {
                        Map<String, String> r = measured(b, before, n);
                        results.add(id, name, r);
                        Comparison.log(String.format("round %d/%d %-24s %-9s %s connects/s, p99 %s µs, +%s MB resident, "
                                        + "%s failed", round, o.runs, id, name, Report.number(FlatJson.number(r, "connectRate")),
                                r.get("connectLatencyP99Us"), Report.number(FlatJson.number(r, "peakRssGrowthBytes") / 1e6),
                                r.get("connectsFailed")));
                        Thread.sleep(2000); // the storm's sockets close before the next
                    }
                }
            }
        }
    }

    /** One storm, the broker's resident size sampled every 100 ms while it runs. */
    private Map<String, String> measured(Brokers.Broker b, long before, int n) throws Exception {
        AtomicLong peak = new AtomicLong(before);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    peak.accumulateAndGet(b.residentBytes(), Math::max);
                    Thread.sleep(100);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        sampler.setDaemon(true);
        sampler.start();
        Map<String, String> r;
        try {
            r = new LinkedHashMap<>(load.run(stormArgs(b.endpoints().get(0), n, o.duration), o.duration));
        } finally {
            sampler.interrupt();
            sampler.join(2000);
        }
        r.put("peakRssGrowthBytes", String.valueOf(peak.get() - before));
        return r;
    }

    String section(Instant started) {
        int n = clients();
        StringBuilder md = new StringBuilder(BEGIN).append("\n## Reconnect storm with passwords\n\n");
        md.append("Written by `loadtest/benchmark").append(o.given.isEmpty() ? "" : " " + String.join(" ", o.given))
                .append("` (started ").append(started).append(", commit ").append(Comparison.gitDescribe())
                .append("). ").append(n).append(" devices, each its own user in one password file made by Debian's "
                        + "`mosquitto_passwd -U` (`$7$`, PBKDF2-SHA512 as Mosquitto 2.0 writes it), which both brokers "
                        + "read. A fresh broker each round; first every device connects at once (each CONNECT a hash "
                        + "check), then, once they have gone, all of them again: the reconnect storm a broker behind a "
                        + "load balancer sees after a failure. Starling remembers a successful check for 5 minutes "
                        + "(keyed by user and a digest of the password) and checks on a pool off its event loops; "
                        + "Mosquitto checks every CONNECT on its one thread. Starling's first storm also runs on a "
                        + "fresh JVM that is still compiling its connect path, as after a node's restart; its "
                        + "reconnect storm runs warm. Medians of ").append(o.runs)
                .append(" rounds, brokers alternating. Client: the load generator (`loadtest/`), plain TCP, MQTT 5.\n\n");
        md.append("| Figure | Starling | Mosquitto | Starling ÷ Mosquitto |\n|---|---:|---:|---:|\n");
        for (String id : List.of(FIRST, AGAIN)) {
            String storm = id.equals(FIRST) ? "first storm" : "reconnect storm";
            row(md, id, "connectRate", storm + ": CONNECT→CONNACK per second (higher is better)");
            row(md, id, "connectLatencyP99Us", storm + ": p99 TCP connect → CONNACK, µs");
            row(md, id, "peakRssGrowthBytes", storm + ": peak resident memory over the fresh broker's, bytes");
            row(md, id, "connectsFailed", storm + ": connects failed or refused");
        }
        md.append("\nBrokers (free loopback ports at the time; the files are the run's temporary ones):\n\n```\n");
        brokerCommands.forEach((name, cmd) -> md.append("# ").append(name).append('\n').append(cmd).append('\n'));
        md.append("```\n\nLoad generator, twice per broker and round (HOST:PORT is the broker's):\n\n```\n")
                .append(loadCommand).append("\n```\n").append(END).append('\n');
        return md.toString();
    }

    private void row(StringBuilder md, String id, String key, String title) {
        double s = results.of(id, STARLING).isEmpty() ? Double.NaN : results.median(id, STARLING, key);
        double m = results.of(id, MOSQUITTO).isEmpty() ? Double.NaN : results.median(id, MOSQUITTO, key);
        md.append("| ").append(title).append(" | ").append(Report.number(s)).append(" | ").append(Report.number(m))
                .append(" | ").append(Double.isNaN(s) || Double.isNaN(m) || m == 0 ? "-" : Report.number(s / m) + "×")
                .append(" |\n");
    }
}
