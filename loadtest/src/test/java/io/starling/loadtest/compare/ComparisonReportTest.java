package io.starling.loadtest.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark command's arithmetic and report: medians, ratios, targets, integrity counts. */
class ComparisonReportTest {
    @Test
    void readsTheGeneratorsFlatJson() {
        Map<String, String> r = FlatJson.parse("{\"scenario\":\"p2p\",\"receiveRate\":1234.5,\"lost\":0,"
                + "\"errorsByKind\":\"a=1;b=2\",\"ok\":true}");
        assertEquals("p2p", r.get("scenario"));
        assertEquals(1234.5, FlatJson.number(r, "receiveRate"));
        assertEquals("a=1;b=2", r.get("errorsByKind"));
        assertThrows(IllegalArgumentException.class, () -> FlatJson.number(r, "missing"));
        assertThrows(IllegalArgumentException.class, () -> FlatJson.parse("not json"));
    }

    @Test
    void mediansOfOddAndEvenCounts() {
        assertEquals(3.0, Results.median(new double[] {5, 1, 3}));
        assertEquals(2.5, Results.median(new double[] {4, 1, 3, 2}));
        assertTrue(Double.isNaN(Results.median(new double[0])));
    }

    @Test
    void theReportGivesMediansRatiosTargetsAndLosses() {
        Results results = new Results();
        List<Scenario> scenarios = Scenario.comparisons(true).stream()
                .filter(s -> s.id().equals("p2p-qos1") || s.id().equals("latency-qos1")).toList();
        for (double[] run : new double[][] {{300, 100, 1500, 3000}, {200, 100, 2500, 2000}, {250, 90, 1800, 9000}}) {
            results.add("p2p-qos1", "Starling", result("receiveRate", run[0], 0));
            results.add("p2p-qos1", "Mosquitto", result("receiveRate", run[1], 2));
            results.add("latency-qos1", "Starling", result("latencyP99Us", run[2], 0));
            results.add("latency-qos1", "Mosquitto", result("latencyP99Us", run[3], 0));
        }
        Comparison.Options o = new Comparison.Options();
        String md = new Report(results, scenarios, o, new LinkedHashMap<>(), "starling cmd", "mosquitto cmd", null,
                "mosquitto version 2.0.11", Instant.EPOCH).markdown();
        // p2p-qos1: medians 250 and 100, ratio 2.5 >= 1.5; Mosquitto lost 2 in each of 3 runs.
        assertTrue(md.contains("| 250 | 100 | 2.50× | ≥ 1.5× Mosquitto | yes | 0 / 0 / 0; 6 / 0 / 0 |"), md);
        // latency: Starling's median p99 1,800 µs meets the absolute bound of 2,000 µs.
        assertTrue(md.contains("| 1,800 | 3,000 | 0.60× | ≤ 2,000 µs | yes |"), md);
        assertTrue(md.contains("| p2p-qos1 | Starling | receiveRate | 300, 200, 250 | 250 |"), md);
        assertTrue(md.contains("starling cmd") && md.contains("mosquitto version 2.0.11"), md);
    }

    @Test
    void theCrossNodeHopIsTheDifferenceBetweenTheTwoLegsOfOneRun() {
        Results results = new Results();
        // Per run: cross-node p99, same-node (reference) p99. Medians 2,600 and 2,400: the hop is 200.
        for (double[] run : new double[][] {{2600, 2400}, {1900, 1700}, {3100, 2900}}) {
            Map<String, String> r = result("latencyP99Us", run[0], 0);
            r.put("sameNodeLatencyP99Us", String.valueOf(run[1]));
            results.add("cross-node", CrossNode.CROSS_NODE, r);
            results.add("cross-node", CrossNode.SAME_NODE, CrossNode.sameNodeLeg(r));
        }
        String md = new Report(results, List.of(), new Comparison.Options(), new LinkedHashMap<>(), "s", "m", "c",
                "mosquitto", Instant.EPOCH).markdown();
        assertTrue(md.contains("| µs | 200 (2,600 − 2,400) | no cluster | - | ≤ 1,000 µs | yes |"), md);
        assertTrue(md.contains("| cross-node | same node | latencyP99Us | 2,400, 1,700, 2,900 | 2,400 |"), md);
    }

    @Test
    void theTlsSectionGivesEachProvidersMedianAndTheRatios() {
        Results results = new Results();
        // Handshakes per run for jdk, openssl, Mosquitto: medians 1,000, 3,000 and 2,000.
        for (double[] run : new double[][] {{1000, 3000, 2000}, {900, 3300, 1900}, {1100, 2900, 2100}}) {
            for (int i = 0; i < 3; i++) {
                Map<String, String> r = result("connectRate", run[i], 0);
                r.put("connectLatencyP99Us", "5000");
                r.put("tls", "openssl, full handshakes (no resumption); TLSv1.3 TLS_AES_256_GCM_SHA384 x2000");
                results.add("tls-handshake-ec", TlsComparison.BROKERS.get(i), r);
            }
        }
        Comparison.Options o = new Comparison.Options();
        String md = TlsReport.section(results, List.of("tls-handshake-ec"), o, new LinkedHashMap<>(), new LinkedHashMap<>(),
                Instant.EPOCH);
        assertTrue(md.contains("| 1,000 | 3,000 | 2,000 | 0.50× | 1.50× | 3.00× |"), md);
        assertTrue(md.contains("| tls-handshake-ec | Starling (openssl) | connectRate | 3,000, 3,300, 2,900 | 3,000 |"), md);
        assertTrue(md.contains("Starling (jdk): TLSv1.3 TLS_AES_256_GCM_SHA384"), md);
        assertTrue(md.contains("session resumption off"), md);
    }

    @Test
    void aTlsOnlyRunReplacesItsSectionAndKeepsTheRest() {
        String old = "# Benchmarks\n\nplain figures\n\n" + TlsReport.BEGIN + "\nold tls\n" + TlsReport.END + "\ntail\n";
        String section = TlsReport.BEGIN + "\nnew tls\n" + TlsReport.END + "\n";
        String spliced = TlsReport.splice(old, section);
        assertEquals("# Benchmarks\n\nplain figures\n\n" + section + "tail\n", spliced);
        assertEquals("# Benchmarks\n\n" + section, TlsReport.splice("# Benchmarks\n", section));
    }

    private static Map<String, String> result(String key, double value, int lost) {
        Map<String, String> r = new LinkedHashMap<>();
        r.put(key, String.valueOf(value));
        r.put("lost", String.valueOf(lost));
        r.put("duplicates", "0");
        r.put("outOfOrder", "0");
        return r;
    }
}
