package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.ReasonCode;
import io.starling.routing.PublishRefused;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** QoS 2 publishes are routed once journaled, in the order they were received (spec 4.6), whatever order the writes end in. */
class OrderedQos2RoutingTest {
    final List<Integer> routed = new ArrayList<>();
    final OrderedQos2Routing routing = new OrderedQos2Routing(Runnable::run);

    Future<Integer> route(Future<Void> recorded, int n) {
        return routing.route(recorded, () -> {
            routed.add(n);
            return Future.succeededFuture(n);
        });
    }

    @Test
    void withNothingToWaitForItRoutesAtOnce() {
        assertEquals(5, route(null, 5).result());
        assertEquals(List.of(5), routed);
    }

    @Test
    void writesEndingInAnyOrderRouteInReceiptOrder() {
        Random random = new Random(4);
        for (int round = 0; round < 50; round++) {
            routed.clear();
            List<Promise<Void>> writes = new ArrayList<>();
            List<Future<Integer>> reached = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                // Some publishes have no write of their own (a resend), and still keep their turn.
                Promise<Void> w = random.nextInt(4) == 0 ? null : Promise.promise();
                writes.add(w);
                reached.add(route(w == null ? null : w.future(), i));
            }
            List<Promise<Void>> order = new ArrayList<>(writes);
            java.util.Collections.shuffle(order, random);
            for (Promise<Void> w : order) {
                if (w != null) {
                    w.complete();
                }
                for (int k = 1; k < routed.size(); k++) {
                    assertTrue(routed.get(k - 1) < routed.get(k), "routed " + routed + " in round " + round);
                }
            }
            assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), routed, "round " + round);
            reached.forEach(f -> assertTrue(f.succeeded()));
        }
    }

    @Test
    void aFailedWriteRefusesThatPublishOnlyAndTheNextGoOn() {
        Promise<Void> first = Promise.promise();
        Promise<Void> second = Promise.promise();
        Future<Integer> a = route(first.future(), 1);
        Future<Integer> b = route(second.future(), 2);
        second.complete();
        assertEquals(List.of(), routed, "the second waits for the first");
        first.fail("no backup member");
        PublishRefused refused = assertInstanceOf(PublishRefused.class, a.cause());
        assertEquals(ReasonCode.UNSPECIFIED_ERROR, PublishRefused.reasonCodeOf(refused));
        assertEquals(List.of(2), routed, "not routed without its record; the next one is");
        assertEquals(2, b.result());
    }
}
