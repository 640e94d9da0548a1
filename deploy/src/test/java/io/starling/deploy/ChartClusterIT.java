package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.starling.it.FailoverLoad;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * The chart's cluster, emulated on a container engine: the StatefulSet the chart renders (default
 * values, three replicas) becomes three containers of the built image, each configured as its pod
 * would be: the chart's environment (with the pod's IP where the chart writes {@code $(POD_IP)}),
 * its arguments, its ConfigMap mounted where the pod mounts it, its read-only root and tmpfs /tmp,
 * its memory limit, and its readiness probe. One network alias shared by the three plays the
 * headless Service: the nodes find each other through DNS exactly as in Kubernetes
 * ({@code cluster.kubernetes-service-dns}). Clients reach them through a load balancer container
 * (HAProxy routing only to ready nodes, as the client Service does). One node is killed
 * (SIGKILL), then another stopped as Kubernetes stops a pod (SIGTERM, the chart's grace period):
 * nothing acknowledged may be lost, per-topic order holds, and no QoS 2 message arrives twice.
 * Before the load, the chart's {@code helm test} pods run against the cluster (the client
 * Service's DNS name is the load balancer's alias) and must exit 0.
 */
class ChartClusterIT {
    private static final int[] PUBLISHER_QOS = {1, 2, 1};
    private static final int[] SUBSCRIBER_QOS = {1, 2};
    private static final int RATE = 100;
    private static final Pattern METRIC = Pattern.compile("(?m)^(\\w+)(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$");

