package io.starling.it;

import static io.starling.it.Quietly.sleep;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;

/**
 * A persistent-session subscriber (Session Expiry 600 s, QoS 1) on its own thread that reconnects
 * to another node of a {@link ClusterFixture} whenever its connection goes, for tests that take
 * nodes away under load. It connects first with Clean Start 1 and subscribes once; every later
 * connection resumes the session with Clean Start 0. Each message's payload is a number, recorded
 * in its {@link Tally}.
 */
final class ReconnectingSubscriber {
    private final ClusterFixture cluster;
    private final String clientId;
    private final String topic;
    private final IntUnaryOperator nextNode;
    private final Tally tally = new Tally();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong reconnectedAt = new AtomicLong();
    private final Thread thread;

    private ReconnectingSubscriber(ClusterFixture cluster, String clientId, String topic, int firstNode,
                                   IntUnaryOperator nextNode) {
        this.cluster = cluster;
        this.clientId = clientId;
        this.topic = topic;
        this.nextNode = nextNode;
        this.thread = new Thread(() -> run(firstNode), "subscriber-" + clientId);
    }

    /**
     * Starts a subscriber on {@code firstNode}; after losing a node it waits 100 ms and connects to
     * {@code nextNode.applyAsInt(node)}.
     */
    static ReconnectingSubscriber start(ClusterFixture cluster, String clientId, String topic, int firstNode,
                                        IntUnaryOperator nextNode) {
        ReconnectingSubscriber s = new ReconnectingSubscriber(cluster, clientId, topic, firstNode, nextNode);
        s.thread.start();
        return s;
    }

    private void run(int firstNode) {
        int node = firstNode;
        boolean first = true;
        while (!stop.get()) {
            try (PahoV5Client sub = new PahoV5Client(cluster.uri(node), clientId)) {
                boolean clean = first;
                sub.connect(o -> {
                    o.setCleanStart(clean);
                    o.setSessionExpiryInterval(600L);
                });
                if (first) {
                    sub.subscribe(topic, 1);
                    first = false;
                } else if (reconnectedAt.get() == 0) {
                    reconnectedAt.set(System.nanoTime());
                }
                while (!stop.get() && sub.client.isConnected()) {
                    PahoV5Client.Received r = sub.poll(200);
                    if (r != null) {
                        tally.got(Integer.parseInt(r.text()));
                    }
                }
            } catch (Exception e) {
                // its node is gone: the next one
            }
            node = nextNode.applyAsInt(node);
            sleep(100);
        }
    }

    Tally tally() {
        return tally;
    }

    /** {@link System#nanoTime()} when it first connected again after losing a node; 0 if it has not. */
    long reconnectedAt() {
        return reconnectedAt.get();
    }

    /** Asks the thread to stop; it ends within about 200 ms of a poll. See {@link #join}. */
    void stop() {
        stop.set(true);
    }

    void join(long millis) throws InterruptedException {
        thread.join(millis);
    }
}
