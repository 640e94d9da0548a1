package io.starling.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real HAProxy ({@code haproxy -db -f cfg}, Debian package haproxy) in TCP mode on 127.0.0.1,
 * balancing round robin over the given MQTT ports with health checks every 500 ms (two failures
 * mark a server down, two successes up again). Client and server timeouts are 5 minutes, since
 * MQTT connections are long-lived. A failed connect to a server is retried on another one
 * ({@code option redispatch}), as a production configuration would do. Its state is read from the
 * CSV of its own stats page on a second port, as an operator would read it.
 */
final class HaproxyProcess implements AutoCloseable {
    /** On the PATH, or where Debian puts it (/usr/sbin is often not on a non-root PATH). */
    static final String BINARY = MosquittoClientsIT.onPath("haproxy") ? "haproxy" : "/usr/sbin/haproxy";
    static final int START_SECONDS = 10;

    /** One backend server as the stats page shows it. */
    record Server(String name, String status, int currentSessions, int totalSessions) {
        boolean up() {
            return status.startsWith("UP");
        }
    }

    private final Process process;
    private final Path dir;
    private final Path log;
    private final int port;
    private final int statsPort;
    private final List<String> serverNames;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread killOnExit;

    private HaproxyProcess(Process process, Path dir, Path log, int port, int statsPort, List<String> serverNames) {
        this.process = process;
        this.dir = dir;
        this.log = log;
        this.port = port;
        this.statsPort = statsPort;
        this.serverNames = serverNames;
        this.killOnExit = new Thread(process::destroyForcibly, "haproxy-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    static boolean installed() {
        return MosquittoClientsIT.onPath("haproxy") || Files.isExecutable(Path.of("/usr/sbin/haproxy"));
    }

    /**
     * Writes the configuration for servers (name to MQTT port, in order), starts HAProxy and waits
     * until it listens and counts every server up.
     */
    static HaproxyProcess start(Map<String, Integer> servers) throws IOException, InterruptedException {
        return start(servers, "");
    }

    /** As {@link #start(Map)}, each server line with {@code serverOptions} (e.g. " send-proxy-v2 check-send-proxy"). */
    static HaproxyProcess start(Map<String, Integer> servers, String serverOptions) throws IOException, InterruptedException {
        return start(servers, serverOptions, "");
    }

    /** As {@link #start(Map, String)}, the frontend's bind line with {@code bindOptions} (e.g. " ssl crt server.pem"). */
    static HaproxyProcess start(Map<String, Integer> servers, String serverOptions, String bindOptions)
            throws IOException, InterruptedException {
        int port = freePort();
        int statsPort = freePort();
        while (statsPort == port) {
            statsPort = freePort();
        }
        StringBuilder cfg = new StringBuilder()
                .append("global\n")
                .append("  maxconn 4000\n")
                .append("defaults\n")
                .append("  mode tcp\n")
                .append("  timeout connect 2s\n")
                .append("  timeout client 5m\n")
                .append("  timeout server 5m\n")
                .append("  retries 2\n")
                .append("  option redispatch\n")
                .append("frontend mqtt\n")
                .append("  bind 127.0.0.1:").append(port).append(bindOptions).append('\n')
                .append("  default_backend brokers\n")
                .append("backend brokers\n")
                .append("  balance roundrobin\n");
        servers.forEach((name, mqttPort) -> cfg.append("  server ").append(name).append(" 127.0.0.1:").append(mqttPort)
                .append(" check inter 500 fall 2 rise 2").append(serverOptions).append('\n'));
        cfg.append("frontend stats\n")
                .append("  mode http\n")
                .append("  bind 127.0.0.1:").append(statsPort).append('\n')
                .append("  stats enable\n")
                .append("  stats uri /stats\n");
        Path dir = Files.createTempDirectory("starling-haproxy");
        Path config = dir.resolve("haproxy.cfg");
        Path log = dir.resolve("haproxy.log");
        Files.writeString(config, cfg);
        Process p = new ProcessBuilder(BINARY, "-db", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HaproxyProcess h = new HaproxyProcess(p, dir, log, port, statsPort, List.copyOf(servers.keySet()));
        try {
            h.awaitServers("every server up", all -> all.size() == servers.size()
                    && all.values().stream().allMatch(Server::up), START_SECONDS);
            return h;
        } catch (Exception | Error e) {
            h.close();
            throw e;
        }
    }

    /** The port clients connect to. */
    int port() {
        return port;
    }

    String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    /** The backend servers by name, read from the stats page now. */
    Map<String, Server> servers() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort
                + "/stats;csv")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        String[] lines = r.body().split("\n");
        List<String> header = Arrays.asList(lines[0].replaceFirst("^# ", "").split(",", -1));
        int px = header.indexOf("pxname");
        int sv = header.indexOf("svname");
        int status = header.indexOf("status");
        int scur = header.indexOf("scur");
        int stot = header.indexOf("stot");
        Map<String, Server> servers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",", -1);
            if (f.length > stot && f[px].equals("brokers") && serverNames.contains(f[sv])) {
                servers.put(f[sv], new Server(f[sv], f[status], Integer.parseInt(f[scur]), Integer.parseInt(f[stot])));
            }
        }
        return servers;
    }

    /** Waits until the servers as the stats page shows them satisfy a condition; fails with the output if not. */
    void awaitServers(String what, Predicate<Map<String, Server>> condition, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Object last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                fail("haproxy exited (exit code " + process.exitValue() + ") before " + what + ":\n" + output());
            }
            try {
                Map<String, Server> now = servers();
                if (condition.test(now)) {
                    return;
                }
                last = now.values();
            } catch (IOException notListeningYet) {
                last = notListeningYet;
            }
            Thread.sleep(100);
        }
        fail("haproxy: not " + what + " within " + seconds + " s (last seen: " + last + "):\n" + output());
    }

    String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** SIGTERM (HAProxy stops at once), SIGKILL if it has not gone within a few seconds. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook runs anyway
        }
        try {
            Files.deleteIfExists(dir.resolve("haproxy.cfg"));
            Files.deleteIfExists(log);
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }

    private static int freePort() {
        return ClusterFixture.freePort(new java.util.HashSet<>()); // below the ephemeral range, as the nodes' ports
    }
}
