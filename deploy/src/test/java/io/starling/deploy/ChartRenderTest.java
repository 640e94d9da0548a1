package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.starling.config.BrokerConfig;
import io.starling.config.ConfigLoader;
import io.starling.config.ListenerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code helm template} of the chart for its default values and each value set in ci/, every
 * manifest read strictly as its Kubernetes API type and created in a mock API server (CRUD mode),
 * and what matters in them checked: the environment names only real broker keys and the broker's
 * own loader accepts it, the probes ask the metrics port's health paths, the NetworkPolicy admits
 * only Starling's pods to the cluster ports.
 */
@EnableKubernetesMockClient(crud = true)
class ChartRenderTest {
    static KubernetesClient client;

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void everyManifestIsAStrictlyValidKubernetesObjectAndAnApiServerTakesIt(String set) throws Exception {
        Chart.Rendered r = Chart.renderWithTests(set, Map.of());
        Set<String> kinds = new TreeSet<>();
        String ns = "ns-" + set;
        for (Chart.Manifest m : r.manifests()) {
            HasMetadata typed = ApiTypes.strict(m);
            kinds.add(typed.getKind());
            typed.getMetadata().setNamespace(ns);
            HasMetadata created;
            if (typed instanceof GenericKubernetesResource g) {
                created = client.genericKubernetesResources(new ResourceDefinitionContext.Builder()
                        .withGroup(g.getApiVersion().split("/")[0]).withVersion(g.getApiVersion().split("/")[1]).withKind(g.getKind())
                        .withPlural(g.getKind().toLowerCase() + "s").withNamespaced(true).build()).inNamespace(ns).resource(g).create();
            } else {
                created = client.resource(typed).inNamespace(ns).create();
            }
            assertNotNull(created.getMetadata().getUid(), m.source());
            assertEquals(typed.getMetadata().getName(), created.getMetadata().getName());
        }
        assertTrue(kinds.containsAll(Set.of("StatefulSet", "Service", "ConfigMap", "NetworkPolicy",
                "PodDisruptionBudget", "ServiceAccount")), set + ": " + kinds);
        // Two Services: the client one and the headless one.
        assertEquals(2, client.services().inNamespace(ns).list().getItems().size());
        assertEquals(1, client.apps().statefulSets().inNamespace(ns).list().getItems().size());
    }

    private static StatefulSet statefulSet(Chart.Rendered r) {
        return (StatefulSet) ApiTypes.strict(r.one("StatefulSet", Chart.FULLNAME));
    }

