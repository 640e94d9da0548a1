package io.starling.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * N node processes started from the runnable jar, each in a Linux network namespace of its own,
 * joined into one Hazelcast cluster, with a network between them that a test can cut and heal
 * while its clients, in the test JVM's (root) namespace, still reach every node. Nodes are numbered
 * from 0 and named node1, node2, ..., as in {@link ClusterFixture}.
 *
 * <p>The network, its names unique per fixture (ID random): a hub namespace {@code stl-ID-0}
 * holding a bridge; for node i a namespace {@code stl-ID-i} with lo up and {@code eth0 =
 * 10.213.X.i/24}, the other end of its veth pair on the bridge; the root namespace on the bridge
 * too, through a veth pair whose root end {@code stl-ID-0} has {@code 10.213.X.254/24}. X is random
 * and used by no address or route of the root namespace. The bridge sits in a namespace of its own
 * so that bridged traffic never meets the root namespace's firewall (a Docker host drops forwarded
 * packets). Each node listens on its own address with fixed ports: MQTT 1883, Hazelcast 5701,
 * links 5801.
 *
 * <p>{@link #cut} adds, in each of the two namespaces, a blackhole route to the other's address:
 * their packets to each other are dropped before they leave, in both directions, while the root
 * namespace's address stays routed. Established connections stall (TCP keeps retransmitting, the
 * sender sees no error), new ones fail at once; heartbeats stop, so each side drops the other after
 * {@code hazelcast.max.no.heartbeat.seconds}. {@link #heal} deletes the routes: retransmissions go
 * through again and Hazelcast's split-brain merge joins the two sides.
 *
 * <p>Needs root and iproute2's {@code ip} on Linux. Where the namespaces cannot be made every test is
 * skipped (an assumption) with the reason; without the built jar too. Everything is removed at the
 * end, by a shutdown hook should the test JVM itself be stopped, and after a failed start.
 */
public final class NamespaceCluster implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, AutoCloseable {
    static final int MQTT_PORT = 1883;
    static final int CLUSTER_PORT = 5701;
    static final int LINK_PORT = 5801;

    private final String id = UUID.randomUUID().toString().substring(0, 6);
    private final String clusterName = "ns-" + id;
    private final int size;
    private final List<JarProcess> processes = new ArrayList<>();
    /** Cut pairs, lower node first. */
    private final Set<List<Integer>> cuts = new LinkedHashSet<>();
    private final Thread removeOnExit = new Thread(this::remove, "namespace-cluster-remove");
    private String subnet; // "10.213.X" once the network exists
    private String unavailable; // why the network could not be made, once that was tried
    private boolean networkMade; // some of it may exist: removeNetwork has work to do
    private boolean hookAdded;

    /** Chooses nothing yet: the network is made and the nodes started by {@link #start()}. */
    public NamespaceCluster(int size) {
        this.size = size;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (Files.isRegularFile(JarProcess.JAR) && networkAvailable()) {
            start();
        }
    }

    /** Without the jar or the namespaces every test is reported skipped, each with the reason. */
    @Override
    public void beforeEach(ExtensionContext context) {
        JarProcess.assumeBuilt();
        assumeTrue(unavailable == null, () -> "network namespaces unavailable: " + unavailable);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }

    /**
     * Makes the network, starts every node in its namespace and waits until each listens for MQTT
     * and counts all of them as members.
     */
    public NamespaceCluster start() throws Exception {
        JarProcess.assumeBuilt();
        assumeTrue(networkAvailable(), () -> "network namespaces unavailable: " + unavailable);
        try {
            for (int i = 0; i < size; i++) {
                processes.add(launch(i));
            }
            ClusterFixture.awaitStarted(processes, node -> size);
            return this;
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    private JarProcess launch(int node) throws IOException {
        return JarProcess.start(name(node), List.of("ip", "netns", "exec", namespace(node + 1)),
                ClusterFixture.JVM_OPTIONS, environment(node));
    }

    private Map<String, String> environment(int node) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("STARLING_LISTENER_HOST", address(node));
        env.put("STARLING_LISTENER_PORT", String.valueOf(MQTT_PORT));
        env.put("STARLING_LISTENER_ALLOW_ANONYMOUS_NON_LOOPBACK", "true");
        env.put("STARLING_CLUSTER_BIND_HOST", address(node));
        env.put("STARLING_CLUSTER_PORT", String.valueOf(CLUSTER_PORT));
        env.put("STARLING_CLUSTER_LINK_PORT", String.valueOf(LINK_PORT));
        env.put("STARLING_CLUSTER_MEMBERS", IntStream.range(0, size).filter(i -> i != node)
                .mapToObj(i -> address(i) + ":" + CLUSTER_PORT).collect(Collectors.joining(",")));
        env.put("STARLING_CLUSTER_NAME", clusterName);
        env.put("STARLING_SYS_INTERVAL", "0");
        return env;
    }

    /** Makes the network once; false (with the reason kept) when this host cannot. */
    private synchronized boolean networkAvailable() {
        if (subnet == null && unavailable == null) {
            if (!hookAdded) {
                Runtime.getRuntime().addShutdownHook(removeOnExit);
                hookAdded = true;
            }
            try {
                makeNetwork();
            } catch (IOException e) {
                unavailable = e.getMessage();
                removeNetwork();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unavailable = "interrupted";
                removeNetwork();
            }
        }
        return unavailable == null;
    }

    private void makeNetwork() throws IOException, InterruptedException {
        String hub = namespace(0);
        networkMade = true;
        ip("netns", "add", hub); // the first step that needs root: it fails cleanly without
        subnet = freeSubnet();
        ip("-n", hub, "link", "add", "name", "bridge", "type", "bridge");
        ip("-n", hub, "link", "set", "bridge", "up");
        ip("link", "add", "name", hub, "type", "veth", "peer", "name", "root", "netns", hub);
        ip("-n", hub, "link", "set", "root", "master", "bridge", "up");
        ip("addr", "add", subnet + ".254/24", "dev", hub);
        ip("link", "set", hub, "up");
        for (int i = 0; i < size; i++) {
            String ns = namespace(i + 1);
            ip("netns", "add", ns);
            ip("-n", hub, "link", "add", "name", "node" + (i + 1), "type", "veth", "peer", "name", "eth0", "netns", ns);
            ip("-n", hub, "link", "set", "node" + (i + 1), "master", "bridge", "up");
            ip("-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
            ip("-n", ns, "link", "set", "eth0", "up");
            ip("-n", ns, "link", "set", "lo", "up");
        }
    }

    /** A 10.213.X.0/24 that no address or route of the root namespace is in. */
    private static String freeSubnet() throws IOException, InterruptedException {
        String used = ip("-4", "-o", "addr", "show") + ip("-4", "route", "show", "table", "all");
        for (int attempt = 0; attempt < 50; attempt++) {
            String candidate = "10.213." + ThreadLocalRandom.current().nextInt(256);
            if (!used.contains(candidate + ".")) {
                return candidate;
            }
        }
        throw new IOException("no free 10.213.X.0/24 in the root namespace");
    }

    public int size() {
        return size;
    }

    public String name(int node) {
        return "node" + (node + 1);
    }

    /** The node's address: its MQTT listener, Hazelcast member and links. */
    public String address(int node) {
        return subnet + "." + (node + 1);
    }

    /** The node's MQTT listener, for a client in the test JVM. */
    public String uri(int node) {
        return "tcp://" + address(node) + ":" + MQTT_PORT;
    }

    private String namespace(int index) {
        return "stl-" + id + "-" + index;
    }

    /** Nodes {@code a} and {@code b} can no longer reach each other, in either direction. */
    public synchronized void cut(int a, int b) throws IOException, InterruptedException {
        List<Integer> pair = List.of(Math.min(a, b), Math.max(a, b));
        if (a != b && cuts.add(pair)) {
            ip("-n", namespace(a + 1), "route", "add", "blackhole", address(b) + "/32");
            ip("-n", namespace(b + 1), "route", "add", "blackhole", address(a) + "/32");
        }
    }

    /** The node can reach no other node, nor they it; clients still reach it. */
    public void isolate(int node) throws IOException, InterruptedException {
        for (int other = 0; other < size; other++) {
            cut(node, other);
        }
    }

    /** Every node can reach every other again. */
    public synchronized void heal() throws IOException, InterruptedException {
        for (List<Integer> pair : List.copyOf(cuts)) {
            ip("-n", namespace(pair.get(0) + 1), "route", "del", "blackhole", address(pair.get(1)) + "/32");
            ip("-n", namespace(pair.get(1) + 1), "route", "del", "blackhole", address(pair.get(0)) + "/32");
            cuts.remove(pair);
        }
    }

    /** The node's output so far. */
    public String output(int node) {
        return process(node).output();
    }

    /** Members the node last logged, or -1 when it has logged none yet. */
    public int memberCount(int node) {
        return ClusterFixture.lastMemberCount(process(node).lines());
    }

    /** Waits until the node's last membership line says {@code members}; fails with its output if not. */
    public void awaitMembers(int node, int members, int seconds) throws InterruptedException {
        ClusterFixture.awaitMembers(process(node), members, seconds);
    }

    private JarProcess process(int node) {
        if (node >= processes.size()) {
            throw new IllegalStateException(name(node) + " was never started");
        }
        return processes.get(node);
    }

    /** Kills every node (SIGKILL, as ClusterFixture) and removes the namespaces and links. */
    @Override
    public void close() {
        remove();
        if (hookAdded) {
            try {
                Runtime.getRuntime().removeShutdownHook(removeOnExit);
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook runs anyway
            }
            hookAdded = false;
        }
    }

    private synchronized void remove() {
        for (JarProcess p : processes) {
            p.process().destroyForcibly();
        }
        for (JarProcess p : processes) {
            try {
                p.process().waitFor(10, TimeUnit.SECONDS); // a namespace goes only with its last process
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        removeNetwork();
    }

    /** Removes whatever of the network exists; errors (a part never made) are ignored. */
    private void removeNetwork() {
        if (!networkMade) {
            return;
        }
        // Deleting the root end of the hub's veth pair takes the root namespace's address with it at
        // once; a namespace's own links go when it is deleted.
        ipQuietly("link", "del", namespace(0));
        for (int i = size; i >= 0; i--) {
            ipQuietly("netns", "del", namespace(i));
        }
        cuts.clear();
        networkMade = false;
        subnet = null;
    }

    private static void ipQuietly(String... args) {
        try {
            ip(args);
        } catch (IOException e) {
            // not there
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs {@code ip ARGS}; its output, or an IOException with the command and its error output. */
    private static String ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // until ip exits
        p.waitFor();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + text.strip());
        }
        return text;
    }
}
