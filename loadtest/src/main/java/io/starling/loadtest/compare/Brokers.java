package io.starling.loadtest.compare;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The brokers under test, each a child process on loopback ports that were free when it started. */
public final class Brokers {
    private Brokers() {
    }

    /** One broker process: where it listens, how to measure it, how to stop it. */
    public interface Broker extends AutoCloseable {
        String name();

        String version();

        /** host:port of each node, for the load generator's --hosts. */
        List<String> endpoints();

        /** host:port of each node's TLS listener; empty when it has none. */
        default List<String> tlsEndpoints() {
            return List.of();
        }

        /** The exact command line(s) that started it, for the report. */
        String command();

        /** Resident memory of all its processes, in bytes (what the operating system charges for it). */
        long residentBytes() throws IOException;

        /** Heap in use after a full GC plus direct buffers, where the broker runs on a JVM; -1 otherwise. */
        long heapAndDirectBytes() throws IOException, InterruptedException;

        @Override
        void close();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port", e);
        }
    }

    static void awaitListening(int port, Process process, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited with " + process.exitValue() + " before listening");
            }
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException(what + " did not listen on " + port + " within 60 s");
    }

    static long residentBytes(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS for process " + pid);
    }

    static void stop(Process p) {
        p.destroy(); // SIGTERM: Starling leaves its cluster, Mosquitto exits
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** Mosquitto from Debian, configured like Starling's defaults where both have the setting. */
    public static final class Mosquitto implements Broker {
        private final Process process;
        private final int port;
        private final int tlsPort;
        private final String command;
        private final String version;
        private final Path dir;

        Mosquitto(String binary, Path workDir) throws IOException, InterruptedException {
            this(binary, workDir, 1000);
        }

        /** @param maxQueuedMessages Mosquitto's per-client queue; 1,000 is Starling's default */
        public Mosquitto(String binary, Path workDir, int maxQueuedMessages) throws IOException, InterruptedException {
            this(binary, workDir, maxQueuedMessages, null);
        }

        /** With a TLS listener as well, serving these files (no client certificates asked for), when tls is not null. */
        Mosquitto(String binary, Path workDir, int maxQueuedMessages, TlsFiles tls) throws IOException, InterruptedException {
            this(binary, workDir, maxQueuedMessages, tls, null);
        }

        /** With clients checked against {@code passwordFile} (Mosquitto's format) and no anonymous ones, when it is not null. */
        Mosquitto(String binary, Path workDir, int maxQueuedMessages, TlsFiles tls, Path passwordFile)
                throws IOException, InterruptedException {
            port = freePort();
            tlsPort = tls == null ? -1 : freePort();
            dir = Files.createTempDirectory(workDir, "mosquitto");
            Path conf = dir.resolve("mosquitto.conf");
            List<String> tlsListener = tls == null ? List.of() : List.of(
                    "listener " + tlsPort + " 127.0.0.1",
                    "certfile " + tls.certFile(),
                    "keyfile " + tls.keyFile(),
                    "cafile " + tls.caFile());
            Files.writeString(conf, String.join("\n",
                    "listener " + port + " 127.0.0.1",
                    passwordFile == null ? "allow_anonymous true" : "allow_anonymous false\npassword_file " + passwordFile,
                    // Starling's defaults: 100 messages in flight and 1,000 queued per client.
                    "max_inflight_messages 100",
                    "max_queued_messages " + maxQueuedMessages,
                    // Starling disables Nagle on every connection; so does this, for a fair latency.
                    "set_tcp_nodelay true",
                    "persistence false",
                    "log_type error",
                    "log_type warning",
                    "log_dest stderr",
                    // Started as root, Mosquitto would switch to the mosquitto user; no need on loopback.
                    "user root",
                    String.join("\n", tlsListener),
                    ""));
            command = binary + " -c " + conf + "   # mosquitto.conf: " + Files.readString(conf).trim().replace("\n", "; ");
            process = new ProcessBuilder(binary, "-c", conf.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
            awaitListening(port, process, "mosquitto");
            if (tls != null) {
                awaitListening(tlsPort, process, "mosquitto's TLS listener");
            }
            version = versionOf(binary);
        }

        private static String versionOf(String binary) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(binary, "-h").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(5, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("mosquitto").trim();
        }

        @Override
        public String name() {
            return "Mosquitto";
        }

        @Override
        public String version() {
            return version;
        }

        @Override
        public List<String> endpoints() {
            return List.of("127.0.0.1:" + port);
        }

        @Override
        public List<String> tlsEndpoints() {
            return tlsPort < 0 ? List.of() : List.of("127.0.0.1:" + tlsPort);
        }

        @Override
        public String command() {
            return command;
        }

        @Override
        public long residentBytes() throws IOException {
            return Brokers.residentBytes(process.pid());
        }

        @Override
        public long heapAndDirectBytes() {
            return -1;
        }

        @Override
        public void close() {
            stop(process);
        }
    }

    /** Starling nodes from the shaded jar, as `java -jar` with no options, the README's way; a cluster if n > 1. */
    static final class Starling implements Broker {
        private final List<Process> processes = new ArrayList<>();
        private final List<String> endpoints = new ArrayList<>();
        private final List<String> commands = new ArrayList<>();
        private final String java;
        private final List<Integer> metricsPorts = new ArrayList<>();
        private final List<String> tlsEndpoints = new ArrayList<>();
        private final String tlsProvider;

        Starling(String java, Path jar, int nodes, Path workDir) throws IOException, InterruptedException {
            this(java, jar, nodes, workDir, null, null);
        }

        /**
         * With a TLS listener as well when tls is not null, serving these files with tls.provider
         * {@code provider} (jdk or openssl), its other TLS keys at their defaults.
         */
        Starling(String java, Path jar, int nodes, Path workDir, TlsFiles tls, String provider)
                throws IOException, InterruptedException {
            this(java, jar, nodes, workDir, tls, provider, Map.of());
        }

        /** As above, with more configuration keys given as environment variables (e.g. STARLING_AUTH_PASSWORD_FILE). */
        Starling(String java, Path jar, int nodes, Path workDir, TlsFiles tls, String provider, Map<String, String> moreEnv)
                throws IOException, InterruptedException {
            this.java = java;
            this.tlsProvider = tls == null ? null : provider;
            int[] tlsPorts = new int[nodes];
            int[] mqtt = new int[nodes];
            int[] hz = new int[nodes];
            int[] link = new int[nodes];
            for (int i = 0; i < nodes; i++) {
                mqtt[i] = freePort();
                hz[i] = freePort();
                link[i] = freePort();
            }
            String clusterName = "bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
            for (int i = 0; i < nodes; i++) {
                List<String> members = new ArrayList<>();
                for (int j = 0; j < nodes; j++) {
                    if (j != i) {
                        members.add("127.0.0.1:" + hz[j]);
                    }
                }
                Map<String, String> env = new java.util.LinkedHashMap<>();
                env.put("STARLING_LISTENER_PORT", String.valueOf(mqtt[i]));
                env.put("STARLING_CLUSTER_PORT", String.valueOf(hz[i]));
                env.put("STARLING_CLUSTER_LINK_PORT", String.valueOf(link[i]));
                env.put("STARLING_CLUSTER_MEMBERS", String.join(",", members));
                env.put("STARLING_CLUSTER_NAME", clusterName);
                int metricsPort = freePort();
                metricsPorts.add(metricsPort);
                env.put("STARLING_METRICS_HOST", "127.0.0.1");
                env.put("STARLING_METRICS_PORT", String.valueOf(metricsPort));
                env.put("STARLING_SYS_INTERVAL", "0");
                if (tls != null) {
                    tlsPorts[i] = freePort();
                    env.put("STARLING_TLS_PROVIDER", provider);
                    env.put("STARLING_LISTENER_TLS_ENABLED", "true");
                    env.put("STARLING_LISTENER_TLS_PORT", String.valueOf(tlsPorts[i]));
                    env.put("STARLING_LISTENER_TLS_CERT_FILE", tls.certFile().toString());
                    env.put("STARLING_LISTENER_TLS_KEY_FILE", tls.keyFile().toString());
                    env.put("STARLING_LISTENER_TLS_CA_FILE", tls.caFile().toString());
                    tlsEndpoints.add("127.0.0.1:" + tlsPorts[i]);
                }
                env.putAll(moreEnv);
                ProcessBuilder pb = new ProcessBuilder(java, "-jar", jar.toString());
                pb.environment().keySet().removeIf(k -> k.startsWith("STARLING_"));
                pb.environment().putAll(env);
                pb.redirectErrorStream(true).redirectOutput(Files.createTempFile(workDir, "starling-node" + i, ".log").toFile());
                StringBuilder cmd = new StringBuilder();
                env.forEach((k, v) -> cmd.append(k).append('=').append(v).append(' '));
                commands.add(cmd + "java -jar " + jar);
                processes.add(pb.start());
                endpoints.add("127.0.0.1:" + mqtt[i]);
            }
            for (int i = 0; i < nodes; i++) {
                awaitListening(mqtt[i], processes.get(i), "starling node " + i);
                if (tls != null) {
                    awaitListening(tlsPorts[i], processes.get(i), "starling node " + i + "'s TLS listener");
                }
            }
            if (nodes > 1) {
                Thread.sleep(8000); // membership settles (Hazelcast join + route exchange) before load
            }
        }

        @Override
        public String name() {
            if (tlsProvider != null) {
                return "Starling (" + tlsProvider + ")";
            }
            return processes.size() == 1 ? "Starling" : "Starling (" + processes.size() + " nodes)";
        }

        @Override
        public List<String> tlsEndpoints() {
            return tlsEndpoints;
        }

        @Override
        public String version() {
            return "Starling " + Comparison.gitDescribe();
        }

        @Override
        public List<String> endpoints() {
            return endpoints;
        }

        @Override
        public String command() {
            return String.join("\n", commands);
        }

        @Override
        public long residentBytes() throws IOException {
            long sum = 0;
            for (Process p : processes) {
                sum += Brokers.residentBytes(p.pid());
            }
            return sum;
        }

        @Override
        public long heapAndDirectBytes() throws IOException, InterruptedException {
            long sum = 0;
            for (int i = 0; i < processes.size(); i++) {
                sum += JvmMemory.afterFullGc(java, processes.get(i).pid(), metricsPorts.get(i));
            }
            return sum;
        }

        @Override
        public void close() {
            processes.forEach(Brokers::stop);
        }
    }
}
