package io.starling.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart's dashboard (which docker-compose.yml's Grafana provisions too) checked without a
 * Grafana, whose image cannot be pulled here: deploy/grafana-check checks it against the types
 * Grafana publishes as @grafana/schema (for the latest Grafana and for the 11.1.0 the compose file
 * runs) and for the data source variable, panel ids, grid and queries. Mutated copies show that
 * the check refuses what it should, naming the panel and the field. Skipped where node, npm or
 * the check's node_modules (npm ci --prefix deploy/grafana-check) are missing.
 */
class GrafanaDashboardSchemaTest {
    static final Path CHECK = Path.of("grafana-check");
    static final Path DASHBOARD = Path.of("helm/starling/dashboards/starling.json");
    static final List<String> MODULES = List.of("typescript", "@grafana/schema", "grafana-schema-11.1.0");

    @TempDir
    static Path tmp;

    record Result(int exit, String output) {
        List<String> problems() {
            return Arrays.stream(output.split("\n")).filter(l -> !l.isBlank() && !l.contains(": INVALID, ")).toList();
        }
    }

    // Per test, not per class: Surefire counts the tests of a class whose @BeforeAll assumption failed as
    // none run, not as skipped.
    @BeforeEach
    void checkIsInstalled() {
        Assumptions.assumeTrue(ComposeFileTest.onPath("node"), "node not installed: the dashboard check is not run");
        Assumptions.assumeTrue(ComposeFileTest.onPath("npm"), "npm not installed: the dashboard check is not run");
        List<String> missing = MODULES.stream().filter(m -> !Files.isRegularFile(CHECK.resolve("node_modules").resolve(m).resolve("package.json"))).toList();
        Assumptions.assumeTrue(missing.isEmpty(), "deploy/grafana-check/node_modules lacks " + missing
                + ": the dashboard check is not run (npm ci --prefix deploy/grafana-check --no-audit --no-fund)");
    }

