package io.starling.loadtest.compare;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every run's result, by scenario and broker, and their medians. */
final class Results {
    private final Map<String, Map<String, List<Map<String, String>>>> runs = new LinkedHashMap<>();

    void add(String scenario, String broker, Map<String, String> result) {
        runs.computeIfAbsent(scenario, s -> new LinkedHashMap<>()).computeIfAbsent(broker, b -> new ArrayList<>())
                .add(result);
    }

    List<Map<String, String>> of(String scenario, String broker) {
        return runs.getOrDefault(scenario, Map.of()).getOrDefault(broker, List.of());
    }

    double[] values(String scenario, String broker, String key) {
        return of(scenario, broker).stream().mapToDouble(r -> FlatJson.number(r, key)).toArray();
    }

    double median(String scenario, String broker, String key) {
        return median(values(scenario, broker, key));
    }

    /** Sum over runs of a count such as lost or duplicates; -1 when the runs do not report it. */
    long total(String scenario, String broker, String key) {
        List<Map<String, String>> rs = of(scenario, broker);
        if (rs.isEmpty() || !rs.get(0).containsKey(key)) {
            return -1;
        }
        return (long) rs.stream().mapToDouble(r -> FlatJson.number(r, key)).sum();
    }

    static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
