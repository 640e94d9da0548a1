package io.starling.it;

import static io.starling.it.RawClient.toHex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A server's last word is read by the client (issue 9): after a refusing CONNACK or a DISCONNECT
 * the broker shuts its side down and lets the client read, even when the client has pipelined
 * far more than the broker read before it decided. Closing at once over unread input makes the
 * kernel answer with a reset, and a client's stack then drops what it had not read yet: it sees
 * "connection reset" or "broken pipe", never the reason. Each test writes everything first, in
 * one go, and only then reads; a reset fails it.
 */
class LastWordIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture();

    /** Far more than one socket read of the broker takes, so that input is left unread when it decides. */
    private static final int PIPELINED = 2_000;
    /** 2,000 packets of 4 KB: 8 MB, more than loopback's socket buffers take without a read. */
    private static final int PAYLOAD = 4096;

    /**
     * The client subscribes to what it publishes and reads nothing while it pipelines, so that what
     * the broker sends it backs up in the broker's socket: the DISCONNECT waits there behind the
     * copies. A close over unread input resets the connection and the kernel throws away what it
     * had not sent yet, the DISCONNECT with it.
     */
    @Test
    void aClientPipeliningQos2PublishesPastReceiveMaximumReadsDisconnect0x93() throws Exception {
        try (RawClient raw = RawClient.connect(broker.port(), 16 * 1024)) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(PacketEncoder.encode(new Connect(MqttVersion.V5, "pipeline-" + UUID.randomUUID(), true, 60,
                    Properties.EMPTY, null, null, null), MqttVersion.V5).getBytes());
            all.write(PacketEncoder.encode(new io.starling.protocol.Subscribe(1, Properties.EMPTY,
                    List.of(new io.starling.protocol.Subscribe.Request("pipeline/x", 0, false, false, 0))),
                    MqttVersion.V5).getBytes());
            for (int id = 1; id <= PIPELINED; id++) {
                // [MQTT-3.3.4-9] the broker advertises Receive Maximum 100: never acknowledged, these pile up.
                all.write(PacketEncoder.encode(new Publish(2, false, false, "pipeline/x", id, Properties.EMPTY,
                        new byte[PAYLOAD]), MqttVersion.V5).getBytes());
            }
            sendWithoutReading(raw, all.toByteArray());
            List<byte[]> got = readUntilClosed(raw);
            byte[] last = got.get(got.size() - 1);
            assertEquals(0xE0, last[0] & 0xFF, "the last packet is a DISCONNECT: " + toHex(last));
            assertEquals(0x93, last[MalformedInputIT.body(last)] & 0xFF,
                    "DISCONNECT with 0x93 Receive Maximum exceeded: " + toHex(last));
        }
    }

    @Test
    void aRefusingConnAckForAnUnsupportedVersionIsReadAfterAPipelinedPublish() throws Exception {
        try (RawClient raw = RawClient.connect(broker.port())) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            // A 3.1.1-framed CONNECT with protocol level 9 [MQTT-3.1.2-2]: return code 0x01, then close.
            all.write(RawClient.hex("10 10 00 04 4d 51 54 54 09 02 00 3c 00 04 61 62 63 64"));
            pipelinePublishes(all, MqttVersion.V3_1_1);
            sendWithoutReading(raw, all.toByteArray());
            List<byte[]> got = readUntilClosed(raw);
            assertEquals(1, got.size(), "only the CONNACK: " + describe(got));
            assertEquals("20 02 00 01", toHex(got.get(0)), "CONNACK return code 1, unacceptable protocol version");
        }
    }

    @Test
    void aRefusingConnAckForAMalformedConnectIsReadAfterAPipelinedPublish() throws Exception {
        try (RawClient raw = RawClient.connect(broker.port())) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            // 5.0 CONNECT with the reserved flag bit set [MQTT-3.1.2-3]: CONNACK 0x81, then close.
            all.write(RawClient.hex("10 11 00 04 4d 51 54 54 05 03 00 3c 00 00 04 61 62 63 64"));
            pipelinePublishes(all, MqttVersion.V5);
            sendWithoutReading(raw, all.toByteArray());
            List<byte[]> got = readUntilClosed(raw);
            assertEquals(1, got.size(), "only the CONNACK: " + describe(got));
            byte[] connack = got.get(0);
            assertEquals(0x20, connack[0] & 0xFF, "a CONNACK: " + toHex(connack));
            assertEquals(0x81, connack[MalformedInputIT.body(connack) + 1] & 0xFF,
                    "CONNACK 0x81 malformed packet: " + toHex(connack));
        }
    }

    @Test
    void aDisconnectForAViolationIsReadWhileTheClientKeepsSending() throws Exception {
        try (RawClient raw = RawClient.connect(broker.port())) {
            MalformedInputIT.connectV5(raw, "violator-" + UUID.randomUUID());
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            // PUBLISH QoS 1 with packet identifier 0 [MQTT-2.2.1-3]: malformed, DISCONNECT 0x82 (protocol error)
            // or 0x81; what matters here is that the DISCONNECT is read although more follows.
            all.write(RawClient.hex("32 0a 00 03 61 2f 62 00 00 00 68 69"));
            pipelinePublishes(all, MqttVersion.V5);
            sendWithoutReading(raw, all.toByteArray());
            List<byte[]> got = readUntilClosed(raw);
            byte[] last = got.get(got.size() - 1);
            assertEquals(0xE0, last[0] & 0xFF, "a DISCONNECT: " + describe(got));
        }
    }

    /** {@link #PIPELINED} QoS 0 publishes: input the broker will not have read. */
    private static void pipelinePublishes(ByteArrayOutputStream all, MqttVersion v) throws IOException {
        for (int i = 0; i < PIPELINED; i++) {
            all.write(PacketEncoder.encode(new Publish(0, false, false, "pipeline/y", 0, Properties.EMPTY,
                    new byte[PAYLOAD]), v).getBytes());
        }
    }

    /**
     * Writes everything, as a client that pipelines without reading does: more than the socket
     * buffers hold, so the writer is still writing when the broker decides; reads only after. A
     * write that fails because the broker closed is expected; what matters is what can be read.
     */
    private static void sendWithoutReading(RawClient raw, byte[] bytes) throws InterruptedException {
        Thread writer = new Thread(() -> {
            try {
                raw.send(bytes);
            } catch (IOException expected) {
                // the broker stopped reading and closed: the rest is not taken
            }
        }, "pipelining-writer");
        writer.setDaemon(true);
        writer.start();
        writer.join(10_000); // it reads only once it has written all it could
    }

    /** Every packet until the broker's clean close (EOF); a reset or a connection left open fails. */
    private static List<byte[]> readUntilClosed(RawClient raw) throws IOException {
        List<byte[]> got = new ArrayList<>();
        while (true) {
            byte[] p;
            try {
                p = raw.readPacket();
            } catch (SocketTimeoutException e) {
                fail("the broker kept the connection open after " + describe(got));
                return got;
            } catch (IOException e) {
                fail("the connection was reset after " + got.size() + " packets (" + describe(got)
                        + "): the client lost the broker's last word: " + e);
                return got;
            }
            if (p == null) {
                assertNotNull(got.isEmpty() ? null : got, "the broker closed without a packet");
                return got;
            }
            got.add(p);
        }
    }

    private static String describe(List<byte[]> packets) {
        if (packets.isEmpty()) {
            return "no packet";
        }
        byte[] last = packets.get(packets.size() - 1);
        return packets.size() + " packets, the last " + toHex(last);
    }
}
