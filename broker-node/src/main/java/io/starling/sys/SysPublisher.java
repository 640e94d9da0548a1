package io.starling.sys;

import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.Properties;
import io.starling.routing.Message;
import io.starling.routing.Router;
import io.starling.session.SessionRegistry;
import io.starling.topic.TopicName;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Publishes broker statistics as retained messages under {@code $SYS/broker/}, with Mosquitto's
 * topic names where Mosquitto has one, so existing dashboards work; these are the node's own.
 * Cluster-wide totals go under {@code $SYS/cluster/}. Every node publishes both to its own
 * clients. Clients subscribing to {@code #} do not see them [MQTT-4.7.2-1].
 */
public final class SysPublisher {
    private final Router router;
    private final SessionRegistry sessions;
    private final BrokerMetrics metrics;
    private final String version;
    private final long startedMillis = System.currentTimeMillis();
    private final ClusterTotals totals;
    private final long intervalSeconds;

    public SysPublisher(Router router, SessionRegistry sessions, BrokerMetrics metrics, String version,
                        com.hazelcast.core.HazelcastInstance hazelcast, long intervalSeconds) {
        this.router = router;
        this.sessions = sessions;
        this.metrics = metrics;
        this.version = version;
        this.totals = new ClusterTotals(hazelcast.getMap(ClusterTotals.MAP), router.localNode());
        this.intervalSeconds = Math.max(1, intervalSeconds);
    }

    private static final String[] CLUSTER_NAMES = {"clients/connected", "clients/total", "messages/received",
        "messages/sent", "subscriptions/count"};

    /** Cluster-wide totals under {@code $SYS/cluster/}: blocking, call it off the event loop. */
    public Map<String, String> clusterSnapshot() {
        long online = metrics.connections();
        long[] mine = {online, Math.max(sessions.size(), online), (long) metrics.received(), (long) metrics.sent(),
            router.subscriptionCount()};
        Map<String, String> v = new LinkedHashMap<>();
        totals.update(CLUSTER_NAMES, mine, 3 * intervalSeconds)
                .forEach((name, sum) -> v.put("$SYS/cluster/" + name, String.valueOf(sum)));
        return v;
    }

    /** The current values, by topic. */
    public Map<String, String> snapshot() {
        Map<String, String> v = new LinkedHashMap<>();
        long online = metrics.connections();
        v.put("$SYS/broker/version", "starling " + version);
        v.put("$SYS/broker/uptime", (System.currentTimeMillis() - startedMillis) / 1000 + " seconds");
        v.put("$SYS/broker/clients/connected", String.valueOf(online));
        v.put("$SYS/broker/clients/disconnected", String.valueOf(Math.max(0, sessions.size() - sessions.online())));
        v.put("$SYS/broker/clients/total", String.valueOf(Math.max(sessions.size(), online)));
        v.put("$SYS/broker/clients/maximum", String.valueOf(metrics.maxConnections()));
        v.put("$SYS/broker/messages/received", String.valueOf((long) metrics.received()));
        v.put("$SYS/broker/messages/sent", String.valueOf((long) metrics.sent()));
        v.put("$SYS/broker/publish/messages/received", String.valueOf((long) metrics.received()));
        v.put("$SYS/broker/publish/messages/sent", String.valueOf((long) metrics.sent()));
        v.put("$SYS/broker/publish/messages/dropped", String.valueOf((long) metrics.droppedTotal()));
        v.put("$SYS/broker/bytes/received", String.valueOf((long) metrics.bytesReceivedTotal()));
        v.put("$SYS/broker/bytes/sent", String.valueOf((long) metrics.bytesSentTotal()));
        v.put("$SYS/broker/subscriptions/count", String.valueOf(router.subscriptionCount()));
        v.put("$SYS/broker/retained messages/count", String.valueOf(router.retained().size()));
        return v;
    }

    /** Publishes this node's values and the cluster's totals; blocking, call it off the event loop. */
    public void publish() {
        long now = System.nanoTime();
        Map<String, String> all = snapshot();
        all.putAll(clusterSnapshot());
        for (Map.Entry<String, String> e : all.entrySet()) {
            Message m = new Message(e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8), 0, true,
                    Properties.EMPTY, 0, "$SYS", now);
            router.publishLocal(TopicName.of(e.getKey()), m); // per node: never forwarded
        }
    }
}
