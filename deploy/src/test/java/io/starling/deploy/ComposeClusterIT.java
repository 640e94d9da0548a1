package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;

/**
 * deploy/docker-compose.yml brought up for real (docker-compose against the engine's Docker API,
 * with compose/local-images.yml swapping in the local HAProxy and Prometheus image where no
 * registry can be reached; Grafana has no such image here and is checked by
 * GrafanaDashboardSchemaTest instead): a message goes through HAProxy from a publisher on one
 * node to a subscriber on another, Prometheus scrapes all three nodes and sees one cluster of
 * three, and every query of the dashboard runs on that Prometheus, the main panels with data.
 */
class ComposeClusterIT {
    private static final List<String> NODES = ComposeFileTest.NODES;

    @Test
    void composeClusterServesMqttThroughHaproxyAndPrometheusScrapesEveryNode() throws Exception {
        Engine.starling();
        Engine.tools();
        Assumptions.assumeTrue(ComposeFileTest.onPath("docker-compose"), "docker-compose not installed");
        String project = "starling-it-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> env = new HashMap<>();
        // No STARLING_IMAGE: the compose file's own default must name the image this build loaded.
        int mqtt = freePort();
        int prometheus = freePort();
        env.put("STARLING_MQTT_PORT", String.valueOf(mqtt));
        env.put("STARLING_PROMETHEUS_PORT", String.valueOf(prometheus));
        int stats = freePort();
        env.put("STARLING_HAPROXY_STATS_PORT", String.valueOf(stats));
        env.put("STARLING_GRAFANA_PORT", String.valueOf(freePort()));
        List<String> services = new ArrayList<>(NODES);
        services.addAll(List.of("haproxy", "prometheus"));
        try {
            List<String> up = new ArrayList<>(List.of("up", "-d"));
            up.addAll(services);
            compose(project, env, up);

            // Through HAProxy (PROXY v2 to the nodes, leastconn): the second connection lands on
            // another node than the first, so the message crosses the cluster.
            // Clients only once HAProxy routes to all three (before, the first ready node took them all).
            awaitPrometheus(prometheus, "starling_cluster_members", r -> r.size() == NODES.size()
                    && all(r, v -> v == NODES.size()), "every node scraped, each in a cluster of three");
            awaitHaproxyUp(stats);
            String uri = "tcp://127.0.0.1:" + mqtt;
            BlockingQueue<String> got = new ArrayBlockingQueue<>(10);
            MqttClient sub = awaitConnected(uri, "compose-sub");
            MqttClient pub = awaitConnected(uri, "compose-pub");
            try {
                sub.subscribe("compose/#", 1, (t, m) -> got.add(t + "=" + new String(m.getPayload(), StandardCharsets.UTF_8)));
                pub.publish("compose/hello", "through haproxy".getBytes(StandardCharsets.UTF_8), 1, false);
                assertEquals("compose/hello=through haproxy", got.poll(15, TimeUnit.SECONDS));
                JsonArray connections = awaitPrometheus(prometheus, "starling_connections", r -> sum(r) >= 2,
                        "both clients counted");
                assertEquals(2, values(connections).stream().filter(v -> v == 1.0).count(),
                        "one client on each of two nodes (leastconn): " + connections);
            } finally {
                pub.disconnect();
                sub.disconnect();
            }

            JsonArray targets = get(prometheus, "/api/v1/targets").getJsonObject("data").getJsonArray("activeTargets");
            List<String> up2 = new ArrayList<>();
            for (int i = 0; i < targets.size(); i++) {
                JsonObject t = targets.getJsonObject(i);
                up2.add(t.getJsonObject("labels").getString("pod") + "=" + t.getString("health"));
            }
            assertEquals(NODES.stream().map(n -> n + "=up").sorted().toList(), up2.stream().sorted().toList());

            // Every query of the dashboard, with its variables as Grafana fills them in for this cluster.
            JsonObject dashboard = new JsonObject(Files.readString(Path.of("helm/starling/dashboards/starling.json")));
            List<String> withData = new ArrayList<>();
            for (Object p : dashboard.getJsonArray("panels")) {
                JsonObject panel = (JsonObject) p;
                for (Object t : panel.getJsonArray("targets", new JsonArray())) {
                    String expr = ((JsonObject) t).getString("expr").replace("$namespace", "compose").replace("$pod", ".*")
                            .replace("$__rate_interval", "1m");
                    JsonObject r = get(prometheus, "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
                    assertEquals("success", r.getString("status"), panel.getString("title") + ": " + expr + " -> " + r);
                    if (!r.getJsonObject("data").getJsonArray("result").isEmpty()) {
                        withData.add(panel.getString("title"));
                    }
                }
            }
            for (String title : List.of("Connections", "Cluster members", "JVM heap used")) {
                assertTrue(withData.stream().anyMatch(t -> t.startsWith(title)), "panel '" + title + "' shows nothing; "
                        + "panels with data: " + withData);
            }
        } finally {
            down(project, env);
        }
    }

    /** Waits until HAProxy's stats (CSV) mark every node's server UP. */
    private static void awaitHaproxyUp(int statsPort) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        String last = "";
        while (System.currentTimeMillis() < deadline) {
            try {
                last = SingleNodeContainerIT.get("http://127.0.0.1:" + statsPort + "/stats;csv");
                String csv = last;
                if (NODES.stream().allMatch(n -> csv.lines().anyMatch(l -> l.startsWith("starling," + n + ",")
                        && l.contains(",UP,")))) {
                    return;
                }
            } catch (Exception | AssertionError e) {
                last = e.toString(); // HAProxy still starting
            }
            Thread.sleep(500);
        }
        throw new AssertionError("HAProxy did not mark every node UP within 60 s:\n" + last);
    }

