package io.starling.bench;

import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The subscription sets and topic names the benchmarks share, deterministic (fixed seeds) so that a
 * run is comparable with the last one and the tests can predict what a lookup finds.
 *
 * <p>The shape is an IoT fleet: device {@code d{i}} publishes on {@code devices/d{i}/telemetry},
 * {@code devices/d{i}/status} and {@code devices/d{i}/alerts/{kind}} (depth 3 to 4) and listens on
 * {@code devices/d{i}/cmd}. What subscribes is described at {@link #iot} and {@link #sharedHeavy}.
 */
public final class Workload {
    /** How many pre-parsed topic names a benchmark cycles through: enough to defeat a cache-hot single path. */
    public static final int TOPICS = 1024;
    /** Back-end subscriptions in {@link #iot}. */
    private static final int BACKEND = 50;
    /** Subscriptions of {@link #sharedHeavy} before the per-device ones. */
    private static final int SHARED_FIXED = 29;

    private Workload() {
    }

    /** One subscription: a client and its filter (possibly {@code $share/...}). */
    public record Sub(String clientId, TopicFilter filter) {
    }

    /**
     * {@code count} subscriptions of a fleet, one client each, mostly exact filters:
     * <ul>
     *   <li>if {@code backend}, 50 back-end subscriptions first: 20 dashboards on
     *       {@code devices/+/telemetry}, 20 operators on {@code devices/+/status}, 5 alerting
     *       services on {@code devices/+/alerts/#}, 5 archivers on {@code devices/#};</li>
     *   <li>then one subscription per device {@code d{offset + r}}, chosen by {@code r % 20}:
     *       70% the device's own exact {@code devices/d{i}/cmd}; 15% {@code devices/d{i}/+} (an app
     *       watching one device); 10% {@code devices/d{i}/#} (a debugging tool); 5%
     *       {@code +/d{i}/telemetry} (a leading '+': it makes every lookup walk a second branch from
     *       the root, the worst common case for the trie).</li>
     * </ul>
     * So a telemetry topic matches the 25 back-end subscriptions plus at most one per-device one,
     * whatever {@code count}: per-device subscriptions grow the trie, not the fan-out.
     */
    public static List<Sub> iot(int count, int offset, boolean backend) {
        List<Sub> subs = new ArrayList<>(count);
        if (backend) {
            addBackend(subs, count);
        }
        for (int r = 0; subs.size() < count; r++) {
            String d = "d" + (offset + r);
            int kind = r % 20;
            if (kind < 14) {
                subs.add(sub(d, "devices/" + d + "/cmd"));
            } else if (kind < 17) {
                subs.add(sub("app-" + d, "devices/" + d + "/+"));
            } else if (kind < 19) {
                subs.add(sub("debug-" + d, "devices/" + d + "/#"));
            } else {
                subs.add(sub("replay-" + d, "+/" + d + "/telemetry"));
            }
        }
        return subs;
    }

    /**
     * {@code count} subscriptions of which about two thirds are members of shared subscriptions
     * [MQTT 4.8.2]: 16 members of {@code $share/ingest/devices/+/telemetry} (an ingestion service),
     * 8 of {@code $share/alerts/devices/+/alerts/#}, 5 plain archivers on {@code devices/#}; then
     * per device {@code d{i}} its exact {@code devices/d{i}/cmd} and a two-member group
     * {@code $share/twin/devices/d{i}/+} (an active/standby pair of digital-twin workers). A
     * telemetry topic reaches 5 archivers, one ingest member and one twin.
     */
    public static List<Sub> sharedHeavy(int count) {
        List<Sub> subs = new ArrayList<>(count);
        for (int j = 0; j < 16 && subs.size() < count; j++) {
            subs.add(sub("ingest-" + j, "$share/ingest/devices/+/telemetry"));
        }
        for (int j = 0; j < 8 && subs.size() < count; j++) {
            subs.add(sub("alerts-" + j, "$share/alerts/devices/+/alerts/#"));
        }
        for (int j = 0; j < 5 && subs.size() < count; j++) {
            subs.add(sub("archive-" + j, "devices/#"));
        }
        for (int i = 0; subs.size() < count; i++) {
            String d = "d" + i;
            String group = "$share/twin/devices/" + d + "/+";
            subs.add(sub(d, "devices/" + d + "/cmd"));
            if (subs.size() < count) {
                subs.add(sub("twin-a-" + d, group));
            }
            if (subs.size() < count) {
                subs.add(sub("twin-b-" + d, group));
            }
        }
        return subs;
    }

    /** How many devices {@link #iot} gives subscriptions to: {@code d{offset}} .. {@code d{offset + n - 1}}. */
    public static int iotDevices(int count, boolean backend) {
        return Math.max(0, count - (backend ? BACKEND : 0));
    }

    /** How many devices {@link #sharedHeavy} covers: {@code d0} .. {@code d{n - 1}}. */
    public static int sharedHeavyDevices(int count) {
        return Math.max(0, (count - SHARED_FIXED + 2) / 3);
    }

    /**
     * {@link #TOPICS} topic names of devices {@code d{from}} .. {@code d{to - 1}}, uniformly drawn:
     * 60% {@code devices/d{i}/telemetry}, 30% {@code devices/d{i}/status}, 10%
     * {@code devices/d{i}/alerts/overheat}. Parsed once, as the broker parses a PUBLISH's topic once.
     */
    public static TopicName[] topics(int from, int to, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        TopicName[] topics = new TopicName[TOPICS];
        for (int i = 0; i < topics.length; i++) {
            String d = "d" + random.nextInt(from, to);
            int shape = random.nextInt(10);
            String suffix = shape < 6 ? "/telemetry" : shape < 9 ? "/status" : "/alerts/overheat";
            topics[i] = TopicName.of("devices/" + d + suffix);
        }
        return topics;
    }

    private static void addBackend(List<Sub> subs, int count) {
        String[][] backend = {
            {"dash-", "devices/+/telemetry", "20"},
            {"ops-", "devices/+/status", "20"},
            {"alerting-", "devices/+/alerts/#", "5"},
            {"archive-", "devices/#", "5"},
        };
        for (String[] b : backend) {
            for (int j = 0, n = Integer.parseInt(b[2]); j < n && subs.size() < count; j++) {
                subs.add(sub(b[0] + j, b[1]));
            }
        }
    }

    private static Sub sub(String clientId, String filter) {
        return new Sub(clientId, TopicFilter.of(filter));
    }
}
