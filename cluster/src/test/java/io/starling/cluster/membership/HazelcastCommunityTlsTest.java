package io.starling.cluster.membership;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.SSLConfig;
import com.hazelcast.core.Hazelcast;
import org.junit.jupiter.api.Test;

/**
 * What docs/adr/0012 rests on: Hazelcast Community cannot encrypt member traffic (TLS is an
 * Enterprise feature), so Starling protects its own links with TLS and the member port by a
 * NetworkPolicy and the cluster name. Should a Hazelcast upgrade start accepting this, the
 * decision is to be revisited.
 */
class HazelcastCommunityTlsTest {
    @Test
    void aMemberWithTlsDoesNotStartOnCommunity() {
        Config c = new Config();
        c.setClusterName("tls-check-" + System.nanoTime());
        c.getNetworkConfig().setPort(0).setPortAutoIncrement(false);
        c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
        c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
        c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        c.getNetworkConfig().setSSLConfig(new SSLConfig().setEnabled(true));
        RuntimeException e = assertThrows(RuntimeException.class, () -> {
            var hz = Hazelcast.newHazelcastInstance(c);
            hz.shutdown();
        });
        String text = String.valueOf(e.getMessage()) + " " + e.getCause();
        assertTrue(text.contains("Enterprise"), "refused for being Community: " + text);
    }
}
