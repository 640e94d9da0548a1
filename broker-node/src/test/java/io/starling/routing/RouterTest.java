package io.starling.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.routes.LocalRoutes;
import io.starling.cluster.routes.RouteTable;
import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.Properties;
import io.starling.retain.LocalRetainedStore;
import io.starling.topic.TopicFilter;
import io.starling.topic.TopicName;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The router of one node with no peers, its subscribers recording what reaches them. */
class RouterTest {
    private final Vertx vertx = Vertx.vertx();
    private final NodeLinks links = new NodeLinks(vertx, "n1", 1 << 20);
    private final RouteTable routes = new RouteTable("n1");
    private final Router router = new Router(new LocalRetainedStore(), routes,
            new LocalRoutes(vertx, links, routes, 1000), new Forwarder(links, new BrokerMetrics(new SimpleMeterRegistry())));

    @AfterEach
    void close() {
        vertx.close();
    }

    /** A session: what it got, and when it came to this node (-1: made here). */
    private static final class Recorder implements Subscriber {
        final String id;
        final long arrivedAt;
        final List<Delivery> got = new ArrayList<>();

        Recorder(String id, long arrivedAt) {
            this.id = id;
            this.arrivedAt = arrivedAt;
        }

        @Override
        public String clientId() {
            return id;
        }

        @Override
        public void deliver(Delivery d) {
            got.add(d);
            d.accepted();
        }

        @Override
        public boolean isOnline() {
            return true;
        }

        @Override
        public long arrivedAt() {
            return arrivedAt;
        }
    }

    private void subscribe(Recorder r) {
        router.subscribe(r, new Subscription(r.id, TopicFilter.of("t"), 2, false, false, 0, 0));
    }

    @Test
    void aQos2MessageRoutedAgainGoesToTheSessionsThatCameHereSinceItsFirstRouting() {
        Recorder here = new Recorder("here", -1);
        Recorder adoptedBefore = new Recorder("adopted-before", router.arrivalMark());
        subscribe(here);
        subscribe(adoptedBefore);
        Message m = new Message("t", "x".getBytes(StandardCharsets.UTF_8), 2, false, Properties.EMPTY, 0, "p", 0);
        router.publish(TopicName.of("t"), m);
        // A node died before answering the publisher; a session is adopted here from it, then the
        // publisher's resend is routed again under the same id.
        Recorder adoptedAfter = new Recorder("adopted-after", router.arrivalMark());
        subscribe(adoptedAfter);
        router.publish(TopicName.of("t"), m);
        assertEquals(1, here.got.size(), "routed here before: not twice [MQTT-4.3.3-2]");
        assertEquals(1, adoptedBefore.got.size(), "it was here at the first routing");
        assertEquals(1, adoptedAfter.got.size(), "it came after the first routing: it may not have the message");
        assertEquals(Delivery.ROUTED_AGAIN, adoptedAfter.got.get(0).via(), "the session drops it if it holds it");

        Message q1 = new Message("t", "y".getBytes(StandardCharsets.UTF_8), 1, false, Properties.EMPTY, 0, "p", 0);
        router.publish(TopicName.of("t"), q1);
        router.publish(TopicName.of("t"), q1);
        assertEquals(3, here.got.size(), "QoS 1 is at least once: every routing is delivered");
    }
}
