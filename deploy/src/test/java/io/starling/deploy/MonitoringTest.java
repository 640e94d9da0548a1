package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.starling.Broker;
import io.starling.config.ConfigLoader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The alerts and the dashboard name only metrics (and labels) that a started node exports: a
 * node is started here and its /metrics read, so a renamed metric fails this test rather than
 * leaving an alert that never fires.
 */
class MonitoringTest {
    private static Broker broker;
    private static final Set<String> METRICS = new TreeSet<>();
    private static final Set<String> LABELS = new TreeSet<>(Set.of("pod", "namespace", "service", "job", "instance", "le"));
    private static final Pattern NAME = Pattern.compile("\\b((?:starling|jvm|process|netty|system)_[a-z0-9_]+)\\b");
    private static final Pattern BY = Pattern.compile("\\bby \\(([^)]*)\\)");

    @BeforeAll
    static void startNode() throws Exception {
        int metrics;
        try (ServerSocket s = new ServerSocket(0)) {
            metrics = s.getLocalPort();
        }
        var config = ConfigLoader.load(null, Map.of("STARLING_LISTENER_PORT", "0", "STARLING_METRICS_PORT", String.valueOf(metrics),
                "STARLING_CLUSTER_PORT", "27701", "STARLING_CLUSTER_LINK_PORT", "27901", "STARLING_SYS_INTERVAL", "0"));
        broker = Broker.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.metricsPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                METRICS.add(line.split(" ")[2]);
            } else if (!line.startsWith("#") && !line.isBlank()) {
                METRICS.add(line.split("[{ ]")[0]);
                Matcher m = Pattern.compile("([a-z_]+)=\"").matcher(line);
                while (m.find()) {
                    LABELS.add(m.group(1));
                }
            }
        }
        assertTrue(METRICS.contains("starling_connections"), METRICS.toString());
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (broker != null) {
            broker.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static List<String> unknownNames(String expr) {
        List<String> bad = new ArrayList<>();
        Matcher m = NAME.matcher(expr);
        while (m.find()) {
            if (!METRICS.contains(m.group(1))) {
                bad.add(m.group(1));
            }
        }
        Matcher by = BY.matcher(expr);
        while (by.find()) {
            for (String label : by.group(1).split(",")) {
                if (!LABELS.contains(label.strip())) {
                    bad.add("label " + label.strip());
                }
            }
        }
        return bad;
    }

    @Test
    void everyAlertAsksForMetricsTheNodeExports() {
        PrometheusRule rule = (PrometheusRule) ApiTypes.strict(Chart.render("monitoring").one("PrometheusRule", Chart.FULLNAME));
        Set<String> alerts = new TreeSet<>();
        for (var group : rule.getSpec().getGroups()) {
            for (Rule r : group.getRules()) {
                alerts.add(r.getAlert());
                String expr = r.getExpr().getStrVal();
                assertEquals(List.of(), unknownNames(expr), r.getAlert() + ": " + expr);
                assertTrue(expr.contains("namespace=\"iot\", service=\"mqtt-starling-headless\""),
                        r.getAlert() + " must select this release's pods: " + expr);
            }
        }
        assertEquals(Set.of("StarlingNodeDown", "StarlingClusterSmallerThanExpected", "StarlingClusterNotSafe",
                "StarlingMessagesDropped", "StarlingForwardsFailed", "StarlingAuthFailures", "StarlingQueueGrowth"), alerts);
        String smaller = rule.getSpec().getGroups().get(0).getRules().stream().filter(r -> r.getAlert().equals("StarlingClusterSmallerThanExpected"))
                .findFirst().orElseThrow().getExpr().getStrVal();
        assertTrue(smaller.endsWith("< 3"), smaller);
        PrometheusRule five = (PrometheusRule) ApiTypes.strict(Chart.render("monitoring", Map.of("replicaCount", 5)).one("PrometheusRule", Chart.FULLNAME));
        assertTrue(five.getSpec().getGroups().get(0).getRules().stream().anyMatch(r -> r.getExpr().getStrVal().endsWith("< 5")));
    }

    @Test
    void everyDashboardQueryAsksForMetricsTheNodeExports() throws Exception {
        ConfigMap cm = (ConfigMap) ApiTypes.strict(Chart.render("default").one("ConfigMap", Chart.FULLNAME + "-dashboard"));
        assertEquals("1", cm.getMetadata().getLabels().get("grafana_dashboard"));
        Map<?, ?> json = new org.yaml.snakeyaml.Yaml().load(cm.getData().get("starling.json")); // JSON is YAML
        assertEquals("Starling", json.get("title"));
        int queries = 0;
        for (Object p : (List<?>) json.get("panels")) {
            Map<?, ?> panel = (Map<?, ?>) p;
            for (Object t : (List<?>) panel.get("targets")) {
                String expr = (String) ((Map<?, ?>) t).get("expr");
                assertEquals(List.of(), unknownNames(expr), panel.get("title") + ": " + expr);
                queries++;
            }
        }
        assertTrue(queries >= 12, "queries: " + queries);
    }
}