    private static Container broker(StatefulSet sts) {
        return sts.getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void environmentNamesOnlyKeysTheBrokerHasAndTheConfigFileToo(String set) {
        Chart.Rendered r = Chart.render(set);
        Set<String> envNames = BrokerConfig.KEYS.values().stream().map(BrokerConfig.Key::envName).collect(Collectors.toSet());
        Container c = broker(statefulSet(r));
        List<String> starling = c.getEnv().stream().map(EnvVar::getName).filter(n -> n.startsWith("STARLING_")).toList();
        assertTrue(starling.size() >= 10, starling.toString());
        for (String name : starling) {
            assertTrue(envNames.contains(name), set + ": " + name + " is not the variable of any broker key");
        }
        assertEquals(starling.size(), Set.copyOf(starling).size(), "a variable set twice: " + starling);
        for (String key : flatKeys(configFile(r))) {
            assertTrue(BrokerConfig.KEYS.containsKey(key), set + ": config file key " + key + " is no broker key");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void theBrokersOwnLoaderAcceptsWhatThePodIsGiven(String set, @TempDir Path tmp) throws Exception {
        Chart.Rendered r = Chart.render(set);
        StatefulSet sts = statefulSet(r);
        Map<String, String> env = podEnvironment(r, sts, tmp);
        Path file = tmp.resolve("starling.yaml");
        Files.writeString(file, configFile(r));
        BrokerConfig config = ConfigLoader.load(file, env);

        assertEquals("mqtt-starling-headless.iot.svc.cluster.local", config.clusterKubernetesServiceDns());
        assertEquals(sts.getSpec().getServiceName() + "." + Chart.NAMESPACE + ".svc.cluster.local",
                config.clusterKubernetesServiceDns(), "the pods look up the StatefulSet's own headless Service");
        assertEquals("10.1.2.3", config.clusterBindHost(), "Hazelcast binds the pod's IP");
        assertEquals("0.0.0.0", config.metricsHost());
        assertTrue(config.clusterMembers().isEmpty());
        assertEquals(Chart.FULLNAME, config.clusterName());
        Map<String, Integer> ports = containerPorts(broker(sts));
        assertEquals(ports.get("metrics"), config.metricsPort());
        assertEquals(ports.get("hazelcast"), config.clusterPort());
        assertEquals(ports.get("link"), config.clusterLinkPort());
        Map<String, Integer> listenerPorts = new HashMap<>();
        for (ListenerConfig l : config.listeners()) {
            listenerPorts.put(switch (l.kind()) {
                case TCP -> "mqtt";
                case TLS -> "mqtts";
                case WS -> "ws";
                case WSS -> "wss";
            }, l.port());
            assertEquals("0.0.0.0", l.host());
            assertEquals(set.equals("tls"), l.proxyProtocol(), l.kind() + " proxy protocol");
        }
        Map<String, Integer> mqttPorts = new HashMap<>(ports);
        mqttPorts.keySet().removeAll(Set.of("metrics", "hazelcast", "link"));
        assertEquals(mqttPorts, listenerPorts, "container ports = the broker's listeners");
        switch (set) {
            case "auth" -> {
                assertFalse(config.authPasswordFile().isEmpty());
                assertFalse(config.authAclFile().isEmpty());
                assertFalse(config.authAllowAnonymous());
                assertEquals(5000, config.maxQueuedMessages());
                assertEquals(100000, config.limits().maxConnections());
                assertTrue(Files.readString(Path.of(config.authPasswordFile())).startsWith("device-1:$argon2id$"));
            }
            case "tls" -> {
                assertEquals(Set.of("mqtts", "wss"), listenerPorts.keySet());
                assertTrue(config.authAllowAnonymous());
            }
            case "five-replicas" -> assertEquals(2, config.clusterBackupCount());
            default -> {
                assertEquals(Set.of("mqtt"), listenerPorts.keySet());
                assertTrue(config.authAllowAnonymous(), "without auth.enabled the chart says anonymous is allowed");
            }
        }
    }

    /**
     * The container's environment as the kubelet would give it: $(POD_IP) filled in, files under
     * the chart's mounts replaced by copies in {@code tmp} (from the chart's Secrets, or stand-ins).
     */
    private static Map<String, String> podEnvironment(Chart.Rendered r, StatefulSet sts, Path tmp) throws Exception {
        Map<String, String> files = new HashMap<>();
        for (Chart.Manifest m : r.ofKind("Secret")) {
            Secret s = (Secret) ApiTypes.strict(m);
            if (s.getStringData() != null && m.name().endsWith("-auth")) {
                s.getStringData().forEach((k, v) -> files.put("/etc/starling/auth/" + k, v));
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : broker(sts).getEnv()) {
            String v = e.getValue();
            if (e.getValueFrom() != null && "status.podIP".equals(e.getValueFrom().getFieldRef().getFieldPath())) {
                v = "10.1.2.3";
            }
            if (v != null) {
                for (var known : env.entrySet()) {
                    v = v.replace("$(" + known.getKey() + ")", known.getValue());
                }
                if (v.startsWith("/etc/starling/")) {
                    Path local = tmp.resolve(v.substring(1));
                    Files.createDirectories(local.getParent());
                    Files.writeString(local, files.getOrDefault(v, "# stand-in for " + v + "\n"));
                    v = local.toString();
                }
            }
            env.put(e.getName(), v);
        }
        return env;
    }

    static String configFile(Chart.Rendered r) {
        ConfigMap cm = (ConfigMap) ApiTypes.strict(r.one("ConfigMap", Chart.FULLNAME + "-config"));
        return cm.getData().get("starling.yaml");
    }

    static Set<String> flatKeys(String yaml) {
        Set<String> out = new TreeSet<>();
        flatten("", new org.yaml.snakeyaml.Yaml().load(yaml), out);
        return out;
    }

    private static void flatten(String prefix, Object o, Set<String> out) {
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> flatten(prefix + k + (v instanceof Map ? "." : ""), v, out));
        } else if (!prefix.isEmpty()) {
            out.add(prefix);
        }
    }

    private static Map<String, Integer> containerPorts(Container c) {
        Map<String, Integer> out = new HashMap<>();
        c.getPorts().forEach(p -> out.put(p.getName(), p.getContainerPort()));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void probesAskTheHealthPathsOnTheMetricsPort(String set) {
        StatefulSet sts = statefulSet(Chart.render(set));
        Container c = broker(sts);
        String metricsPort = c.getEnv().stream().filter(e -> e.getName().equals("STARLING_METRICS_PORT")).findFirst()
                .orElseThrow().getValue();
        assertEquals(Integer.parseInt(metricsPort), containerPorts(c).get("metrics"));
        assertEquals("/health/ready", c.getReadinessProbe().getHttpGet().getPath());
        assertEquals("metrics", c.getReadinessProbe().getHttpGet().getPort().getStrVal());
        assertEquals("/health/live", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals("metrics", c.getLivenessProbe().getHttpGet().getPort().getStrVal());
        assertEquals("/health/live", c.getStartupProbe().getHttpGet().getPath());
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void onlyStarlingPodsReachTheClusterPortsWhileMqttAndMetricsStayOpen(String set) {
        Chart.Rendered r = Chart.render(set);
        StatefulSet sts = statefulSet(r);
        Map<String, Integer> ports = containerPorts(broker(sts));
        NetworkPolicy np = (NetworkPolicy) ApiTypes.strict(r.one("NetworkPolicy", Chart.FULLNAME));
        Map<String, String> selector = sts.getSpec().getSelector().getMatchLabels();
        assertEquals(selector, np.getSpec().getPodSelector().getMatchLabels(), "the policy covers the broker pods");
        assertEquals(selector, sts.getSpec().getTemplate().getMetadata().getLabels().entrySet().stream()
                .filter(e -> selector.containsKey(e.getKey())).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        assertEquals(List.of("Ingress"), np.getSpec().getPolicyTypes());
        Set<Integer> cluster = Set.of(ports.get("hazelcast"), ports.get("link"));
        Set<Integer> mqtt = ports.entrySet().stream().filter(e -> Set.of("mqtt", "mqtts", "ws", "wss").contains(e.getKey()))
                .map(Map.Entry::getValue).collect(Collectors.toSet());
        boolean clusterRule = false;
        Set<Integer> open = new java.util.HashSet<>();
        for (NetworkPolicyIngressRule rule : np.getSpec().getIngress()) {
            assertFalse(rule.getPorts().isEmpty(), "a rule without ports admits every port");
            Set<Integer> rulePorts = rule.getPorts().stream().map(NetworkPolicyPort::getPort).map(p -> p.getIntVal())
                    .collect(Collectors.toSet());
            boolean touchesCluster = rulePorts.stream().anyMatch(cluster::contains);
            if (touchesCluster) {
                clusterRule = true;
                assertEquals(cluster, rulePorts, "the cluster rule opens the cluster ports and nothing else");
                assertEquals(1, rule.getFrom().size());
                var peer = rule.getFrom().get(0);
                assertEquals(selector, peer.getPodSelector().getMatchLabels(), "only Starling's own pods");
                assertEquals(null, peer.getNamespaceSelector(), "of this namespace");
                assertEquals(null, peer.getIpBlock());
            } else if (rule.getFrom() == null || rule.getFrom().isEmpty()) {
                open.addAll(rulePorts);
            }
        }
        assertTrue(clusterRule, "no rule for the cluster ports");
        Set<Integer> expectedOpen = new java.util.HashSet<>(mqtt);
        expectedOpen.add(ports.get("metrics"));
        assertEquals(expectedOpen, open, "MQTT listeners and metrics open to any source");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void podsLeaveGracefullyOneAtATimeAndFindEachOtherBeforeReady(String set) {
        Chart.Rendered r = Chart.render(set);
        StatefulSet sts = statefulSet(r);
        var pod = sts.getSpec().getTemplate().getSpec();
        assertEquals("Parallel", sts.getSpec().getPodManagementPolicy());
        assertEquals("RollingUpdate", sts.getSpec().getUpdateStrategy().getType());
        long sleep = broker(sts).getLifecycle().getPreStop().getSleep().getSeconds();
        assertTrue(sleep > 0);
        // Main.java: leave(10 s), then at most 20 s for the whole leave and close.
        assertTrue(pod.getTerminationGracePeriodSeconds() >= sleep + 30, "grace " + pod.getTerminationGracePeriodSeconds());
        PodDisruptionBudget pdb = (PodDisruptionBudget) ApiTypes.strict(r.one("PodDisruptionBudget", Chart.FULLNAME));
        assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal());
        assertEquals(sts.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector().getMatchLabels());
        Service headless = (Service) ApiTypes.strict(r.one("Service", sts.getSpec().getServiceName()));
        assertEquals("None", headless.getSpec().getClusterIP());
        assertTrue(headless.getSpec().getPublishNotReadyAddresses(), "starting members must see each other");
        assertEquals(sts.getSpec().getSelector().getMatchLabels(), headless.getSpec().getSelector());
        Service client = (Service) ApiTypes.strict(r.one("Service", Chart.FULLNAME));
        assertEquals(sts.getSpec().getSelector().getMatchLabels(), client.getSpec().getSelector());
        assertFalse(client.getSpec().getPorts().stream().anyMatch(p -> Set.of("hazelcast", "link", "metrics").contains(p.getName())),
                "the client Service exposes MQTT only");
        assertEquals(set.equals("five-replicas") ? "NodePort" : "LoadBalancer", client.getSpec().getType());
        assertEquals("Local", client.getSpec().getExternalTrafficPolicy());
        assertEquals(set.equals("five-replicas") ? 5 : 3, sts.getSpec().getReplicas());
        assertNotNull(pod.getAffinity().getPodAntiAffinity());
        assertEquals(set.equals("five-replicas"),
                pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution().size() == 1);
        assertEquals(sts.getSpec().getSelector().getMatchLabels(),
                pod.getTopologySpreadConstraints().get(0).getLabelSelector().getMatchLabels());
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth", "five-replicas", "monitoring"})
    void runsAsNonRootOnAReadOnlyRootWithItsHeapFromTheMemoryLimit(String set) {
        StatefulSet sts = statefulSet(Chart.render(set));
        var pod = sts.getSpec().getTemplate().getSpec();
        Container c = broker(sts);
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertTrue(c.getSecurityContext().getRunAsNonRoot());
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        assertFalse(pod.getAutomountServiceAccountToken());
        var tmp = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow();
        assertNotNull(pod.getVolumes().stream().filter(v -> v.getName().equals(tmp.getName())).findFirst().orElseThrow().getEmptyDir());
        String jvm = c.getEnv().stream().filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS")).findFirst().orElseThrow().getValue();
        assertTrue(jvm.contains(set.equals("five-replicas") ? "-XX:MaxRAMPercentage=70" : "-XX:MaxRAMPercentage=60"), jvm);
        assertTrue(jvm.contains("-XX:+ExitOnOutOfMemoryError"), jvm);
        assertNotNull(c.getResources().getLimits().get("memory"), "MaxRAMPercentage needs a memory limit");
        assertEquals(c.getResources().getLimits().get("memory"), c.getResources().getRequests().get("memory"));
        assertEquals("starling:0.1.0", c.getImage(), "image starling, tag the chart's appVersion");
        assertEquals(List.of("--config", "/etc/starling/config/starling.yaml"), c.getArgs());
        assertEquals(set.equals("five-replicas"), sts.getSpec().getVolumeClaimTemplates() != null
                && sts.getSpec().getVolumeClaimTemplates().size() == 1, "a claim per pod only with persistence on");
        String storeDir = c.getEnv().stream().filter(e -> e.getName().equals("STARLING_PERSISTENCE_DIR")).findFirst()
                .map(io.fabric8.kubernetes.api.model.EnvVar::getValue).orElse(null);
        if (set.equals("five-replicas")) {
            String mount = c.getVolumeMounts().stream().filter(m -> m.getName().equals("data")).findFirst().orElseThrow().getMountPath();
            assertEquals(mount + "/store", storeDir, "the store lives on the pod's own volume");
        } else {
            assertEquals(null, storeDir, "no store without a volume");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "tls", "auth"})
    void helmTestPodsSubscribeAndPublishThroughTheServiceAndAcrossNodes(String set) throws Exception {
        Chart.Rendered r = Chart.renderWithTests(set, Map.of());
        List<Chart.Manifest> tests = r.manifests().stream().filter(Chart.Manifest::isHelmTest).filter(m -> m.kind().equals("Pod")).toList();
        assertEquals(set.equals("tls") ? 1 : 2, tests.size(), "the cross-node test needs the plain listener");
        Pod service = (Pod) ApiTypes.strict(r.one("Pod", Chart.FULLNAME + "-test-service"));
        Container c = service.getSpec().getContainers().get(0);
        Map<String, EnvVar> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
        assertEquals("mqtt-starling.iot.svc.cluster.local", env.get("SUB_HOST").getValue());
        assertEquals(env.get("SUB_HOST").getValue(), env.get("PUB_HOST").getValue());
        assertEquals(set.equals("tls") ? "8883" : "1883", env.get("MQTT_PORT").getValue());
        assertTrue(c.getArgs().get(0).contains("mosquitto_sub") && c.getArgs().get(0).contains("mosquitto_pub"));
        assertFalse(service.getMetadata().getLabels().get("app.kubernetes.io/name").equals("starling"),
                "a test pod is not a broker pod (the NetworkPolicy's cluster rule must not admit it)");
        assertEquals(set.equals("auth"), env.containsKey("MQTT_USERNAME"));
        if (!set.equals("tls")) {
            Pod cross = (Pod) ApiTypes.strict(r.one("Pod", Chart.FULLNAME + "-test-cross-node"));
            Map<String, String> e = cross.getSpec().getContainers().get(0).getEnv().stream()
                    .collect(Collectors.toMap(EnvVar::getName, v -> v.getValue() == null ? "" : v.getValue()));
            assertEquals("mqtt-starling-0.mqtt-starling-headless.iot.svc.cluster.local", e.get("SUB_HOST"));
            assertEquals("mqtt-starling-2.mqtt-starling-headless.iot.svc.cluster.local", e.get("PUB_HOST"));
        }
    }
}