    private static MqttClient awaitConnected(String uri, String id) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            MqttClient c = new MqttClient(uri, id, new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setConnectionTimeout(5);
            try {
                c.connect(o);
                return c;
            } catch (Exception e) {
                c.close();
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("no MQTT through HAProxy at " + uri + " within 120 s", e);
                }
                Thread.sleep(1000);
            }
        }
    }

    private static JsonArray awaitPrometheus(int port, String query, Predicate<JsonArray> ok, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        JsonArray r = null;
        while (System.currentTimeMillis() < deadline) {
            try {
                r = get(port, "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8))
                        .getJsonObject("data").getJsonArray("result");
                if (ok.test(r)) {
                    return r;
                }
            } catch (IOException | AssertionError e) {
                r = null; // Prometheus still starting
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("Prometheus: " + what + ": " + query + " -> " + r);
    }

    /** The sample values of an instant query's result: [{"metric": {...}, "value": [time, "v"]}, ...]. */
    private static List<Double> values(JsonArray result) {
        List<Double> out = new ArrayList<>();
        for (Object s : result) {
            out.add(Double.parseDouble(((JsonObject) s).getJsonArray("value").getString(1)));
        }
        return out;
    }

    private static boolean all(JsonArray result, Predicate<Double> ok) {
        return values(result).stream().allMatch(ok);
    }

    private static double sum(JsonArray result) {
        return values(result).stream().mapToDouble(Double::doubleValue).sum();
    }

    private static JsonObject get(int port, String path) throws Exception {
        return new JsonObject(SingleNodeContainerIT.get("http://127.0.0.1:" + port + path));
    }

    private static void compose(String project, Map<String, String> env, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("docker-compose", "-p", project, "-f", "docker-compose.yml",
                "-f", "compose/local-images.yml"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path log = Files.createTempFile("compose", ".log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        boolean done = p.waitFor(180, TimeUnit.SECONDS);
        String out = Files.readString(log);
        Files.delete(log);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done && p.exitValue() == 0, String.join(" ", cmd) + (done ? " failed: " : " did not finish: ") + out);
    }

    /**
     * Takes the project down with its volumes. A container of a restart policy that exits at the
     * wrong moment can be restarted by podman during `down` and keep the network busy, so what is
     * left of the project is removed by force and `down` run again.
     */
    private static void down(String project, Map<String, String> env) throws Exception {
        try {
            compose(project, env, List.of("down", "-v", "-t", "30"));
        } catch (AssertionError e) {
            var docker = DockerClientFactory.lazyClient();
            docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of("com.docker.compose.project", project)).exec()
                    .forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec());
            compose(project, env, List.of("down", "-v"));
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
