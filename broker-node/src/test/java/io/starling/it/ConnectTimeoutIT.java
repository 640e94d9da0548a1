package io.starling.it;

import static io.starling.it.RawClient.toHex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code mqtt.connect-timeout: 1}: a connection that does not complete a CONNECT within a second is
 * closed (within the listener's 0.5 s sweep), counted, and nobody else notices.
 */
class ConnectTimeoutIT {
    @RegisterExtension
    static BrokerFixture broker = new BrokerFixture().with("mqtt.connect-timeout", 1);

    private MqttClient bystander;
    private final BlockingQueue<String> inbox = new LinkedBlockingQueue<>();

    @BeforeEach
    void connectBystander() throws MqttException {
        bystander = new MqttClient(broker.tcpUri(), "timeout-bystander", new MemoryPersistence());
        bystander.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(topic);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setAutomaticReconnect(false);
        o.setKeepAliveInterval(60);
        bystander.connect(o);
        bystander.subscribe("bystander/#", 1);
    }

    @AfterEach
    void closeBystander() throws MqttException {
        if (bystander.isConnected()) {
            bystander.disconnect(1000);
        }
        bystander.close(true);
    }

    static double errors(String reason) {
        Counter c = broker.broker().services().metrics().registry()
                .find("starling_protocol_errors").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    void assertBystanderUndisturbed() throws Exception {
        assertTrue(bystander.isConnected(), "the well-behaved client was disconnected");
        // Outlived the silent connection's timeout by far: it must not have been swept along with it.
        MqttMessage m = new MqttMessage("still here".getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        bystander.publish("bystander/after", m);
        assertEquals("bystander/after", inbox.poll(5, TimeUnit.SECONDS));
    }

    /** Waits for the broker to close the socket; returns the seconds it took. Fails if a packet arrives. */
    static double secondsUntilClosed(RawClient raw, long startNanos) throws IOException {
        try {
            byte[] p = raw.readPacket();
            assertNull(p, "expected the connection closed without a packet, got " + toHex(p));
        } catch (SocketTimeoutException e) {
            fail("the connection is still open 5 s after it was opened without CONNECT");
        } catch (IOException e) {
            // a reset is a close too
        }
        return (System.nanoTime() - startNanos) / 1e9;
    }

    @Test
    void socketThatSendsNothingIsClosedAfterTheConnectTimeout() throws Exception {
        double before = errors("maximum_connect_time");
        long start = System.nanoTime();
        try (RawClient raw = RawClient.connect(broker.port())) {
            // 3.1.4 / 4.13: a server that receives no CONNECT "within a reasonable amount of time" SHOULD close
            // the connection; Starling's limit is mqtt.connect-timeout (1 s here), checked every 0.5 s.
            double s = secondsUntilClosed(raw, start);
            assertTrue(s >= 0.9 && s <= 3.0, "closed after " + s + " s, expected between 1 and 3 s");
        }
        // Counted as 0xA0 Maximum connect time, under the readable tag every other reason has.
        assertEquals(before + 1, errors("maximum_connect_time"), "starling_protocol_errors{reason=maximum_connect_time}");
        assertBystanderUndisturbed();
    }

    @Test
    void socketThatSendsHalfAConnectIsClosedAfterTheConnectTimeout() throws Exception {
        long start = System.nanoTime();
        double total = broker.broker().services().metrics().protocolErrorsTotal();
        try (RawClient raw = RawClient.connect(broker.port())) {
            // The first bytes of a 3.1.1 CONNECT (RL=13), then silence: a slow-loris CONNECT is no CONNECT.
            raw.sendHex("10 0d 00 04 4d 51");
            double s = secondsUntilClosed(raw, start);
            assertTrue(s >= 0.9 && s <= 3.0, "closed after " + s + " s, expected between 1 and 3 s");
        }
        assertEquals(total + 1, broker.broker().services().metrics().protocolErrorsTotal());
        assertBystanderUndisturbed();
    }

    @Test
    void connectWithinTheTimeoutIsAccepted() throws Exception {
        try (RawClient raw = RawClient.connect(broker.port())) {
            Thread.sleep(400);
            // CONNECT RL=13 | 'MQTT' level 4 | clean | keep-alive 60 | client id 'x', sent 0.4 s after opening
            raw.sendHex("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 78");
            assertEquals("20 02 00 00", toHex(raw.readPacket()));
            Thread.sleep(1500); // past the connect timeout: a connected client is no longer subject to it
            raw.sendHex("c0 00");
            byte[] pingresp = raw.readPacket();
            assertNotNull(pingresp, "a connected client was closed by the connect timeout");
            assertEquals("d0 00", toHex(pingresp));
        }
        assertBystanderUndisturbed();
    }
}
