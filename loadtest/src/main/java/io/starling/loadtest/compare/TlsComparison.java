package io.starling.loadtest.compare;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Issue 10's TLS figures, in the benchmark's run: Starling with tls.provider jdk, Starling with
 * tls.provider openssl and Mosquitto, each with a TLS listener serving the same run-time
 * certificate. Two figures:
 *
 * <ul>
 *   <li>{@code tls-handshake-<key>}: a connect storm of new TLS clients, every one a full
 *       handshake (the generator resumes no session), CONNECT→CONNACK completed per second. The
 *       three brokers run side by side and take turns within each round, as the other scenarios.
 *   <li>{@code tls-idle-memory}: resident memory (and for Starling heap + direct buffers) per idle
 *       TLS connection, as {@link IdleMemory} measures a plain one, with a fresh broker each time.
 * </ul>
 */
final class TlsComparison {
    static final String JDK = "Starling (jdk)";
    static final String OPENSSL = "Starling (openssl)";
    static final String MOSQUITTO = "Mosquitto";
    static final List<String> BROKERS = List.of(JDK, OPENSSL, MOSQUITTO);
    static final String IDLE = "tls-idle-memory";
    /** The client's TLS: OpenSSL, the cheaper of the two, on the cores the brokers share. */
    static final String CLIENT_PROVIDER = "openssl";

    private final Comparison.Options o;
    private final String java;
    private final Path workDir;
    private final LoadRun load;
    private final Results results;
    final Map<String, String> commands = new LinkedHashMap<>();
    final Map<String, String> brokerCommands = new LinkedHashMap<>();
    final List<String> ran = new ArrayList<>();

    TlsComparison(Comparison.Options o, String java, Path workDir, LoadRun load, Results results) {
        this.o = o;
        this.java = java;
        this.workDir = workDir;
        this.load = load;
        this.results = results;
    }

    static String handshakeId(String keyType) {
        return "tls-handshake-" + keyType;
    }

    /** True when --only selects any TLS scenario. */
    static boolean selected(Comparison.Options o) {
        return IDLE.matches(o.only) || o.tlsKeys.stream().anyMatch(k -> handshakeId(k).matches(o.only));
    }

    static List<String> stormArgs(String endpoint, Path caFile, int clients, int durationSeconds) {
        return List.of("connect-storm", "--hosts", endpoint, "--clients", String.valueOf(clients), "--connect-rate", "0",
                "--warmup", Scenario.WARMUP_SECONDS, "--duration", String.valueOf(durationSeconds),
                "--cafile", caFile.toString(), "--tls-provider", CLIENT_PROVIDER, "--tls-resumption", "off");
    }

    static List<String> idleArgs(String endpoint, Path caFile, int clients, int holdSeconds) {
        List<String> a = new ArrayList<>(IdleMemory.args(List.of(endpoint), clients, holdSeconds));
        a.addAll(List.of("--cafile", caFile.toString(), "--tls-provider", CLIENT_PROVIDER, "--tls-resumption", "off"));
        return a;
    }

    private Brokers.Broker start(String name, TlsFiles tls) throws Exception {
        Brokers.Broker b = switch (name) {
            case JDK -> new Brokers.Starling(java, o.brokerJar, 1, workDir, tls, "jdk");
            case OPENSSL -> new Brokers.Starling(java, o.brokerJar, 1, workDir, tls, "openssl");
            default -> new Brokers.Mosquitto(o.mosquitto, workDir, 1000, tls);
        };
        brokerCommands.putIfAbsent(name, b.command());
        return b;
    }

    void run() throws Exception {
        for (String key : o.tlsKeys) {
            if (handshakeId(key).matches(o.only)) {
                handshakes(key);
            }
        }
        if (IDLE.matches(o.only)) {
            idleMemory();
        }
    }

    private void handshakes(String key) throws Exception {
        String id = handshakeId(key);
        ran.add(id);
        TlsFiles tls = TlsFiles.generate(workDir, key);
        int clients = o.quick ? 500 : o.tlsStormClients;
        List<Brokers.Broker> brokers = new ArrayList<>();
        try {
            for (String name : BROKERS) {
                brokers.add(start(name, tls));
            }
            for (Brokers.Broker b : brokers) { // the broker's JIT warms on handshakes before anything counts
                Comparison.log("warm-up (TLS " + tls.description() + ") against " + b.name());
                load.run(stormArgs(b.tlsEndpoints().get(0), tls.caFile(), clients, o.duration), o.duration);
            }
            commands.put(id, load.commandLine(stormArgs("HOST:TLSPORT", Path.of("ca.crt"), clients, o.duration)));
            for (int round = 1; round <= o.runs; round++) {
                for (int i = 0; i < brokers.size(); i++) {
                    Brokers.Broker b = brokers.get((i + round - 1) % brokers.size()); // each goes first in turn
                    Map<String, String> r = load.run(stormArgs(b.tlsEndpoints().get(0), tls.caFile(), clients,
                            o.duration), o.duration);
                    results.add(id, b.name(), r);
                    Comparison.log(String.format("round %d/%d %s %-18s connectRate = %s /s (%s)", round, o.runs, id,
                            b.name(), Report.number(FlatJson.number(r, "connectRate")), r.get("tls")));
                    Thread.sleep(1000);
                }
            }
        } finally {
            brokers.forEach(Brokers.Broker::close);
        }
    }

    private void idleMemory() throws Exception {
        ran.add(IDLE);
        TlsFiles tls = TlsFiles.generate(workDir, "ec");
        int clients = o.quick ? Math.min(1000, o.tlsIdleClients) : o.tlsIdleClients;
        // The generator holds its connections this long once all are connected; memory is taken
        // within seconds of that. TLS connects are slow (about 200/s on the JDK, cold): up to
        // connectWait seconds for 10,000 of them.
        int hold = 25;
        int connectWait = 150;
        commands.put(IDLE, load.commandLine(idleArgs("HOST:TLSPORT", Path.of("ca.crt"), clients, hold)));
        for (int round = 1; round <= o.runs; round++) {
            for (int i = 0; i < BROKERS.size(); i++) {
                String name = BROKERS.get((i + round - 1) % BROKERS.size());
                // A fresh broker each time, as for plain idle connections (IdleMemory says why).
                try (Brokers.Broker b = start(name, tls)) {
                    Thread.sleep(2000);
                    Map<String, String> r = IdleMemory.measure(b, idleArgs(b.tlsEndpoints().get(0), tls.caFile(), clients,
                            hold), hold, connectWait, clients, workDir, load);
                    results.add(IDLE, b.name(), r);
                    Comparison.log(String.format("round %d/%d %s %-18s %s B/connection resident, %s B heap+direct "
                                    + "(%s connected)", round, o.runs, IDLE, b.name(),
                            Report.number(FlatJson.number(r, "rssBytesPerClient")),
                            r.getOrDefault("heapAndDirectBytesPerClient", "-"), r.get("idleClientsConnected")));
                }
            }
        }
    }
}
