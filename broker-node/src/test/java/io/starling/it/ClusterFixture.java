package io.starling.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntUnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * N node processes started from the runnable jar on 127.0.0.1, joined into one Hazelcast cluster
 * through their static member lists. Each node has its own free MQTT, Hazelcast, link and metrics ports,
 * kept across {@link #restart}; the cluster name is unique per fixture, so clusters of parallel or
 * leftover test runs never merge. Nodes are numbered from 0 and named node1, node2, ...
 *
 * <p>Use as an extension ({@code @RegisterExtension static ClusterFixture cluster = new
 * ClusterFixture(3)}) or with try-with-resources around {@link #start()}. Every process is killed
 * at the end, and by a shutdown hook should the test JVM itself be stopped. Without the built jar,
 * {@link #start()} skips the test (an assumption), as {@link ConfigurationIT} does.
 *
 * <p>The cluster's state is read from the nodes' own log lines ("cluster: joined as ..., N
 * members", "cluster: member joined/left ..., now N members"), as an operator would read it.
 */
public final class ClusterFixture implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, AutoCloseable {
    /** How long start-up of all nodes may take; three JVMs on two busy cores need a good part of it. */
    static final int START_SECONDS = 60;
    static final int MEMBERSHIP_SECONDS = 30;
    static final int STOP_SECONDS = 20;
    /** Small node JVMs: three of them must run side by side on two cores. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

    private static final Pattern MEMBERS =
            Pattern.compile("cluster: (?:joined as|member joined|member left) .*?(\\d+) members$");

    private final String clusterName = "it-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<Node> nodes = new ArrayList<>();
    private final Thread killOnExit = new Thread(this::killAll, "cluster-fixture-kill");
    private boolean hookAdded;
    private boolean restartDeadNodesBeforeEach;

    /** One node of the fixture: fixed ports and environment, and its current process. */
    private static final class Node {
        final String name;
        final int mqttPort;
        final int clusterPort;
        final int linkPort;
        final int metricsPort;
        final Map<String, String> extraEnv = new LinkedHashMap<>();
        JarProcess process;

        Node(String name, int mqttPort, int clusterPort, int linkPort, int metricsPort) {
            this.name = name;
            this.mqttPort = mqttPort;
            this.clusterPort = clusterPort;
            this.linkPort = linkPort;
            this.metricsPort = metricsPort;
        }
    }

    /** Chooses the ports of {@code size} nodes; nothing runs before {@link #start()}. */
    public ClusterFixture(int size) {
        Set<Integer> taken = new HashSet<>();
        for (int i = 0; i < size; i++) {
            nodes.add(new Node("node" + (i + 1), freePort(taken), freePort(taken), freePort(taken), freePort(taken)));
        }
    }

    /** Sets or overrides an environment variable of one node, e.g. another STARLING_CLUSTER_NAME. */
    public ClusterFixture withEnv(int node, String variable, String value) {
        nodes.get(node).extraEnv.put(variable, value);
        return this;
    }

    /**
     * Before each test, restarts the nodes a previous test killed or stopped and waits for the whole
     * cluster ({@link #restartDeadNodesAndAwait()}): for classes whose tests take nodes away.
     */
    public ClusterFixture restartingDeadNodesBeforeEach() {
        restartDeadNodesBeforeEach = true;
        return this;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (Files.isRegularFile(JarProcess.JAR)) {
            start();
        }
    }

    /** Without the jar every test is reported skipped (an assumption in beforeAll would hide them). */
    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        JarProcess.assumeBuilt();
        if (restartDeadNodesBeforeEach) {
            restartDeadNodesAndAwait();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    /**
     * Starts every node at once and waits until each listens for MQTT and counts all of them as
     * members (a node that withEnv sends to another cluster name or member list: only itself).
     */
    public ClusterFixture start() throws Exception {
        JarProcess.assumeBuilt();
        if (!hookAdded) {
            Runtime.getRuntime().addShutdownHook(killOnExit);
            hookAdded = true;
        }
        try {
            for (int i = 0; i < size(); i++) {
                launch(i);
            }
            awaitStarted(IntStream.range(0, size()).mapToObj(this::process).toList(), this::expectedMembers);
            return this;
        } catch (Exception | Error e) {
            killAll();
            throw e;
        }
    }

    /**
     * Waits, all within {@link #START_SECONDS}, until every process listens for MQTT, then until
     * process i has logged a cluster of {@code expectedMembers(i)} members.
     */
    static void awaitStarted(List<JarProcess> processes, IntUnaryOperator expectedMembers) throws InterruptedException {
        long deadline = System.nanoTime() + START_SECONDS * 1_000_000_000L;
        for (JarProcess p : processes) {
            p.await("listening for MQTT", secondsUntil(deadline));
        }
        for (int i = 0; i < processes.size(); i++) {
            awaitMembers(processes.get(i), expectedMembers.applyAsInt(i), secondsUntil(deadline));
        }
    }

    private static int secondsUntil(long deadline) {
        return (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000_000L);
    }

    /**
     * Members a node should count: the running nodes of this fixture, or only itself when its
     * environment sends it to another cluster name or member list.
     */
    private int expectedMembers(int node) {
        if (sentElsewhere(node)) {
            return 1;
        }
        return (int) IntStream.range(0, size()).filter(i -> !sentElsewhere(i) && (i == node || isAlive(i))).count();
    }

    private boolean sentElsewhere(int node) {
        Map<String, String> extra = nodes.get(node).extraEnv;
        return extra.containsKey("STARLING_CLUSTER_NAME") || extra.containsKey("STARLING_CLUSTER_MEMBERS");
    }

    private void launch(int i) throws IOException {
        Node node = nodes.get(i);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("STARLING_LISTENER_PORT", String.valueOf(node.mqttPort));
        env.put("STARLING_CLUSTER_PORT", String.valueOf(node.clusterPort));
        env.put("STARLING_CLUSTER_LINK_PORT", String.valueOf(node.linkPort));
        env.put("STARLING_METRICS_PORT", String.valueOf(node.metricsPort));
        env.put("STARLING_CLUSTER_MEMBERS", nodes.stream().filter(n -> n != node)
                .map(n -> "127.0.0.1:" + n.clusterPort).collect(Collectors.joining(",")));
        env.put("STARLING_CLUSTER_NAME", clusterName);
        env.put("STARLING_SYS_INTERVAL", "0");
        env.putAll(node.extraEnv);
        node.process = JarProcess.start(node.name, JVM_OPTIONS, env);
    }

    public int size() {
        return nodes.size();
    }

    public String clusterName() {
        return clusterName;
    }

    public int mqttPort(int node) {
        return nodes.get(node).mqttPort;
    }

    public int clusterPort(int node) {
        return nodes.get(node).clusterPort;
    }

    public int linkPort(int node) {
        return nodes.get(node).linkPort;
    }

    /** The node's /metrics and /health/* port. */
    public int metricsPort(int node) {
        return nodes.get(node).metricsPort;
    }

    /**
     * The value of one series on the node's /metrics, e.g. {@code starling_cluster_safe}, or NaN
     * when the node does not answer or does not expose it.
     */
    public double metric(int node, String series) {
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newBuilder()
                    .connectTimeout(java.time.Duration.ofSeconds(2)).build().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort(node)
                            + "/metrics")).timeout(java.time.Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.startsWith(series + " ")) {
                    return Double.parseDouble(line.substring(series.length() + 1));
                }
            }
        } catch (IOException e) {
            // not answering: NaN
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Double.NaN;
    }

    public String name(int node) {
        return nodes.get(node).name;
    }

    /** The node's MQTT listener as a client URI. */
    public String uri(int node) {
        return "tcp://127.0.0.1:" + mqttPort(node);
    }

    /** Every node's Hazelcast address, as a STARLING_CLUSTER_MEMBERS value. */
    public String memberList() {
        return nodes.stream().map(n -> "127.0.0.1:" + n.clusterPort).collect(Collectors.joining(","));
    }

    public boolean isAlive(int node) {
        return process(node).isAlive();
    }

    /** The output of the node's current process (since its last start). */
    public String output(int node) {
        return process(node).output();
    }

    /** Members the node last logged, or -1 when it has logged none yet. */
    public int memberCount(int node) {
        return lastMemberCount(process(node).lines());
    }

    static int lastMemberCount(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            Matcher m = MEMBERS.matcher(lines.get(i));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
        }
        return -1;
    }

    public void awaitMembers(int node, int members) throws InterruptedException {
        awaitMembers(node, members, MEMBERSHIP_SECONDS);
    }

    /** Waits until the node's last membership line says {@code members}; fails with its output if not. */
    public void awaitMembers(int node, int members, int seconds) throws InterruptedException {
        awaitMembers(process(node), members, seconds);
    }

    /** Waits until every node's last membership line says {@code members}. */
    public void awaitMembersOnEveryNode(int members) throws InterruptedException {
        for (int i = 0; i < size(); i++) {
            awaitMembers(i, members);
        }
    }

    static void awaitMembers(JarProcess process, int members, int seconds) throws InterruptedException {
        process.awaitOutput("a cluster of " + members + " members (last logged: " + lastMemberCount(process.lines())
                + ")", lines -> lastMemberCount(lines) == members, seconds);
    }

    /** SIGKILL: no shutdown hook, no goodbye to the cluster, as in a crash. */
    public void kill(int node) throws InterruptedException {
        process(node).kill();
    }

    /** SIGSTOP: the node stops answering but keeps its connections open; {@link #kill} ends it. */
    public void freeze(int node) throws IOException, InterruptedException {
        process(node).freeze();
    }

    /** SIGTERM: the node shuts down cleanly; waits for the process to exit. */
    public void stop(int node) throws InterruptedException {
        process(node).stop(STOP_SECONDS);
    }

    /**
     * Starts the node again on the same ports (stopping it first if it runs) and waits until it
     * listens for MQTT and counts every running node of the fixture as a member.
     */
    public void restart(int node) throws Exception {
        if (process(node).isAlive()) {
            stop(node);
        }
        launch(node);
        process(node).await("listening for MQTT", START_SECONDS);
        awaitMembers(node, expectedMembers(node), START_SECONDS);
    }

    /**
     * Restarts every node that is not running, then waits until every node counts all of them as
     * members, so that a test starts from the whole cluster whatever the previous one left behind.
     */
    public void restartDeadNodesAndAwait() throws Exception {
        for (int i = 0; i < size(); i++) {
            if (!isAlive(i)) {
                restart(i);
            }
        }
        awaitMembersOnEveryNode(size());
    }

    JarProcess process(int node) {
        JarProcess p = nodes.get(node).process;
        if (p == null) {
            throw new IllegalStateException(nodes.get(node).name + " was never started");
        }
        return p;
    }

    private void killAll() {
        for (Node n : nodes) {
            if (n.process != null && n.process.isAlive()) {
                n.process.process().destroyForcibly();
            }
        }
    }

    /** Kills every node (tests end with SIGKILL: a clean shutdown would only cost time). */
    @Override
    public void close() {
        killAll();
        if (hookAdded) {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook runs anyway
            }
            hookAdded = false;
        }
    }

    /**
     * A port free now, below the kernel's ephemeral range (32768 and up on Linux): a port that
     * "bind to 0" handed out is ephemeral, and between the fixture choosing it and the node binding
     * it (seconds, with several nodes starting), an outbound connection of this machine could take
     * it; a node of RepeatedFailoverIT failed to start that way. Ports are kept across restarts.
     */
    static int freePort(Set<Integer> taken) {
        java.util.Random random = new java.util.Random();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int port = 20_000 + random.nextInt(12_000);
            if (taken.contains(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                taken.add(port);
                return port;
            } catch (IOException inUse) {
                // another one
            }
        }
        throw new IllegalStateException("no free port between 20000 and 32000 on loopback");
    }
}
