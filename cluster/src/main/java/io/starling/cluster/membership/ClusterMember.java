package io.starling.cluster.membership;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

/**
 * This node's embedded Hazelcast member. A single node is a one-member cluster: the same shared
 * state code runs for one node and for many (docs/adr/0003). Multicast, auto-detection and
 * phone-home are off; joining is only by the configured member list.
 */
public final class ClusterMember implements AutoCloseable {
    private final HazelcastInstance hazelcast;

    private ClusterMember(HazelcastInstance hazelcast) {
        this.hazelcast = hazelcast;
    }

    public static ClusterMember start(ClusterSettings settings) {
        Config config = new Config();
        config.setClusterName(settings.name());
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.local.localAddress", settings.bindHost());
        settings.attributes().forEach(config.getMemberAttributeConfig()::setAttribute);
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(settings.port()).setPortAutoIncrement(true).setPortCount(100);
        network.getInterfaces().setEnabled(true).addInterface(settings.bindHost());
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(!settings.members().isEmpty()).setMembers(settings.members());
        return new ClusterMember(Hazelcast.newHazelcastInstance(config));
    }

    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    public int memberCount() {
        return hazelcast.getCluster().getMembers().size();
    }

    @Override
    public void close() {
        hazelcast.shutdown();
    }
}
