package io.starling.it;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * The load of the failover tests, as a fleet would make it: MQTT 3.1.1 clients (Paho v3) that all
 * connect through one address (a load balancer) and reconnect through it whenever their
 * connection goes, with persistent sessions (Clean Session 0) so that a publisher resends what
 * was not acknowledged and a subscriber finds its session and its queued messages.
 *
 * <p>Publisher {@code i} publishes the numbers 0, 1, 2, ... on its own topic at its own QoS, paced
 * to a rate; every subscriber subscribes to all of them at its own QoS. For each pair (subscriber,
 * publisher) the load counts what the promises of MQTT forbid: an acknowledged message that never
 * arrived (lost), a first arrival of a number below one already seen (out of order, spec 4.6),
 * and a number seen twice (duplicate: QoS 1 allows it, a QoS 2 flow end to end does not [MQTT-4.3.3]).
 *
 * <p>Paho v3 is a correct QoS 2 receiver: it keeps a QoS 2 PUBLISH until its PUBREL and hands it
 * to the application once, however often it is resent, and keeps that state across reconnects of
 * one client object. Everything is bounded: publishing stops by itself at {@code maxPerPublisher}.
 */
public final class FailoverLoad implements AutoCloseable {
    /** What to run: one QoS per publisher and per subscriber, and each publisher's rate. */
    public record Plan(String uri, String run, int[] publisherQos, int[] subscriberQos, int ratePerPublisher,
                int maxPerPublisher) {
        public String topic(int publisher) {
            return "fo/" + run + "/" + publisher;
        }
    }

    /** Counts of one pair (subscriber, publisher), or of the whole run. */
    public record Counts(int acknowledged, int lost, int outOfOrder, int duplicates) {
        Counts plus(Counts o) {
            return new Counts(acknowledged + o.acknowledged, lost + o.lost, outOfOrder + o.outOfOrder,
                    duplicates + o.duplicates);
        }

        @Override
        public String toString() {
            return String.format("%d acknowledged, %d lost, %d out of order, %d duplicates", acknowledged, lost,
                    outOfOrder, duplicates);
        }
    }

    private final Plan plan;
    private final List<Publisher> publishers = new ArrayList<>();
    private final List<Subscriber> subscribers = new ArrayList<>();
    private final AtomicBoolean stopPublishing = new AtomicBoolean();

    public FailoverLoad(Plan plan) {
        this.plan = plan;
    }

    /** Connects and subscribes every subscriber (waits for the SUBACKs), then starts the publishers. */
    public FailoverLoad start() throws Exception {
        for (int j = 0; j < plan.subscriberQos().length; j++) {
            Subscriber s = new Subscriber(j);
            subscribers.add(s);
            s.start();
        }
        for (int i = 0; i < plan.publisherQos().length; i++) {
            Publisher p = new Publisher(i);
            publishers.add(p);
            p.start();
        }
        return this;
    }

    /** Stops publishing (what is in flight is still acknowledged and counted) and waits for the publishers' threads. */
    public void stopPublishing() throws InterruptedException {
        stopPublishing.set(true);
        for (Publisher p : publishers) {
            p.thread.join(10_000);
        }
        // What was in flight when publishing stopped: acknowledged (or not) within a bound.
        long deadline = System.currentTimeMillis() + 30_000;
        for (Publisher p : publishers) {
            while (p.inFlight() > 0 && System.currentTimeMillis() < deadline) {
                Quietly.sleep(50);
            }
        }
    }