    static Result check(Path dashboard) throws Exception {
        Process p = new ProcessBuilder("node", CHECK.resolve("check.js").toString(), dashboard.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "grafana-check did not finish");
        return new Result(p.exitValue(), out);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> dashboard() throws Exception {
        return (Map<String, Object>) new Yaml().load(Files.readString(DASHBOARD)); // JSON is YAML
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> panel(Map<String, Object> dashboard, int i) {
        return (Map<String, Object>) ((List<Object>) dashboard.get("panels")).get(i);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> at(Map<String, Object> m, String... keys) {
        for (String k : keys) {
            m = (Map<String, Object>) m.get(k);
        }
        return m;
    }

    /** How the check names panels[i] of the real dashboard, e.g. {@code panel 3 "Messages received by QoS" (panels[2])}. */
    static String name(int i) throws Exception {
        return name(i, panel(dashboard(), i).get("id"));
    }

    static String name(int i, Object id) throws Exception {
        return "panel " + id + " \"" + panel(dashboard(), i).get("title") + "\" (panels[" + i + "])";
    }

    /** The check on a copy of the real dashboard changed by {@code change}, written out as JSON again. */
    static Result checkCopy(Consumer<Map<String, Object>> change) throws Exception {
        Map<String, Object> d = dashboard();
        change.accept(d);
        Path copy = Files.createTempFile(tmp, "dashboard", ".json");
        Files.writeString(copy, json(d));
        return check(copy);
    }

    /**
     * The check on a copy of the real dashboard changed by {@code change}: refused (exit 1), every
     * problem it reports names {@code where}, and each of {@code expected} is in its output.
     */
    static Result refused(Consumer<Map<String, Object>> change, String where, String... expected) throws Exception {
        Result r = checkCopy(change);
        assertEquals(1, r.exit(), "the mutated dashboard must be refused: " + r.output());
        assertTrue(!r.problems().isEmpty(), r.output());
        for (String problem : r.problems()) {
            assertTrue(problem.contains(where), "a problem elsewhere than " + where + ": " + problem);
        }
        for (String e : expected) {
            assertTrue(r.output().contains(e), "expected \"" + e + "\" in: " + r.output());
        }
        return r;
    }

    @Test
    void theDashboardIsValid() throws Exception {
        Result r = check(DASHBOARD);
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("valid Grafana dashboard (@grafana/schema 13.2.3 and 11.1.0; 12 panels"), r.output());
    }

    @Test
    void aWrittenCopyOfTheDashboardIsValid() throws Exception {
        // The mutations below go through this copy: were it refused already, they would prove nothing.
        Result r = checkCopy(d -> { });
        assertEquals(0, r.exit(), r.output());
    }

    @Test
    void anUnknownPanelTypeIsRefused() throws Exception {
        refused(d -> panel(d, 2).put("type", "timeserie"), name(2) + ": type:",
                "Type '\"timeserie\"' is not assignable", "Did you mean '\"timeseries\"'?", "[@grafana/schema 13.2.3]", "[@grafana/schema 11.1.0]");
    }

    @Test
    void aWronglyTypedFieldIsRefused() throws Exception {
        refused(d -> at(panel(d, 2), "gridPos").put("w", "12"), name(2) + ": gridPos",
                "gridPos.w: Type 'string' is not assignable to type 'number'");
    }

    @Test
    void aValueThePanelPluginDoesNotKnowIsRefused() throws Exception {
        refused(d -> at(panel(d, 2), "options", "legend").put("displayMode", "lists"), name(2) + ": options.legend.displayMode:",
                "Type '\"lists\"' is not assignable to type '\"table\" | \"list\" | \"hidden\" | undefined'");
        refused(d -> at(panel(d, 1), "fieldConfig", "defaults").put("custom", new LinkedHashMap<>(Map.of("drawStyle", "curve"))),
                name(1) + ": fieldConfig.defaults.custom.drawStyle:", "Type '\"curve\"' is not assignable");
    }

    @Test
    void anUnknownKeyIsRefused() throws Exception {
        refused(d -> at(panel(d, 2), "options", "legend").put("colour", "red"), name(2) + ": options.legend.colour:",
                "Object literal may only specify known properties, and '\"colour\"' does not exist");
        refused(d -> d.put("graphTooltip", 7), "graphTooltip:", "Type '7' is not assignable to type 'DashboardCursorSync | undefined'");
    }

    @Test
    void aDuplicatePanelIdIsRefused() throws Exception {
        Object id = panel(dashboard(), 1).get("id");
        refused(d -> panel(d, 3).put("id", id), name(3, id), name(3, id) + ": id " + id + " is also the id of " + name(1) + ": panel ids must be unique");
    }

    @Test
    void aDatasourceOtherThanTheVariableIsRefused() throws Exception {
        refused(d -> panel(d, 4).put("datasource", new LinkedHashMap<>(Map.of("type", "prometheus", "uid", "prometheus"))), name(4),
                name(4) + ": datasource.uid is \"prometheus\", not the dashboard's Prometheus data source variable (${datasource})");
        refused(d -> at(panel(d, 0), "datasource").put("type", "loki"), name(0), name(0) + ": datasource.type is \"loki\", not \"prometheus\"");
    }

    @Test
    void aTargetWithoutExprAndAPanelOutsideTheGridAreRefused() throws Exception {
        refused(d -> ((Map<?, ?>) ((List<?>) panel(d, 4).get("targets")).get(0)).remove("expr"), name(4),
                name(4) + ": targets[0]: expr is missing");
        refused(d -> at(panel(d, 5), "gridPos").put("x", 16), name(5), name(5) + ": gridPos x=16 w=12", "is not inside the 24-column grid");
    }

    /** The dashboard as JSON again (snakeyaml writes no JSON): maps, lists, strings, numbers, booleans, null. */
    static String json(Object o) {
        StringBuilder b = new StringBuilder();
        write(o, b);
        return b.append('\n').toString();
    }

    private static void write(Object o, StringBuilder b) {
        if (o instanceof Map<?, ?> m) {
            b.append('{');
            List<String> parts = new ArrayList<>();
            m.forEach((k, v) -> {
                StringBuilder e = new StringBuilder();
                write(String.valueOf(k), e);
                e.append(':');
                write(v, e);
                parts.add(e.toString());
            });
            b.append(String.join(",", parts)).append('}');
        } else if (o instanceof List<?> l) {
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                b.append(i == 0 ? "" : ",");
                write(l.get(i), b);
            }
            b.append(']');
        } else if (o instanceof String s) {
            b.append('"');
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    default -> b.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
                }
            }
            b.append('"');
        } else if (o == null || o instanceof Number || o instanceof Boolean) {
            b.append(o);
        } else {
            throw new IllegalArgumentException("not JSON: " + o.getClass());
        }
    }
}
