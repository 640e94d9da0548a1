package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.config.BrokerConfig;
import io.starling.config.ConfigLoader;
import io.starling.config.ListenerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/docker-compose.yml and the files it mounts, checked without a container engine: the
 * compose file by docker-compose's own validation, Prometheus' configuration by promtool,
 * HAProxy's by haproxy -c (each skipped where the tool is not installed), and every node's
 * environment by the broker's configuration loader, as the image's environment plus the
 * compose file's would reach it. ComposeClusterIT brings it up on an engine.
 */
class ComposeFileTest {
    static final Path COMPOSE = Path.of("docker-compose.yml");
    static final Path HAPROXY = Path.of("compose/haproxy.cfg");
    static final Path PROMETHEUS = Path.of("compose/prometheus.yml");
    static final List<String> NODES = List.of("starling1", "starling2", "starling3");

    static boolean onPath(String tool) {
        return java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> services() throws Exception {
        Map<String, Object> compose = new Yaml().load(Files.readString(COMPOSE));
        return (Map<String, Object>) compose.get("services");
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> environment(String service) throws Exception {
        Map<String, Object> s = (Map<String, Object>) services().get(service);
        Map<String, String> env = new HashMap<>();
        ((Map<String, Object>) s.get("environment")).forEach((k, v) -> env.put(k, String.valueOf(v)));
        return env;
    }

    @Test
    void dockerComposeAcceptsTheFile() throws Exception {
        Assumptions.assumeTrue(onPath("docker-compose"), "docker-compose not installed (apt-get install docker-compose)");
        run("docker-compose", "-f", COMPOSE.toString(), "config", "-q");
    }

    @Test
    void prometheusAndHaproxyAcceptTheirFiles() throws Exception {
        Assumptions.assumeTrue(onPath("promtool") && (onPath("haproxy") || Files.isExecutable(Path.of("/usr/sbin/haproxy"))),
                "promtool or haproxy not installed");
        run("promtool", "check", "config", PROMETHEUS.toString());
        run(onPath("haproxy") ? "haproxy" : "/usr/sbin/haproxy", "-c", "-f", HAPROXY.toString());
    }

    @Test
    void eachNodesEnvironmentIsAConfigurationTheBrokerTakes() throws Exception {
        Set<String> envNames = BrokerConfig.KEYS.values().stream().map(BrokerConfig.Key::envName).collect(Collectors.toSet());
        for (String node : NODES) {
            Map<String, String> env = new HashMap<>(Map.of("STARLING_LISTENER_HOST", "0.0.0.0", "STARLING_METRICS_HOST", "0.0.0.0"));
            env.putAll(environment(node)); // over the image's own (broker-node/pom.xml, Jib's environment)
            for (String name : env.keySet()) {
                assertTrue(!name.startsWith("STARLING_") || envNames.contains(name), node + ": " + name + " is no broker key");
            }
            BrokerConfig c = ConfigLoader.load(null, env);
            assertEquals(NODES.stream().map(n -> n + ":5701").toList(), c.clusterMemberList(), node);
            assertEquals(node, c.clusterBindHost());
            ListenerConfig tcp = c.listener(ListenerConfig.Kind.TCP).orElseThrow();
            assertTrue(tcp.proxyProtocol(), "HAProxy sends PROXY v2: the nodes must read it");
            assertEquals(1883, tcp.port());
            assertEquals(8080, c.metricsPort());
        }
    }

    @Test
    void haproxyAndPrometheusNameEveryNodeAtItsPorts() throws Exception {
        String haproxy = Files.readString(HAPROXY);
        Set<String> servers = new TreeSet<>();
        for (String line : haproxy.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[0].equals("server")) {
                servers.add(f[2]);
            }
        }
        assertEquals(new TreeSet<>(NODES.stream().map(n -> n + ":1883").toList()), servers);
        assertTrue(haproxy.contains("send-proxy-v2") && haproxy.contains("check port 8080")
                && haproxy.contains("GET /health/ready"), "health checks on each node's readiness, PROXY v2 to them");
        List<String> targets = new ArrayList<>();
        for (String line : Files.readString(PROMETHEUS).split("\n")) {
            if (line.contains("targets:")) {
                for (String t : line.substring(line.indexOf('[') + 1, line.indexOf(']')).split(",")) {
                    targets.add(t.trim().replace("\"", ""));
                }
            }
        }
        assertEquals(NODES.stream().map(n -> n + ":8080").toList(), targets);
        assertTrue(services().keySet().containsAll(NODES) && services().containsKey("grafana"));
        assertTrue(Files.isRegularFile(Path.of("helm/starling/dashboards/starling.json")), "Grafana's dashboard is the chart's");
    }
}
