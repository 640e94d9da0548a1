package io.starling.loadtest;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The final result of a run: flat, with stable field names (the JSON keys, documented in
 * loadtest/README.md). Latencies are microseconds, rates messages (or connects) per second.
 */
public record Result(
        String scenario, String hosts, String mqtt, int qos, int payload, int clients, int publishers,
        int subscribers, double rate, int durationSeconds, int warmupSeconds, double measuredSeconds,
        long sent, long received, long expected, long sentMeasured, long receivedMeasured,
        double sendRate, double receiveRate,
        long latencyCount, long latencyP50Us, long latencyP90Us, long latencyP99Us, long latencyP999Us,
        long latencyMaxUs,
        long sameNodeLatencyCount, long sameNodeLatencyP50Us, long sameNodeLatencyP99Us,
        long lost, long duplicates, long outOfOrder,
        long connectsAttempted, long connectsSucceeded, long connectsFailed, double connectRate,
        long connectLatencyP50Us, long connectLatencyP99Us, long connectLatencyMaxUs,
        long errors, Map<String, Long> errorsByKind, boolean setupFailed, String setupError, String tls) {

    /** The fields in report order, with their JSON names. */
    public Map<String, Object> fields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", scenario);
        m.put("hosts", hosts);
        m.put("mqtt", mqtt);
        m.put("qos", qos);
        m.put("payload", payload);
        m.put("clients", clients);
        m.put("publishers", publishers);
        m.put("subscribers", subscribers);
        m.put("rate", rate);
        m.put("durationSeconds", durationSeconds);
        m.put("warmupSeconds", warmupSeconds);
        m.put("measuredSeconds", measuredSeconds);
        m.put("sent", sent);
        m.put("received", received);
        m.put("expected", expected);
        m.put("sentMeasured", sentMeasured);
        m.put("receivedMeasured", receivedMeasured);
        m.put("sendRate", sendRate);
        m.put("receiveRate", receiveRate);
        m.put("latencyCount", latencyCount);
        m.put("latencyP50Us", latencyP50Us);
        m.put("latencyP90Us", latencyP90Us);
        m.put("latencyP99Us", latencyP99Us);
        m.put("latencyP999Us", latencyP999Us);
        m.put("latencyMaxUs", latencyMaxUs);
        m.put("sameNodeLatencyCount", sameNodeLatencyCount);
        m.put("sameNodeLatencyP50Us", sameNodeLatencyP50Us);
        m.put("sameNodeLatencyP99Us", sameNodeLatencyP99Us);
        m.put("lost", lost);
        m.put("duplicates", duplicates);
        m.put("outOfOrder", outOfOrder);
        m.put("connectsAttempted", connectsAttempted);
        m.put("connectsSucceeded", connectsSucceeded);
        m.put("connectsFailed", connectsFailed);
        m.put("connectRate", connectRate);
        m.put("connectLatencyP50Us", connectLatencyP50Us);
        m.put("connectLatencyP99Us", connectLatencyP99Us);
        m.put("connectLatencyMaxUs", connectLatencyMaxUs);
        m.put("errors", errors);
        m.put("errorsByKind", errorsByKindText());
        m.put("setupFailed", setupFailed);
        m.put("setupError", setupError == null ? "" : setupError);
        m.put("tls", tls);
        return m;
    }

    /** "kind=count;kind=count", sorted by kind; empty when there were none. */
    public String errorsByKindText() {
        return errorsByKind.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(";"));
    }

    public String toJson() {
        return JsonWriter.object(fields());
    }

    /** The human-readable summary printed at the end of a run. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "== %s against %s, MQTT %s, QoS %d, payload %d B%n",
                scenario, hosts, mqtt, qos, payload));
        sb.append(String.format(Locale.ROOT, "clients %d: publishers %d, subscribers %d; rate %s; measured %.2f s "
                        + "(warm-up %d s)%n", clients, publishers, subscribers,
                rate == 0 ? "as fast as possible" : String.format(Locale.ROOT, "%.0f msg/s", rate),
                measuredSeconds, warmupSeconds));
        if (publishers > 0) {
            sb.append(String.format(Locale.ROOT, "messages   sent %d, received %d, expected %d (measured: sent %d, received %d)%n",
                    sent, received, expected, sentMeasured, receivedMeasured));
            sb.append(String.format(Locale.ROOT, "throughput sent %.1f msg/s, received %.1f msg/s%n", sendRate, receiveRate));
            sb.append(String.format(Locale.ROOT, "latency    p50 %d us, p90 %d us, p99 %d us, p99.9 %d us, max %d us (%d samples)%n",
                    latencyP50Us, latencyP90Us, latencyP99Us, latencyP999Us, latencyMaxUs, latencyCount));
            if (sameNodeLatencyCount > 0) {
                sb.append(String.format(Locale.ROOT, "same node  p50 %d us, p99 %d us (%d samples): the same messages to "
                                + "subscribers on the publishers' node; the hop adds %d us at p99%n",
                        sameNodeLatencyP50Us, sameNodeLatencyP99Us, sameNodeLatencyCount,
                        latencyP99Us - sameNodeLatencyP99Us));
            }
            sb.append(String.format(Locale.ROOT, "integrity  lost %d, duplicates %d, out-of-order %d%n",
                    lost, duplicates, outOfOrder));
        }
        sb.append(String.format(Locale.ROOT, "connects   attempted %d, succeeded %d, failed %d, %.1f connects/s; "
                        + "connect latency p50 %d us, p99 %d us, max %d us%n",
                connectsAttempted, connectsSucceeded, connectsFailed, connectRate,
                connectLatencyP50Us, connectLatencyP99Us, connectLatencyMaxUs));
        if (!tls.equals("off")) {
            sb.append("tls        ").append(tls).append(System.lineSeparator());
        }
        sb.append(String.format(Locale.ROOT, "errors     %d%s%n", errors,
                errors == 0 ? "" : " (" + errorsByKindText().replace(";", ", ") + ")"));
        if (setupFailed) {
            sb.append("SETUP FAILED: ").append(setupError).append(System.lineSeparator());
        }
        return sb.toString();
    }
}