    /** Waits until every subscriber has every acknowledged message, or the time runs out; true if it has. */
    public boolean awaitDelivered(long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            if (total().lost() == 0) {
                return true;
            }
            Quietly.sleep(200);
        }
        return total().lost() == 0;
    }

    public int acknowledged() {
        return publishers.stream().mapToInt(Publisher::acknowledgedCount).sum();
    }

    /** Messages acknowledged so far by publisher i. */
    int acknowledged(int publisher) {
        return publishers.get(publisher).acknowledgedCount();
    }

    public int reconnects() {
        int n = 0;
        for (Publisher p : publishers) {
            n += p.reconnects.get();
        }
        for (Subscriber s : subscribers) {
            n += s.reconnects.get();
        }
        return n;
    }

    /** The counts of subscriber j for publisher i. */
    Counts counts(int subscriber, int publisher) {
        return subscribers.get(subscriber).tallies[publisher].counts(publishers.get(publisher));
    }

    public Counts total() {
        Counts sum = new Counts(0, 0, 0, 0);
        for (int j = 0; j < subscribers.size(); j++) {
            for (int i = 0; i < publishers.size(); i++) {
                sum = sum.plus(counts(j, i));
            }
        }
        return sum;
    }

    /** Duplicates where both ends are QoS 2, which exactly-once forbids [MQTT-4.3.3]. */
    public int qos2Duplicates() {
        int n = 0;
        for (int j = 0; j < subscribers.size(); j++) {
            for (int i = 0; i < publishers.size(); i++) {
                if (plan.subscriberQos()[j] == 2 && plan.publisherQos()[i] == 2) {
                    n += counts(j, i).duplicates();
                }
            }
        }
        return n;
    }

    /** One line per pair (subscriber, publisher). */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (int j = 0; j < subscribers.size(); j++) {
            for (int i = 0; i < publishers.size(); i++) {
                Counts c = counts(j, i);
                StreamTally t = subscribers.get(j).tallies[i];
                b.append(String.format("  subscriber %d (QoS %d) <- publisher %d (QoS %d): %s%s%s%n", j,
                        plan.subscriberQos()[j], i, plan.publisherQos()[i], c,
                        c.lost() == 0 ? "" : ", first missing " + t.firstMissing(publishers.get(i)),
                        c.duplicates() == 0 ? "" : ", first duplicates " + t.firstDuplicates()
                                + (plan.subscriberQos()[j] == 2 && plan.publisherQos()[i] == 2 ? " " + t.duplicateDetails() : "")));
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        stopPublishing.set(true);
        publishers.forEach(Client::close);
        subscribers.forEach(Client::close);
    }

    private static MqttConnectOptions options() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(false);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(2000);
        o.setConnectionTimeout(5);
        o.setKeepAliveInterval(30);
        o.setMaxInflight(200);
        return o;
    }

    /** A Paho v3 client with a persistent session that reconnects through the plan's address. */
    private abstract class Client implements MqttCallbackExtended {
        final MqttAsyncClient client;
        final AtomicInteger reconnects = new AtomicInteger();

        Client(String clientId) {
            try {
                client = new MqttAsyncClient(plan.uri(), clientId, new MemoryPersistence());
            } catch (MqttException e) {
                throw new IllegalStateException(e);
            }
            client.setCallback(this);
        }

        /** The first connection; later ones are Paho's automatic reconnects. Bounded. */
        void connectFirst() throws Exception {
            long deadline = System.currentTimeMillis() + 20_000;
            while (true) {
                try {
                    client.connect(options()).waitForCompletion(10_000);
                    return;
                } catch (MqttException e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    Quietly.sleep(200);
                }
            }
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            if (reconnect) {
                reconnects.incrementAndGet();
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            // Paho reconnects by itself (automatic reconnect)
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }

        void close() {
            try {
                client.disconnectForcibly(100, 100);
            } catch (MqttException ignored) {
                // closing anyway
            }
            try {
                client.close(true);
            } catch (MqttException ignored) {
                // closed
            }
        }
    }

    /** Publishes 0, 1, 2, ... on its topic at its QoS and rate; a number is acknowledged when its flow completes. */
    private final class Publisher extends Client {
        final int index;
        final int qos;
        final Thread thread;
        private final BitSet acknowledged = new BitSet(); // guarded by itself
        private final AtomicLong published = new AtomicLong();

        Publisher(int index) {
            super("fo-pub-" + index + "-" + plan.run());
            this.index = index;
            this.qos = plan.publisherQos()[index];
            this.thread = new Thread(this::run, "failover-publisher-" + index);
        }

        void start() throws Exception {
            connectFirst();
            thread.start();
        }

        private final IMqttActionListener onAcknowledged = new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                int seq = (Integer) token.getUserContext();
                synchronized (acknowledged) {
                    acknowledged.set(seq);
                }
            }

            @Override
            public void onFailure(IMqttToken token, Throwable exception) {
                // Paho v3 reports this when the connection goes; with Clean Session 0 it keeps the
                // message and resends it after the reconnect, and then reports success on the same token.
            }
        };

        private void run() {
            long intervalNanos = TimeUnit.SECONDS.toNanos(1) / plan.ratePerPublisher();
            long next = System.nanoTime();
            for (int seq = 0; seq < plan.maxPerPublisher() && !stopPublishing.get(); ) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(wait);
                }
                try {
                    MqttMessage m = new MqttMessage(String.valueOf(seq).getBytes(StandardCharsets.US_ASCII));
                    m.setQos(qos);
                    client.publish(plan.topic(index), m, seq, onAcknowledged);
                    published.incrementAndGet();
                    seq++;
                    next += intervalNanos;
                } catch (MqttException e) {
                    // Not connected, or the in-flight window is full: the same number again shortly.
                    Quietly.sleep(5);
                    next = Math.max(next, System.nanoTime());
                }
            }
        }

        long inFlight() {
            return published.get() - acknowledgedCount();
        }

        int acknowledgedCount() {
            synchronized (acknowledged) {
                return acknowledged.cardinality();
            }
        }

        BitSet acknowledgedSnapshot() {
            synchronized (acknowledged) {
                return (BitSet) acknowledged.clone();
            }
        }
    }

    /** What one subscriber received from one publisher. */
    private static final class StreamTally {
        private final BitSet seen = new BitSet(); // guarded by this
        private int max = -1;
        private int outOfOrder;
        private int duplicates;
        private final List<Integer> firstDuplicates = new ArrayList<>();

        /** For each number: the packet identifier and time of its first arrival, to tell a resend from a second delivery. */
        private final java.util.Map<Integer, String> firstArrival = new java.util.HashMap<>();
        private final List<String> duplicateDetails = new ArrayList<>();

        synchronized void got(int seq, int packetId, boolean dupFlag) {
            String arrival = "id " + packetId + (dupFlag ? " DUP" : "") + " at " + java.time.LocalTime.now();
            if (seen.get(seq)) {
                duplicates++;
                if (firstDuplicates.size() < 10) {
                    firstDuplicates.add(seq);
                    duplicateDetails.add(seq + ": " + firstArrival.get(seq) + ", again " + arrival);
                }
                return;
            }
            firstArrival.put(seq, arrival);
            seen.set(seq);
            if (seq < max) {
                outOfOrder++;
            }
            max = Math.max(max, seq);
        }

        synchronized List<String> duplicateDetails() {
            return List.copyOf(duplicateDetails);
        }

        synchronized Counts counts(Publisher from) {
            BitSet missing = from.acknowledgedSnapshot();
            int acknowledged = missing.cardinality();
            missing.andNot(seen);
            return new Counts(acknowledged, missing.cardinality(), outOfOrder, duplicates);
        }

        /** The first few numbers that arrived twice, to place duplicates against the kills. */
        synchronized List<Integer> firstDuplicates() {
            return List.copyOf(firstDuplicates);
        }

        /** The first few acknowledged numbers that never arrived, to place a loss against the kills. */
        synchronized String firstMissing(Publisher from) {
            BitSet missing = from.acknowledgedSnapshot();
            missing.andNot(seen);
            return missing.stream().limit(10).boxed().toList().toString();
        }
    }

    /** Subscribes to every publisher's topic at its QoS, once, and keeps its session through reconnects. */
    private final class Subscriber extends Client {
        final StreamTally[] tallies;
        final int qos;

        Subscriber(int index) {
            super("fo-sub-" + index + "-" + plan.run());
            this.qos = plan.subscriberQos()[index];
            this.tallies = new StreamTally[plan.publisherQos().length];
            for (int i = 0; i < tallies.length; i++) {
                tallies[i] = new StreamTally();
            }
        }

        void start() throws Exception {
            connectFirst();
            client.subscribe("fo/" + plan.run() + "/+", qos).waitForCompletion(10_000);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            int publisher = Integer.parseInt(topic.substring(topic.lastIndexOf('/') + 1));
            tallies[publisher].got(Integer.parseInt(new String(message.getPayload(), StandardCharsets.US_ASCII)),
                    message.getId(), message.isDuplicate());
        }
    }
}
