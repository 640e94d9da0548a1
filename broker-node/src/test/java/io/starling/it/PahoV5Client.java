package io.starling.it;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** An Eclipse Paho MQTT 5.0 client with bounded waits and an inbox of what arrives, for tests. */
final class PahoV5Client implements AutoCloseable {
    static final long WAIT_MS = 5000;

    /** A received message with its topic. */
    record Received(String topic, MqttMessage message) {
        String text() {
            return new String(message.getPayload(), StandardCharsets.UTF_8);
        }

        MqttProperties props() {
            return message.getProperties();
        }
    }

    final MqttAsyncClient client;
    final BlockingQueue<Received> inbox = new LinkedBlockingQueue<>();
    final BlockingQueue<MqttDisconnectResponse> disconnects = new LinkedBlockingQueue<>();
    IMqttToken connectToken;

    PahoV5Client(String uri, String clientId) throws MqttException {
        client = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                disconnects.add(response);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(new Received(topic, message));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
    }

    /** Connects with Clean Start 1, no automatic reconnect, then the caller's changes. */
    static PahoV5Client connect(String uri, String clientId, Consumer<MqttConnectionOptions> options)
            throws MqttException {
        PahoV5Client c = new PahoV5Client(uri, clientId);
        c.connect(options);
        return c;
    }

    IMqttToken connect(Consumer<MqttConnectionOptions> options) throws MqttException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(5);
        if (options != null) {
            options.accept(o);
        }
        connectToken = client.connect(o);
        connectToken.waitForCompletion(WAIT_MS);
        return connectToken;
    }

    /** Subscribes (one SUBSCRIBE) and returns the SUBACK reason codes. */
    int[] subscribe(Integer subscriptionId, MqttSubscription... subs) throws MqttException {
        MqttProperties p = new MqttProperties();
        if (subscriptionId != null) {
            p.setSubscriptionIdentifier(subscriptionId);
        }
        IMqttToken t = client.subscribe(subs, null, null, p);
        t.waitForCompletion(WAIT_MS);
        return t.getReasonCodes();
    }

    int[] subscribe(String filter, int qos) throws MqttException {
        return subscribe(null, new MqttSubscription(filter, qos));
    }

    int[] unsubscribe(String... filters) throws MqttException {
        IMqttToken t = client.unsubscribe(filters);
        t.waitForCompletion(WAIT_MS);
        return t.getReasonCodes();
    }

    IMqttToken publish(String topic, MqttMessage m) throws MqttException {
        IMqttToken t = client.publish(topic, m);
        t.waitForCompletion(WAIT_MS);
        return t;
    }

    IMqttToken publish(String topic, String payload, int qos, boolean retain) throws MqttException {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retain);
        return publish(topic, m);
    }

    Received poll(long millis) throws InterruptedException {
        return inbox.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Disconnects normally (DISCONNECT 0x00) and releases the client. */
    void disconnect() throws MqttException {
        if (client.isConnected()) {
            client.disconnect(1000).waitForCompletion(WAIT_MS);
        }
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect(500).waitForCompletion(2000);
            }
        } catch (MqttException ignored) {
            // already gone
        }
        try {
            client.close(true);
        } catch (MqttException ignored) {
            // already closed
        }
    }
}
