package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.hazelcast.map.IMap;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.Subscribe;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A single node (issue 9, item 4): a CONNECT makes no Hazelcast call, so it is attached in the
 * task that read it, and a SUBSCRIBE the client pipelined after CONNECT is in force as soon as it
 * is read, which is by the CONNACK at the latest.
 */
class SingleNodeConnectIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @Test
    void connectsOnASingleNodeMakeNoHazelcastCall() throws Exception {
        IMap<String, String> owners = broker.broker().hazelcast().getMap(ClientRegistry.MAP);
        long before = owners.getLocalMapStats().getOtherOperationCount() + owners.getLocalMapStats().getPutOperationCount();
        for (int i = 0; i < 20; i++) {
            // Persistent and clean sessions alike, each connecting twice (the second resumes or replaces).
            String id = "single-" + i + "-" + UUID.randomUUID();
            for (int round = 0; round < 2; round++) {
                try (PahoV5Client c = new PahoV5Client(broker.tcpUri(), id)) {
                    boolean persistent = i % 2 == 0;
                    c.connect(o -> {
                        o.setCleanStart(!persistent);
                        o.setSessionExpiryInterval(persistent ? 60L : 0L);
                    });
                    c.disconnect();
                }
            }
        }
        long after = owners.getLocalMapStats().getOtherOperationCount() + owners.getLocalMapStats().getPutOperationCount();
        assertEquals(0, owners.size(), "no client id is claimed in the cluster map by a node that was always alone");
        assertEquals(before, after, "operations on " + ClientRegistry.MAP);
    }

    @Test
    void aSubscribePipelinedAfterConnectIsInForceAtTheConnAck() throws Exception {
        String topic = "pipelined/" + UUID.randomUUID();
        try (PahoV5Client publisher = PahoV5Client.connect(broker.tcpUri(), "pipe-pub-" + UUID.randomUUID(), null);
             RawClient raw = RawClient.connect(broker.port())) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.write(PacketEncoder.encode(new Connect(MqttVersion.V3_1_1, "pipe-sub-" + UUID.randomUUID(), true, 60,
                    Properties.EMPTY, null, null, null), MqttVersion.V3_1_1).getBytes());
            both.write(PacketEncoder.encode(new Subscribe(1, Properties.EMPTY,
                    List.of(new Subscribe.Request(topic, 1, false, false, 0))), MqttVersion.V3_1_1).getBytes());
            raw.send(both.toByteArray()); // spec 3.1.4: a client need not wait for the CONNACK
            byte[] connack = raw.readPacket();
            assertNotNull(connack, "CONNACK");
            assertEquals(0x20, connack[0] & 0xFF, RawClient.toHex(connack));
            // Published right after the CONNACK, before the SUBACK was even read.
            publisher.publish(topic, "hello", 1, false);
            boolean gotSubAck = false;
            byte[] p;
            while ((p = raw.readPacket()) != null) {
                if ((p[0] & 0xF0) == 0x90) {
                    gotSubAck = true;
                } else if ((p[0] & 0xF0) == 0x30) {
                    String text = new String(p, p.length - 5, 5, StandardCharsets.UTF_8);
                    assertEquals("hello", text);
                    assertEquals(true, gotSubAck, "the SUBACK comes before the message");
                    return;
                }
            }
            throw new AssertionError("the message published after the CONNACK did not arrive");
        }
    }
}
