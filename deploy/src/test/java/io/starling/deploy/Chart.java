package io.starling.deploy;

import com.marcnuri.helm.Helm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart in deploy/helm/starling, rendered with helm-java's bundled helm (no cluster, no
 * network): {@code helm template RELEASE CHART -n NAMESPACE -f ci/NAME-values.yaml --set ...}.
 */
final class Chart {
    static final String RELEASE = "mqtt";
    static final String NAMESPACE = "iot";
    /** The full name the chart gives a release "mqtt" (the release name joined to the chart's). */
    static final String FULLNAME = "mqtt-starling";

    static Path dir() {
        return Path.of(System.getProperty("starling.chart", "helm/starling")).toAbsolutePath();
    }

    /** A value set from the chart's ci/ directory, by name ("default" is the chart's own values). */
    static Path valuesFile(String name) {
        return dir().resolve("ci").resolve(name + "-values.yaml");
    }

    /** The rendered manifests; helm's error (schema, a template's fail) as an exception. */
    static Rendered render(String valueSet, Map<String, Object> sets) {
        return render(dir(), valueSet, sets);
    }

    /**
     * As {@link #render}, with the {@code helm test} hooks among the manifests: helm-java 0.0.15's
     * template returns the release's manifest without its hooks (the helm CLI prints both), so a
     * copy of the chart whose test templates carry {@link #TEST_HOOK} instead of helm's hook
     * annotation is rendered.
     */
    static Rendered renderWithTests(String valueSet, Map<String, Object> sets) throws java.io.IOException {
        Path copy = Files.createTempDirectory("starling-chart");
        try {
            try (var files = Files.walk(dir())) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Path to = copy.resolve(dir().relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else if (p.getParent().getFileName().toString().equals("tests")) {
                        Files.writeString(to, Files.readString(p).replace("helm.sh/hook: test", TEST_HOOK + ": test"));
                    } else {
                        Files.copy(p, to);
                    }
                }
            }
            return render(copy, valueSet, sets);
        } finally {
            try (var files = Files.walk(copy)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static final String TEST_HOOK = "starling.test/helm-test-hook";

    private static Rendered render(Path chart, String valueSet, Map<String, Object> sets) {
        var template = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE);
        if (!valueSet.equals("default")) {
            Path f = valuesFile(valueSet);
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("no value set " + f);
            }
            template.withValuesFile(f);
        }
        sets.forEach(template::set);
        return Rendered.parse(template.call());
    }

    static Rendered render(String valueSet) {
        return render(valueSet, Map.of());
    }

    /** One rendered document: its YAML text, as a map, and the template it came from. */
    record Manifest(String source, String yaml, Map<String, Object> map) {
        String kind() {
            return (String) map.get("kind");
        }

        String name() {
            return (String) ((Map<?, ?>) map.get("metadata")).get("name");
        }

        boolean isHelmTest() {
            Map<?, ?> annotations = (Map<?, ?>) ((Map<?, ?>) map.get("metadata")).get("annotations");
            return annotations != null && "test".equals(annotations.get(TEST_HOOK));
        }
    }

    record Rendered(String text, List<Manifest> manifests) {
        static Rendered parse(String text) {
            List<Manifest> out = new ArrayList<>();
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false); // a template that writes a key twice is a bug, not "last wins"
            for (String doc : text.split("(?m)^---\\s*$")) {
                if (doc.isBlank()) {
                    continue;
                }
                Object map = new Yaml(options).load(doc);
                if (map == null) {
                    continue; // a template that rendered nothing but its "# Source" comment
                }
                String source = doc.lines().filter(l -> l.startsWith("# Source: ")).findFirst()
                        .map(l -> l.substring("# Source: ".length())).orElse("?");
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) map;
                out.add(new Manifest(source, doc, m));
            }
            return new Rendered(text, out);
        }

        List<Manifest> ofKind(String kind) {
            return manifests.stream().filter(m -> m.kind().equals(kind)).toList();
        }

        Manifest one(String kind, String name) {
            return manifests.stream().filter(m -> m.kind().equals(kind) && m.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in\n" + text));
        }
    }

    private Chart() {
    }
}
