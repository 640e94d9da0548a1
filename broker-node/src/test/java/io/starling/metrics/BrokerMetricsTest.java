package io.starling.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.starling.protocol.ReasonCode;
import org.junit.jupiter.api.Test;

/** The names Prometheus sees, and the bookkeeping behind the gauges and the histogram. */
class BrokerMetricsTest {
    private final PrometheusMeterRegistry registry = RuntimeMetrics.newRegistry();
    private final BrokerMetrics metrics = new BrokerMetrics(registry);

    @Test
    void exposedNamesFollowPrometheusConventions() {
        metrics.protocolError(ReasonCode.MALFORMED_PACKET);
        String text = registry.scrape();
        for (String series : new String[] {"starling_messages_received_total{qos=\"2\"} 0",
            "starling_messages_sent_total{qos=\"0\"} 0", "starling_received_bytes_total 0",
            "starling_sent_bytes_total 0", "starling_connections 0", "starling_connections_accepted_total 0",
            "starling_messages_dropped_total{reason=\"queue_full\"} 0",
            "starling_auth_failures_total{reason=\"not_authorized\"} 0",
            "starling_protocol_errors_total{reason=\"malformed_packet\"} 1",
            "starling_messages_forwarded_total{direction=\"in\"} 0", "starling_forwards_failed_total 0",
            "starling_wills_published_total 0", "starling_messages_queued 0", "starling_messages_inflight 0",
            "starling_delivery_latency_seconds_bucket{le=\"1.0E-4\"} 0",
            "starling_delivery_latency_seconds_bucket{le=\"10.0\"} 0", "starling_delivery_latency_seconds_count 0"}) {
            assertTrue(text.contains(series), series + " not in\n" + text);
        }
    }

    @Test
    void sessionDepthIsTheSumOfReportedChanges() {
        metrics.sessionDepthChanged(3, 2);
        metrics.sessionDepthChanged(-1, 0);
        metrics.sessionDepthChanged(0, -2);
        assertEquals(2, metrics.queued());
        assertEquals(0, metrics.inflight());
        assertEquals(2.0, registry.get("starling_messages_queued").gauge().value());
    }

    @Test
    void deliveriesWithoutAcceptTimeAreNotTimed() {
        metrics.delivered(0); // a retained message replayed on subscribe
        metrics.delivered(System.nanoTime() - 1_000_000);
        assertEquals(1, registry.get("starling_delivery_latency").timer().count());
        assertTrue(registry.get("starling_delivery_latency").timer().totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)
                >= 1_000_000);
    }

    @Test
    void authRefusalsAreTheirOwnCounterAndDropsSumUp() {
        assertTrue(BrokerMetrics.isAuthFailure(ReasonCode.BAD_AUTHENTICATION_METHOD));
        assertTrue(BrokerMetrics.isAuthFailure(ReasonCode.BAD_USER_NAME_OR_PASSWORD));
        assertTrue(!BrokerMetrics.isAuthFailure(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID));
        metrics.authFailure(ReasonCode.BAD_AUTHENTICATION_METHOD);
        assertEquals(1.0, registry.get("starling_auth_failures").tag("reason", "bad_authentication_method")
                .counter().count());
        metrics.dropped(DropReason.QUEUE_FULL);
        metrics.dropped(DropReason.EXPIRED);
        assertEquals(2.0, metrics.droppedTotal());
    }
}
