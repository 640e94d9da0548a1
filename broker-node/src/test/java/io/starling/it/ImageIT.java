package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image Jib built (target/starling-image.tar, from the local base of deploy/base-image/build:
 * the local-base-image profile), checked as a container engine would read it and then run without
 * one: its layers unpacked into a directory, its entrypoint started in a chroot as the image's
 * user, with /proc and /dev as an engine would give them and nothing else writable but /data and
 * /tmp (the files are root's), so a start here is a start on a read-only root file system. A
 * publish and a subscribe go through it. Skipped where no image was built (no local base image, or
 * not root for the chroot).
 */
class ImageIT {
    static final Path IMAGE = Path.of("target/starling-image.tar");
    static Path dir;
    static Path root;
    static JsonObject config;

    @BeforeAll
    static void unpack() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(IMAGE), "no image built: run deploy/base-image/build, then mvn package "
                + "(the local-base-image profile builds " + IMAGE + " from it)");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "running the image in a chroot needs root");
        dir = Files.createTempDirectory("starling-image");
        Path layers = Files.createDirectories(dir.resolve("layers"));
        run(List.of("tar", "-xf", IMAGE.toAbsolutePath().toString(), "-C", layers.toString()));
        JsonObject manifest = new JsonArray(Files.readString(layers.resolve("manifest.json"))).getJsonObject(0);
        config = new JsonObject(Files.readString(layers.resolve(manifest.getString("Config"))));
        root = Files.createDirectories(dir.resolve("root"));
        for (Object layer : manifest.getJsonArray("Layers")) {
            run(List.of("tar", "--warning=no-unknown-keyword", "-xzf", layers.resolve((String) layer).toString(), "-C",
                    root.toString()));
        }
    }

    @AfterAll
    static void remove() throws Exception {
        if (dir != null) {
            run(List.of("rm", "-rf", dir.toString()));
        }
    }

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void theImageSaysWhatAnEngineAndAnOperatorNeed() {
        JsonObject c = config.getJsonObject("config");
        assertEquals("amd64", config.getString("architecture"));
        String user = c.getString("User");
        assertTrue(user != null && user.matches("[1-9][0-9]*:[1-9][0-9]*"), "a numeric non-root user: " + user);
        for (String port : List.of("1883", "8883", "8083", "8084", "8080", "5701", "5801")) {
            assertTrue(c.getJsonObject("ExposedPorts").containsKey(port + "/tcp"), "port " + port + " declared");
        }
        assertTrue(c.getJsonObject("Volumes").containsKey("/data") && c.getJsonObject("Volumes").containsKey("/tmp"));
        List<Object> entrypoint = c.getJsonArray("Entrypoint").getList();
        assertTrue(entrypoint.contains("-XX:+ExitOnOutOfMemoryError"), entrypoint.toString());
        assertTrue(c.getJsonArray("Env").stream().anyMatch(e -> e.toString().startsWith("JAVA_TOOL_OPTIONS=")
                && e.toString().contains("-XX:MaxRAMPercentage=")), "heap from the limit, in a variable a deployment can replace");
        assertTrue(entrypoint.stream().noneMatch(a -> a.toString().contains("RAMPercentage")),
                "no heap size on the command line, where it would win over JAVA_TOOL_OPTIONS");
        assertTrue(entrypoint.contains("-XX:-UsePerfData"), "no hsperfdata file to write");
        JsonObject labels = c.getJsonObject("Labels");
        assertEquals(System.getProperty("project.version"), labels.getString("org.opencontainers.image.version"));
        assertTrue(labels.getString("org.opencontainers.image.revision", "").matches("[0-9a-f]{40}"),
                "the commit it was built from: " + labels);
        assertNotNull(labels.getString("org.opencontainers.image.licenses"));
        assertNotNull(labels.getString("org.opencontainers.image.source"));
        assertTrue(c.getJsonArray("Env").contains("STARLING_LISTENER_HOST=0.0.0.0"), "listens on the container's network");
    }

    @Test
    void itsEntrypointServesMqttAsItsUserWithOnlyDataAndTmpWritable() throws Exception {
        JsonObject c = config.getJsonObject("config");
        Path data = Files.createDirectories(root.resolve("data"));
        Files.createDirectories(root.resolve("tmp"));
        String user = c.getString("User");
        run(List.of("chown", user, data.toString(), root.resolve("tmp").toString()));
        int mqtt = ConfigurationIT.freePort();
        int metrics = ConfigurationIT.freePort();
        List<String> env = new ArrayList<>();
        for (Object e : c.getJsonArray("Env")) {
            env.add(e.toString());
        }
        // The test's own network is the host's: loopback only (the image's 0.0.0.0 is checked above).
        env.addAll(List.of("STARLING_LISTENER_HOST=127.0.0.1", "STARLING_LISTENER_PORT=" + mqtt,
                "STARLING_METRICS_HOST=127.0.0.1", "STARLING_METRICS_PORT=" + metrics,
                "STARLING_CLUSTER_PORT=" + ConfigurationIT.freePort(), "STARLING_CLUSTER_LINK_PORT=" + ConfigurationIT.freePort(),
                "STARLING_CLUSTER_NAME=image-it-" + ProcessHandle.current().pid()));
        StringBuilder inner = new StringBuilder("mount -t proc proc " + root + "/proc && mount --rbind /dev " + root
                + "/dev && exec chroot --userspec=" + user + " " + root + " /usr/bin/env -C " + c.getString("WorkingDir") + " -i");
        for (String e : env) {
            inner.append(" '").append(e).append('\'');
        }
        for (Object a : c.getJsonArray("Entrypoint")) {
            inner.append(" '").append(a).append('\'');
        }
        Path log = dir.resolve("node.log");
        // A mount namespace of its own: the mounts go when the node does; --kill-child: so does the node.
        Process node = new ProcessBuilder("unshare", "--mount", "--kill-child", "--fork", "sh", "-c", inner.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String ready = "";
            while (System.nanoTime() < deadline && node.isAlive() && !ready.equals("ready")) {
                Thread.sleep(500);
                try {
                    ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics + "/health/ready"))
                            .build(), HttpResponse.BodyHandlers.ofString()).body().trim();
                } catch (java.io.IOException notYet) {
                    ready = "";
                }
            }
            assertEquals("ready", ready, "the image's node did not become ready: " + Files.readString(log));
            long javaPid = node.descendants().filter(h -> h.info().command().orElse("").endsWith("java")).findFirst()
                    .orElseThrow().pid();
            String status = Files.readString(Path.of("/proc/" + javaPid + "/status"));
            assertTrue(status.contains("\nUid:\t" + user.split(":")[0] + "\t"), "runs as the image's user: " + status);
            try (PahoV5Client sub = PahoV5Client.connect("tcp://127.0.0.1:" + mqtt, "image-sub", null);
                 PahoV5Client pub = PahoV5Client.connect("tcp://127.0.0.1:" + mqtt, "image-pub", null)) {
                sub.subscribe("image/#", 1);
                pub.publish("image/x", "from the image", 1, false);
                PahoV5Client.Received r = sub.poll(5000);
                assertEquals("from the image", r == null ? null : r.text());
            }
        } finally {
            // The node itself first: unshare's --kill-child does not reach it, since the kernel clears
            // the parent-death signal when chroot --userspec changes its user.
            List<ProcessHandle> inside = node.descendants().toList();
            inside.forEach(ProcessHandle::destroy);
            for (ProcessHandle h : inside) {
                h.onExit().get(30, TimeUnit.SECONDS);
            }
            node.destroy();
            if (!node.waitFor(30, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }
}
