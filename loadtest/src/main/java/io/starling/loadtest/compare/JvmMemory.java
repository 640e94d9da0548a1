package io.starling.loadtest.compare;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Starling node's JVM holds: live heap after a full GC (jcmd) plus the direct buffers Netty
 * uses for sockets (the node's Prometheus endpoint). Garbage is not a cost per client, so the heap
 * is measured after a collection; the resident size is reported beside it.
 */
final class JvmMemory {
    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
    private static final Pattern DIRECT = Pattern.compile(
            "(?m)^jvm_buffer_memory_used_bytes\\{[^}]*id=\"direct\"[^}]*\\} ([0-9.eE+]+)");

    private JvmMemory() {
    }

    static long afterFullGc(String java, long pid, int metricsPort) throws IOException, InterruptedException {
        String jcmd = Path.of(java).resolveSibling("jcmd").toString();
        run(jcmd, String.valueOf(pid), "GC.run");
        String info = run(jcmd, String.valueOf(pid), "GC.heap_info");
        Matcher m = HEAP_USED.matcher(info);
        if (!m.find()) {
            throw new IOException("jcmd GC.heap_info gave no heap use: " + info);
        }
        return Long.parseLong(m.group(1)) * 1024 + directBytes(metricsPort);
    }

    private static long directBytes(int metricsPort) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher m = DIRECT.matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) {
            throw new IOException("no direct buffer metric at :" + metricsPort + "/metrics (status " + r.statusCode() + ")");
        }
        return (long) Double.parseDouble(m.group(1));
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
