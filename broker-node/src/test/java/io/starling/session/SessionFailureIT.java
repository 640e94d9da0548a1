package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.it.BrokerFixture;
import io.starling.it.RawClient;
import io.starling.protocol.Connect;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.ReasonCode;
import io.vertx.core.buffer.Buffer;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A failure inside the broker while it handles one session (issue 9, item 6) closes that
 * session's connection with a reason (5.0: DISCONNECT 0x83), a log line and a counter, and
 * disturbs nothing else: the session's mailbox goes on, other clients are served.
 */
class SessionFailureIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    @Test
    void aSessionTaskThatThrowsClosesItsConnectionWith0x83AndTheMailboxGoesOn() throws Exception {
        String clientId = "failing-" + UUID.randomUUID();
        try (Socket socket = new Socket("127.0.0.1", broker.port())) {
            socket.setSoTimeout(5000);
            Connect connect = new Connect(MqttVersion.V5, clientId, true, 60, Properties.EMPTY, null, null, null);
            PacketDecoder decoder = new PacketDecoder(Integer.MAX_VALUE);
            Buffer bytes = PacketEncoder.encode(connect, MqttVersion.V5);
            decoder.feed(bytes.copy(), p -> { }); // the decoder learns the version from a CONNECT
            socket.getOutputStream().write(bytes.getBytes());
            InputStream in = socket.getInputStream();
            assertEquals(0x20, RawClient.readPacket(in)[0] & 0xFF, "CONNACK");

            Services services = broker.broker().services();
            double before = services.metrics().registry().get("starling_internal_errors").counter().count();
            SessionRef ref = services.registry().localRef(clientId);
            assertNotNull(ref, "the session");
            ref.post((SessionRef.Task) r -> {
                throw new IllegalStateException("a bug in a session task");
            });
            boolean[] ranAfter = {false};
            ref.post((SessionRef.Task) r -> ranAfter[0] = true);

            List<Packet> got = new ArrayList<>();
            byte[] p;
            while ((p = RawClient.readPacket(in)) != null) {
                decoder.feed(Buffer.buffer(p), got::add);
            }
            assertEquals(1, got.size(), "one packet, then a clean close: " + got);
            Disconnect d = (Disconnect) got.get(0);
            assertEquals(ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR, d.reasonCode());
            assertEquals(before + 1, services.metrics().registry().get("starling_internal_errors").counter().count());
            long deadline = System.currentTimeMillis() + 5000;
            while (!ranAfter[0] && System.currentTimeMillis() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(ranAfter[0], "the mailbox went on with the task behind the one that threw");
        }
    }
}
