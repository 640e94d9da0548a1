package io.starling.loadtest.compare;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The TLS section of docs/benchmarks.md: medians for Starling on each provider and for Mosquitto,
 * their ratios, every run, the client that measured them. Between {@link #BEGIN} and {@link #END},
 * so that a run of the TLS scenarios alone replaces this section of an existing report and
 * leaves the rest as its own run wrote it.
 */
final class TlsReport {
    static final String BEGIN = "<!-- tls-section: written by the TLS scenarios of loadtest/benchmark -->";
    static final String END = "<!-- /tls-section -->";

    private TlsReport() {
    }

    static String section(Results results, List<String> ran, Comparison.Options o, Map<String, String> commands,
            Map<String, String> brokerCommands, Instant started) {
        StringBuilder md = new StringBuilder(BEGIN).append("\n## TLS: Starling on the JDK and on OpenSSL, and Mosquitto\n\n");
        md.append("Written by `loadtest/benchmark").append(o.given.isEmpty() ? "" : " " + String.join(" ", o.given))
                .append("` (started ").append(started).append(", commit ").append(Comparison.gitDescribe())
                .append("), on the machine this report lists. Each figure is the **median of ").append(o.runs).append(" run")
                .append(o.runs == 1 ? "" : "s").append("**; the three brokers take turns within each round. "
                        + "Starling is the same jar twice, `tls.provider: jdk` (the JDK's SSLEngine) and "
                        + "`tls.provider: openssl` (BoringSSL through netty-tcnative); Mosquitto is Debian's, linked "
                        + "with the system's OpenSSL. All serve one certificate made at run time (the kind of key is "
                        + "in each row), TLS 1.2 and 1.3 on, no client certificates.\n\n");
        md.append("Client: the load generator (`loadtest/`, its own JVM: Vert.x NetClient on Netty, TLS by ")
                .append(TlsComparison.CLIENT_PROVIDER.equals("openssl") ? "OpenSSL (the BoringSSL netty-tcnative "
                        + "Starling ships), the cheaper client on the cores the brokers share" : "the JDK")
                .append(") with **session resumption off**: it offers no session to resume, so every connection "
                        + "is a full handshake (key exchange and the server's signature). What the client negotiated: ")
                .append(negotiated(results, ran)).append(".\n\n");
        md.append("| Figure | ").append(TlsComparison.JDK).append(" | ").append(TlsComparison.OPENSSL).append(" | ")
                .append(TlsComparison.MOSQUITTO).append(" | jdk ÷ Mosquitto | openssl ÷ Mosquitto | openssl ÷ jdk |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (String id : ran) {
            if (id.equals(TlsComparison.IDLE)) {
                int n = o.quick ? Math.min(1000, o.tlsIdleClients) : o.tlsIdleClients;
                row(md, results, id, "rssBytesPerClient", n + " idle TLS connections (EC P-256): resident memory per "
                        + "connection, bytes (lower is better)");
                row(md, results, id, "heapAndDirectBytesPerClient", n + " idle TLS connections: heap after full GC + "
                        + "direct buffers per connection, bytes (JVM only; OpenSSL's own memory is native, in the "
                        + "resident figure)");
                row(md, results, id, "connectRate", n + " idle TLS connections: connect rate while they came, connects/s");
            } else {
                String key = id.substring("tls-handshake-".length()).equals("rsa") ? "RSA-2048" : "EC P-256";
                int n = o.quick ? 500 : o.tlsStormClients;
                row(md, results, id, "connectRate", "Full TLS handshakes (" + key + "), " + n + " new clients at once: "
                        + "CONNECT→CONNACK completed per second (higher is better)");
                row(md, results, id, "connectLatencyP99Us", "… p99 from TCP connect to CONNACK, µs");
            }
        }
        md.append("\n### Every TLS run\n\n| Scenario | Broker | Figure | Runs | Median |\n|---|---|---|---|---:|\n");
        for (String id : ran) {
            List<String> keys = id.equals(TlsComparison.IDLE)
                    ? List.of("rssBytesPerClient", "heapAndDirectBytesPerClient", "idleClientsConnected")
                    : List.of("connectRate", "connectsFailed");
            for (String key : keys) {
                for (String b : TlsComparison.BROKERS) {
                    if (results.of(id, b).isEmpty() || !results.of(id, b).get(0).containsKey(key)) {
                        continue;
                    }
                    double[] v = results.values(id, b, key);
                    StringBuilder runs = new StringBuilder();
                    for (double x : v) {
                        runs.append(runs.length() == 0 ? "" : ", ").append(Report.number(x));
                    }
                    md.append("| ").append(id).append(" | ").append(b).append(" | ").append(key).append(" | ")
                            .append(runs).append(" | ").append(Report.number(Results.median(v))).append(" |\n");
                }
            }
        }
        md.append("\nBrokers (free loopback ports at the time; the files are the run's temporary ones):\n\n```\n");
        brokerCommands.forEach((name, cmd) -> md.append("# ").append(name).append('\n').append(cmd).append('\n'));
        md.append("```\n\nLoad generator (HOST:TLSPORT is the broker's TLS listener, ca.crt the run's CA):\n\n```\n");
        commands.forEach((id, cmd) -> md.append("# ").append(id).append('\n').append(cmd).append('\n'));
        md.append("```\n").append(END).append('\n');
        return md.toString();
    }

    private static void row(StringBuilder md, Results results, String id, String key, String title) {
        double jdk = median(results, id, TlsComparison.JDK, key);
        double ossl = median(results, id, TlsComparison.OPENSSL, key);
        double mosq = median(results, id, TlsComparison.MOSQUITTO, key);
        md.append("| ").append(title).append(" | ").append(Report.number(jdk)).append(" | ").append(Report.number(ossl))
                .append(" | ").append(Report.number(mosq)).append(" | ").append(ratio(jdk, mosq)).append(" | ")
                .append(ratio(ossl, mosq)).append(" | ").append(ratio(ossl, jdk)).append(" |\n");
    }

    private static double median(Results results, String id, String broker, String key) {
        List<Map<String, String>> rs = results.of(id, broker);
        if (rs.isEmpty() || !rs.get(0).containsKey(key)) {
            return Double.NaN;
        }
        return results.median(id, broker, key);
    }

    private static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "-" : Report.number(a / b) + "×";
    }

    /** The TLS the generator's connections negotiated, as its results report it (one line per distinct answer). */
    private static String negotiated(Results results, List<String> ran) {
        java.util.Set<String> seen = new java.util.LinkedHashSet<>();
        for (String id : ran) {
            for (String b : TlsComparison.BROKERS) {
                for (Map<String, String> r : results.of(id, b)) {
                    String tls = r.getOrDefault("tls", "");
                    int semi = tls.indexOf("; ");
                    String session = semi < 0 ? tls : tls.substring(semi + 2);
                    // "TLSv1.3 TLS_AES_128_GCM_SHA256 x2000": the kind, not the count
                    seen.add(b + ": " + session.replaceAll(" x\\d+", ""));
                }
            }
        }
        return seen.isEmpty() ? "(not reported)" : String.join("; ", new java.util.LinkedHashSet<>(seen));
    }

    /** The report with this section in place of its old one, or added at its end. */
    static String splice(String existing, String section) {
        return splice(existing, section, BEGIN, END);
    }

    /** The report with the section between {@code begin} and {@code end} in place of its old one, or added at its end. */
    static String splice(String existing, String section, String begin, String end) {
        int b = existing.indexOf(begin);
        int e = existing.indexOf(end);
        if (b >= 0 && e > b) {
            return existing.substring(0, b) + section + existing.substring(e + end.length()).replaceFirst("^\n", "");
        }
        return existing.isEmpty() ? section : existing + (existing.endsWith("\n") ? "\n" : "\n\n") + section;
    }
}