    @Test
    void threePodsFoundThroughTheHeadlessServiceLoseNothingWhenOneIsKilledAndOneStopped() throws Exception {
        DockerImageName image = Engine.starling();
        DockerImageName tools = Engine.tools();
        Chart.Rendered rendered = Chart.renderWithTests("default", Map.of());
        StatefulSet sts = Serialization.unmarshal(rendered.one("StatefulSet", Chart.FULLNAME).yaml(), StatefulSet.class);
        ConfigMap config = Serialization.unmarshal(rendered.one("ConfigMap", Chart.FULLNAME + "-config").yaml(), ConfigMap.class);
        Service headless = Serialization.unmarshal(rendered.one("Service", Chart.FULLNAME + "-headless").yaml(), Service.class);
        Container spec = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
        int replicas = sts.getSpec().getReplicas();
        assertEquals(3, replicas, "the chart's default cluster");
        String serviceDns = env(spec, "STARLING_CLUSTER_KUBERNETES_SERVICE_DNS");
        assertEquals(headless.getMetadata().getName() + "." + Chart.NAMESPACE + ".svc.cluster.local", serviceDns,
                "the nodes look up the headless Service's own name");
        HTTPGetAction ready = spec.getReadinessProbe().getHttpGet();
        int probePort = port(spec, ready.getPort());
        int mqttPort = port(spec, new IntOrString("mqtt"));
        long grace = sts.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();

        try (Network network = Network.newNetwork()) {
            List<GenericContainer<?>> pods = new ArrayList<>();
            for (int i = 0; i < replicas; i++) {
                pods.add(pod(image, spec, config, headless, serviceDns, i, network)
                        .withExposedPorts(probePort)
                        .waitingFor(Wait.forHttp(ready.getPath()).forPort(probePort)
                                .withStartupTimeout(Duration.ofSeconds(180))));
            }
            try {
                Startables.deepStart(pods).join();
                for (GenericContainer<?> p : pods) {
                    awaitMetric(p, probePort, "starling_cluster_members", n -> n == replicas, 60);
                }
                Service client = Serialization.unmarshal(rendered.one("Service", Chart.FULLNAME).yaml(), Service.class);
                String clientDns = client.getMetadata().getName() + "." + Chart.NAMESPACE + ".svc.cluster.local";
                try (GenericContainer<?> lb = loadBalancer(tools, network, replicas, mqttPort, probePort)
                        .withNetworkAliases(clientDns)) {
                    lb.start();
                    // `helm test`: each test pod the chart renders, run as the kubelet would run it.
                    List<Pod> testPods = rendered.manifests().stream()
                            .filter(m -> m.isHelmTest() && m.kind().equals("Pod"))
                            .map(m -> Serialization.unmarshal(m.yaml(), Pod.class)).toList();
                    assertEquals(2, testPods.size(), "the chart's helm test pods (through the Service, across nodes)");
                    for (Pod test : testPods) {
                        runTestPod(tools, test, network);
                    }
                    String uri = "tcp://127.0.0.1:" + lb.getMappedPort(1883);
                    try (FailoverLoad load = new FailoverLoad(new FailoverLoad.Plan(uri,
                            UUID.randomUUID().toString().substring(0, 8), PUBLISHER_QOS, SUBSCRIBER_QOS, RATE,
                            1_000_000)).start()) {
                        StringBuilder steps = new StringBuilder();
                        awaitProgress(load, 300, steps, "before any loss");

                        GenericContainer<?> killed = pods.get(1);
                        DockerClientFactory.lazyClient().killContainerCmd(killed.getContainerId()).withSignal("KILL").exec();
                        for (GenericContainer<?> p : List.of(pods.get(0), pods.get(2))) {
                            awaitMetric(p, probePort, "starling_cluster_members", n -> n == 2, 60);
                            awaitMetric(p, probePort, "starling_cluster_safe", n -> n == 1, 60);
                        }
                        awaitProgress(load, 300, steps, "after " + name(1) + " was killed");

                        // As the kubelet stops a pod: SIGTERM, then SIGKILL once the grace period is over.
                        long t0 = System.nanoTime();
                        DockerClientFactory.lazyClient().stopContainerCmd(pods.get(2).getContainerId())
                                .withTimeout((int) grace).exec();
                        long stopMs = (System.nanoTime() - t0) / 1_000_000;
                        steps.append(String.format("  %s left in %d ms (grace period %d s)%n", name(2), stopMs, grace));
                        assertTrue(stopMs < grace * 1000, name(2) + " needed the whole grace period: killed, not left");
                        awaitMetric(pods.get(0), probePort, "starling_cluster_members", n -> n == 1, 60);
                        awaitProgress(load, 300, steps, "after " + name(2) + " was stopped");

                        load.stopPublishing();
                        boolean delivered = load.awaitDelivered(60_000);
                        FailoverLoad.Counts total = load.total();
                        String report = String.format("%s (QoS 2 end to end: %d duplicates), %d reconnects%s%n%s%s",
                                total, load.qos2Duplicates(), load.reconnects(),
                                delivered ? "" : " (not all delivered within 60 s)", steps, load.describe());
                        System.out.println("CHART CLUSTER " + report);
                        if (total.lost() > 0 || total.outOfOrder() > 0 || load.qos2Duplicates() > 0) {
                            keepLogs(pods);
                        }
                        assertEquals(0, total.lost(), "acknowledged messages lost: " + report + logs(pods));
                        assertEquals(0, total.outOfOrder(), "messages out of order (spec 4.6): " + report);
                        assertEquals(0, load.qos2Duplicates(), "[MQTT-4.3.3] QoS 2 delivered twice: " + report);
                        assertTrue(load.reconnects() > 0, "no client was moved: the losses did not touch the load");
                    }
                }
            } finally {
                pods.forEach(GenericContainer::stop);
            }
        }
    }

