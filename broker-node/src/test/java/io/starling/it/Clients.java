package io.starling.it;

import io.starling.protocol.Properties;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The clients of one test against a {@link BrokerFixture}, closed after the test in the order they
 * were made; a close that fails (the client is gone already) is ignored. Register per test:
 * {@code @RegisterExtension final Clients clients = new Clients(broker);}.
 */
final class Clients implements AfterEachCallback {
    private final BrokerFixture broker;
    private final List<AutoCloseable> open = new ArrayList<>();

    Clients(BrokerFixture broker) {
        this.broker = broker;
    }

    /** Closes {@code c} after the test; returns it. */
    <T extends AutoCloseable> T track(T c) {
        open.add(c);
        return c;
    }

    /** Runs {@code close} after the test with the rest, e.g. {@code atEnd(hiveMqClient::disconnect)}. */
    void atEnd(AutoCloseable close) {
        open.add(close);
    }

    /** A Paho 5.0 client, connected with {@link PahoV5Client#connect}'s defaults (Clean Start 1). */
    PahoV5Client paho(String id) throws Exception {
        return paho(id, null);
    }

    /** A Paho 5.0 client, connected with the defaults and then the caller's changes. */
    PahoV5Client paho(String id, Consumer<MqttConnectionOptions> options) throws Exception {
        return track(PahoV5Client.connect(broker.tcpUri(), id, options));
    }

    /** A Paho 5.0 client with this Clean Start and Session Expiry Interval (null: none sent). */
    PahoV5Client paho(String id, boolean cleanStart, Long expiry) throws Exception {
        return paho(id, o -> {
            o.setCleanStart(cleanStart);
            o.setSessionExpiryInterval(expiry);
        });
    }

    /** A raw 5.0 client whose CONNACK was Success ({@link RawV5Client#connected}). */
    RawV5Client raw(String id, boolean cleanStart, Consumer<Properties> connectProperties) throws Exception {
        return track(RawV5Client.connected(broker.port(), id, cleanStart, connectProperties));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already gone
            }
        }
        open.clear();
    }
}