    /**
     * A helm test pod: its container's command, arguments and environment from the manifest, as its
     * user on a read-only root with its /tmp volume, on the release's network. The chart names the
     * eclipse-mosquitto image; the local tools image has the same mosquitto_pub and mosquitto_sub.
     * It must exit 0, as helm test requires.
     */
    static void runTestPod(DockerImageName tools, Pod pod, Network network) throws Exception {
        Container spec = pod.getSpec().getContainers().get(0);
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : spec.getEnv()) {
            assertTrue(e.getValueFrom() == null, "a test pod environment from a Secret: " + e.getName());
            env.put(e.getName(), e.getValue());
        }
        List<String> command = new ArrayList<>(spec.getCommand());
        command.addAll(spec.getArgs());
        long uid = pod.getSpec().getSecurityContext().getRunAsUser();
        long gid = pod.getSpec().getSecurityContext().getRunAsGroup();
        try (GenericContainer<?> c = new GenericContainer<>(tools)
                .withNetwork(network)
                .withEnv(env)
                .withTmpFs(Map.of("/tmp", "rw"))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withHostName(pod.getMetadata().getName()).withUser(uid + ":" + gid)
                            .withEntrypoint(command.subList(0, 1)).withCmd(command.subList(1, command.size()));
                    cmd.getHostConfig().withReadonlyRootfs(Boolean.TRUE.equals(spec.getSecurityContext().getReadOnlyRootFilesystem()));
                })
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(90)))) {
            try {
                c.start();
            } catch (RuntimeException e) {
                throw new AssertionError("helm test pod " + pod.getMetadata().getName() + " failed: " + e, e);
            }
            String out = c.getLogs();
            System.out.println("HELM TEST " + pod.getMetadata().getName() + ": " + out.strip());
            assertTrue(out.contains("subscriber exited 0, received: hello from helm test"), out);
        }
    }

    static String name(int ordinal) {
        return Chart.FULLNAME + "-" + ordinal;
    }

    /**
     * Pod {@code ordinal} of the StatefulSet: hostname and DNS names as Kubernetes gives them, the
     * container's environment, arguments, mounts and limits as the chart renders them.
     */
    static GenericContainer<?> pod(DockerImageName image, Container spec, ConfigMap config, Service headless,
            String serviceDns, int ordinal, Network network) {
        String pod = name(ordinal);
        Map<String, String> env = new LinkedHashMap<>();
        StringBuilder expand = new StringBuilder();
        for (EnvVar e : spec.getEnv()) {
            if (e.getValueFrom() != null) {
                String field = e.getValueFrom().getFieldRef().getFieldPath();
                assertEquals("status.podIP", field, "a downward API field the emulation does not know");
                // The pod's IP is known only inside it: read from its own hosts entry.
                expand.append("export ").append(e.getName()).append("=\"$(hostname -i | cut -d' ' -f1)\"; ");
            } else if (e.getValue() != null && e.getValue().contains("$(")) {
                // Kubernetes' $(VAR) expansion, done by the shell once the referenced values exist.
                expand.append("export ").append(e.getName()).append("=\"")
                        .append(e.getValue().replaceAll("\\$\\((\\w+)\\)", "\\${$1}")).append("\"; ");
            } else {
                env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
            }
        }
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", expand + "exec \"$@\"", "sh"));
        command.addAll(Engine.entrypoint(image));
        command.addAll(spec.getArgs());

        GenericContainer<?> c = new GenericContainer<>(image)
                .withNetwork(network)
                // Pod DNS: <pod>.<headless service>.<namespace>.svc.cluster.local; the service name
                // itself resolves to every pod's address (the headless Service's A records).
                .withNetworkAliases(pod, pod + "." + serviceDns, serviceDns)
                .withEnv(env)
                .withTmpFs(Map.of("/tmp", "rw"))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withHostName(pod).withEntrypoint(command.subList(0, 1)).withCmd(command.subList(1, command.size()));
                    cmd.getHostConfig().withReadonlyRootfs(
                            Boolean.TRUE.equals(spec.getSecurityContext().getReadOnlyRootFilesystem()));
                    Quantity memory = spec.getResources().getLimits().get("memory");
                    if (memory != null) {
                        cmd.getHostConfig().withMemory(memory.getNumericalAmount().longValue());
                    }
                    if (spec.getSecurityContext().getRunAsUser() != null) {
                        cmd.withUser(spec.getSecurityContext().getRunAsUser() + "");
                    }
                });
        for (var mount : spec.getVolumeMounts()) {
            if (mount.getName().equals("config")) {
                config.getData().forEach((file, text) ->
                        c.withCopyToContainer(Transferable.of(text, 0644), mount.getMountPath() + "/" + file));
            }
        }
        return c;
    }

    /**
     * A TCP load balancer in front of the pods, routing only to ready ones (the client Service's
     * endpoints are the ready pods), and closing connections to a node marked down, as a cloud
     * load balancer's connection draining ends them.
     */
    static GenericContainer<?> loadBalancer(DockerImageName tools, Network network, int replicas, int mqttPort,
            int probePort) {
        StringBuilder cfg = new StringBuilder("""
                global
                  log stdout format raw local0 info
                defaults
                  mode tcp
                  log global
                  timeout connect 2s
                  timeout client 5m
                  timeout server 5m
                  option redispatch
                frontend mqtt
                  bind :1883
                  default_backend pods
                backend pods
                  balance roundrobin
                  option httpchk GET /health/ready
                """);
        for (int i = 0; i < replicas; i++) {
            cfg.append(String.format("  server %s %s:%d check port %d inter 500 fall 2 rise 2 on-marked-down shutdown-sessions%n",
                    name(i), name(i), mqttPort, probePort));
        }
        return new GenericContainer<>(tools)
                .withNetwork(network)
                .withCopyToContainer(Transferable.of(cfg.toString()), "/etc/haproxy/lb.cfg")
                .withCommand("haproxy", "-db", "-f", "/etc/haproxy/lb.cfg")
                .withExposedPorts(1883)
                .waitingFor(Wait.forListeningPort());
    }

    private static String env(Container spec, String name) {
        return spec.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("the chart sets no " + name)).getValue();
    }

    private static int port(Container spec, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return spec.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal())).getContainerPort();
    }

    private static double metric(GenericContainer<?> pod, int port, String name) {
        try {
            String text = SingleNodeContainerIT.get("http://127.0.0.1:" + pod.getMappedPort(port) + "/metrics");
            Matcher m = METRIC.matcher(text);
            while (m.find()) {
                if (m.group(1).equals(name)) {
                    return Double.parseDouble(m.group(2));
                }
            }
            return Double.NaN;
        } catch (Exception | AssertionError e) {
            return Double.NaN;
        }
    }

    private static void awaitMetric(GenericContainer<?> pod, int port, String name, IntPredicate ok, int seconds) {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        double last = Double.NaN;
        while (System.currentTimeMillis() < deadline) {
            last = metric(pod, port, name);
            if (!Double.isNaN(last) && ok.test((int) last)) {
                return;
            }
            sleep(250);
        }
        throw new AssertionError(hostname(pod) + ": " + name + " still " + last + " after " + seconds
                + " s\n" + pod.getLogs());
    }

    /** Waits until the load has {@code more} further acknowledged messages (bounded), noting the step. */
    private static void awaitProgress(FailoverLoad load, int more, StringBuilder steps, String when) {
        int before = load.acknowledged();
        long deadline = System.currentTimeMillis() + 60_000;
        while (load.acknowledged() < before + more && System.currentTimeMillis() < deadline) {
            sleep(100);
        }
        int after = load.acknowledged();
        steps.append(String.format("  %s: %d -> %d acknowledged%n", when, before, after));
        assertTrue(after >= before + more, "the load stopped " + when + ": " + before + " -> " + after + "\n" + steps);
    }

    /** Every pod's output of a failed run, for reading after the test: target/chart-cluster-logs/. */
    private static void keepLogs(List<GenericContainer<?>> pods) throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Path.of("target", "chart-cluster-logs");
        java.nio.file.Files.createDirectories(dir);
        for (GenericContainer<?> p : pods) {
            java.nio.file.Files.writeString(dir.resolve(hostname(p) + ".log"), p.getLogs());
        }
        System.out.println("CHART CLUSTER pod logs in " + dir.toAbsolutePath());
    }

    private static String logs(List<GenericContainer<?>> pods) {
        StringBuilder b = new StringBuilder();
        for (GenericContainer<?> p : pods) {
            try {
                b.append("\n--- ").append(hostname(p)).append('\n').append(p.getLogs());
            } catch (RuntimeException e) {
                b.append("\n--- (no logs: ").append(e.getMessage()).append(')');
            }
        }
        return b.toString();
    }

    private static String hostname(GenericContainer<?> pod) {
        return pod.getContainerInfo().getConfig().getHostName();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
