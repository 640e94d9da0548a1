package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.starling.metrics.BrokerMetrics;
import io.starling.protocol.Ack;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketType;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import io.starling.routing.Acceptance;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.PublishRefused;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The session state without sockets or a cluster (issue 9): what it sends through its
 * {@link Outbound} and journals through its {@link SessionJournal}, both recorded here, and what it
 * tells the publishers waiting for their acknowledgements.
 */
class SessionTest {
    /** A connection that records packets; its write queue is full while {@code writable} is false. */
    static final class Wire implements Outbound {
        final List<Packet> sent = new ArrayList<>();
        boolean writable = true;

        @Override
        public boolean send(Packet packet) {
            sent.add(packet);
            return true;
        }

        @Override
        public boolean writable() {
            return writable;
        }

        @Override
        public void close() {
        }

        @Override
        public String remoteAddress() {
            return "test";
        }

        @Override
        public void limitPacketSize(long bytes) {
        }

        /** The payloads of the PUBLISH packets sent, with "dup:" before a resend. */
        List<String> publishes() {
            List<String> out = new ArrayList<>();
            for (Packet p : sent) {
                if (p instanceof Publish pub) {
                    out.add((pub.dup() ? "dup:" : "") + new String(pub.payload(), StandardCharsets.UTF_8));
                }
            }
            return out;
        }
    }

    /** A journal whose writes complete when the test says (or at once, when {@code immediate}). */
    static final class Journal implements SessionJournal {
        boolean active = true;
        boolean immediate = true;
        final List<String> ops = new ArrayList<>();
        final List<Promise<Void>> pending = new ArrayList<>();

        private Future<Void> op(String what) {
            ops.add(what);
            if (immediate) {
                return Future.succeededFuture();
            }
            Promise<Void> p = Promise.promise();
            pending.add(p);
            return p.future();
        }

        @Override
        public boolean active() {
            return active;
        }

        @Override
        public Future<Void> record(SessionState meta) {
            return op("record");
        }

        @Override
        public Future<Void> keep(Delivery d, int packetId, boolean released) {
            return op("keep " + d.seq() + " id " + packetId + (released ? " released" : ""));
        }

        @Override
        public void forget(long seq, long messageId) {
            op("forget " + seq);
        }

        @Override
        public Future<Void> keepInbound(int packetId, long messageId, boolean accepted) {
            return op("inbound " + packetId + (accepted ? " accepted" : ""));
        }

        @Override
        public void forgetInbound(int packetId) {
            op("forget inbound " + packetId);
        }

        @Override
        public Future<Void> forgetSession() {
            return op("end");
        }

        @Override
        public Future<Void> flushed() {
            return Future.succeededFuture();
        }
    }

    /** The node around the session: completions run at once, the subscriber keeps writing. */
    static final class Host implements Session.Host {
        final List<Runnable> later = new ArrayList<>();

        @Override
        public void onContext(Runnable task) {
            task.run();
        }

        @Override
        public boolean holdsPublishers() {
            return true;
        }

        @Override
        public void progress(int queued, boolean wrote) {
        }
    }

    final BrokerMetrics metrics = new BrokerMetrics(new SimpleMeterRegistry());
    final Journal journal = new Journal();
    final Wire wire = new Wire();

    Session session(int maxQueued, int maxInflight, long maxBytes, long expirySeconds) {
        Session s = new Session("client", new Session.Limits(maxQueued, maxInflight, maxBytes), metrics, journal,
                new Host());
        s.expirySeconds = expirySeconds;
        return s;
    }

    static Message message(String text, int qos) {
        return new Message("t", text.getBytes(StandardCharsets.UTF_8), qos, false, Properties.EMPTY, 0, "p", 0);
    }

    /** A delivery whose publisher waits: the returned acceptance completes (or fails) with it. */
    static Delivery waiting(String text, int qos, List<Future<Void>> outcomes) {
        Acceptance a = new Acceptance();
        a.expect();
        outcomes.add(a.sealed());
        return new Delivery(message(text, qos), qos, false, Delivery.NO_IDS, null).withAcceptance(a);
    }

    @Test
    void messagesQueuedOfflineGoOutInOrderOnAttachAndWhatIsInFlightIsResentWithDup() {
        Session s = session(100, 2, Long.MAX_VALUE, 60);
        List<Future<Void>> acks = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            s.deliver(waiting("m" + i, 1, acks));
        }
        assertTrue(acks.stream().allMatch(Future::succeeded), "journaled: the publishers are answered");
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        assertEquals(List.of("m1", "m2"), wire.publishes(), "the inflight window (2) bounds what is sent");

        s.detach();
        Wire again = new Wire();
        s.attach(again, MqttVersion.V5, 65_535, 0, topic -> true);
        // [MQTT-4.4.0-1] unacknowledged messages again, in their order, with DUP [MQTT-3.3.1-1]
        assertEquals(List.of("dup:m1", "dup:m2"), again.publishes());
        s.onPuback(((Publish) again.sent.get(0)).packetId());
        assertEquals(List.of("dup:m1", "dup:m2", "m3"), again.publishes(), "a PUBACK frees a slot, in order");
    }

    @Test
    void aQos2MessageRoutedAgainIsTakenOnceByASessionThatHoldsIt() {
        Session s = session(100, 1, Long.MAX_VALUE, 60);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        List<Future<Void>> acks = new ArrayList<>();
        Delivery first = waiting("m1", 2, acks);
        Delivery queued = waiting("m2", 2, acks);
        s.deliver(first);
        s.deliver(queued);
        // Its publisher resent both after a node died; the second routing may reach this session.
        s.deliver(new Delivery(first.message(), 2, false, Delivery.NO_IDS, null).withVia(Delivery.ROUTED_AGAIN));
        s.deliver(new Delivery(queued.message(), 2, false, Delivery.NO_IDS, null).withVia(Delivery.ROUTED_AGAIN));
        Delivery other = new Delivery(message("m3", 2), 2, false, Delivery.NO_IDS, null).withVia(Delivery.ROUTED_AGAIN);
        s.deliver(other);
        assertEquals(List.of("m1"), wire.publishes(), "m1 in flight (window 1), once");
        assertEquals(2, s.queued(), "m2 once, and m3, which this session did not have");
    }

    @Test
    void aQos2MessageCompletedBeforeAMoveIsNotTakenAgainWhereTheSessionWent() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        List<Future<Void>> acks = new ArrayList<>();
        Delivery done = waiting("m1", 2, acks);
        s.deliver(done);
        int id = ((Publish) wire.sent.get(0)).packetId();
        s.onPubrec(id, ReasonCode.SUCCESS);
        s.onPubcomp(id); // the client has handed m1 to its application
        s.detach();
        SessionState st = s.export(); // a graceful leave: the session goes to another node, live
        assertTrue(st.completed().contains(done.message().id()), "what it completed lately goes with it");

        // There, m1's publisher (its node left before its PUBREC) resends it, and it is routed again.
        Session moved = session(100, 10, Long.MAX_VALUE, 60);
        moved.importState(st, 0);
        Wire there = new Wire();
        moved.attach(there, MqttVersion.V5, 65_535, 0, topic -> true);
        moved.deliver(new Delivery(done.message(), 2, false, Delivery.NO_IDS, null).withVia(Delivery.ROUTED_AGAIN));
        Delivery fresh = new Delivery(message("m2", 2), 2, false, Delivery.NO_IDS, null).withVia(Delivery.ROUTED_AGAIN);
        moved.deliver(fresh);
        assertEquals(List.of("m2"), there.publishes(), "m1 once [MQTT-4.3.3]; m2, which it never had, is sent");
    }

    @Test
    void anOfflineSessionDropsPastItsQueueButHoldsItsPublishersDuringAFailoverGrace() {
        Session s = session(2, 10, Long.MAX_VALUE, 60);
        List<Future<Void>> acks = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            s.deliver(waiting("m" + i, 1, acks));
        }
        assertEquals(2, s.queued(), "past mqtt.max-queued-messages an offline session drops");
        assertTrue(acks.get(2).succeeded(), "a drop by the bounded offline queue is counted, not refused");

        Session g = session(2, 10, Long.MAX_VALUE, 60);
        g.startGrace(60_000_000_000L);
        List<Future<Void>> held = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            g.deliver(waiting("m" + i, 1, held));
        }
        assertEquals(4, g.queued(), "within the grace nothing is dropped");
        assertFalse(held.get(2).isComplete(), "the publisher waits instead (backpressure)");
        g.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        assertEquals(List.of("m1", "m2", "m3", "m4"), wire.publishes());
        assertTrue(held.stream().allMatch(Future::succeeded), "the queue drained: every publisher is answered");

        Session over = session(2, 10, Long.MAX_VALUE, 60);
        over.startGrace(60_000_000_000L);
        List<Future<Void>> waitingAcks = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            over.deliver(waiting("m" + i, 1, waitingAcks));
        }
        over.graceOver();
        assertTrue(waitingAcks.get(2).succeeded(), "the grace over, held publishers go; the message stays queued");
        assertEquals(3, over.queued());
    }

    @Test
    void aMessageNotBackedUpRefusesItsPublisherInsteadOfAnsweringSuccess() {
        journal.immediate = false;
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        List<Future<Void>> acks = new ArrayList<>();
        s.deliver(waiting("m1", 1, acks));
        assertFalse(acks.get(0).isComplete(), "the publisher waits for the journal");
        journal.pending.get(0).fail("member left");
        assertInstanceOf(PublishRefused.class, acks.get(0).cause());
        assertEquals(ReasonCode.UNSPECIFIED_ERROR, ((PublishRefused) acks.get(0).cause()).reasonCode());
    }

    @Test
    void theNodesMemoryBoundRefusesQos1AndDropsQos0() {
        Session s = session(100, 10, 1, 60); // one byte: the first queued message reaches it
        s.deliver(new Delivery(message("first", 1), 1, false, Delivery.NO_IDS, null));
        s.pump(); // reports the bytes to the node's total
        List<Future<Void>> acks = new ArrayList<>();
        s.deliver(waiting("second", 1, acks));
        assertEquals(ReasonCode.QUOTA_EXCEEDED, ((PublishRefused) acks.get(0).cause()).reasonCode());
        assertEquals(1, s.queued());
        assertTrue(metrics.queuedBytes() > 0);
    }

    @Test
    void qos2MessagesWaitForTheirIdentifierToBeJournaledAndGoOutInOrderWhateverOrderTheWritesComplete() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        journal.immediate = false;
        List<Future<Void>> acks = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            s.deliver(waiting("q" + i, 2, acks));
        }
        // Each message is written queued, then with its packet identifier: six writes under way at once.
        assertEquals(List.of("keep 1 id 0", "keep 1 id 1", "keep 2 id 0", "keep 2 id 2", "keep 3 id 0", "keep 3 id 3"),
                journal.ops);
        assertEquals(List.of(), wire.publishes(), "nothing before its packet identifier is written [MQTT-4.3.3]");
        journal.pending.get(5).complete(); // q3's identifier
        journal.pending.get(3).complete(); // q2's
        assertEquals(List.of(), wire.publishes(), "q2 and q3 wait for q1: a publisher's order [MQTT-4.6.0-5]");
        journal.pending.get(1).complete();
        assertEquals(List.of("q1", "q2", "q3"), wire.publishes());
    }

    @Test
    void aQos2MessageNotJournaledDoesNotOvertakeOnesStillBeingJournaled() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        journal.immediate = false;
        s.deliver(new Delivery(message("q1", 2), 2, false, Delivery.NO_IDS, null));
        journal.active = false; // the last other node left: nothing is journaled from here on
        s.deliver(new Delivery(message("q2", 2), 2, false, Delivery.NO_IDS, null));
        assertEquals(List.of(), wire.publishes(), "q2 waits behind q1, whose identifier is being written");
        journal.pending.get(1).complete(); // q1's identifier
        assertEquals(List.of("q1", "q2"), wire.publishes());
    }

    @Test
    void afterAReconnectAPubrelBehindAResentPublishWaitsForIt() {
        Session s = session(100, 10, Long.MAX_VALUE, 0);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        for (int i = 1; i <= 3; i++) {
            s.deliver(new Delivery(message("q" + i, 2), 2, false, Delivery.NO_IDS, null));
        }
        List<Integer> ids = wire.sent.stream().map(p -> ((Publish) p).packetId()).toList();
        s.onPubrec(ids.get(0), 0);
        s.onPubrec(ids.get(2), 0); // the client's PUBREC of q2 was lost with the connection
        s.detach();
        Wire again = new Wire();
        s.attach(again, MqttVersion.V5, 65_535, 0, topic -> true);
        assertEquals(List.of("PUBREL " + ids.get(0), "dup:q2"), describe(again.sent),
                "q3's PUBREL waits: a client that delivers on PUBREL would take q3 before q2 (spec 4.6)");
        s.onPubrec(ids.get(1), 0);
        assertEquals(List.of(ids.get(2)), s.pubrelsDue(), "q2 released: q3's PUBREL may go");
    }

    @Test
    void aMovedSessionParksWhatItsRoutesBringUntilTheRelayIsDoneAndTakesACopyOnce() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        Delivery queued = new Delivery(message("old", 1), 1, false, Delivery.NO_IDS, null);
        s.importState(new SessionState(60, List.of(), List.of(), List.of(queued), List.of(), null), 1);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        assertEquals(List.of("old"), wire.publishes());

        Message newer = message("new", 1);
        s.deliver(new Delivery(newer, 1, false, Delivery.NO_IDS, null)); // by this node's routes
        Message relayed = message("relayed", 1);
        s.deliver(new Delivery(relayed, 1, false, Delivery.NO_IDS, null).withVia(Delivery.RELAYED));
        s.deliver(new Delivery(queued.message(), 1, false, Delivery.NO_IDS, null).withVia(Delivery.RELAYED));
        assertEquals(List.of("old", "relayed"), wire.publishes(),
                "the relayed message goes first, the routed one is parked, the copy of 'old' is dropped");
        s.deliver(new Delivery(relayed, 1, false, Delivery.NO_IDS, null)); // also routed here: parked
        s.settleSourceDone();
        assertEquals(List.of("old", "relayed", "new"), wire.publishes(), "then what was parked, each once");
    }

    @Test
    void aQos2PublishFromTheClientIsJournaledBeforeItIsRoutedAndAgainOnceAccepted() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        assertTrue(s.inboundBegin(7, 42L) != null, "the message id is written before routing");
        assertEquals(List.of("inbound 7"), journal.ops);
        assertFalse(s.inbound.get(7).accepted);
        s.inbound.accepted(7);
        assertEquals(List.of("inbound 7", "inbound 7 accepted"), journal.ops);
        assertTrue(s.inbound.get(7).accepted, "a resend is now answered without routing [MQTT-4.3.3-10]");
        assertTrue(s.inbound.release(7));
        assertEquals("forget inbound 7", journal.ops.get(2));
    }

    @Test
    void aSessionHandedOverExportsItsFlowsAndGivesBackWhatItsQueueCost() {
        Session s = session(100, 1, Long.MAX_VALUE, 60);
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        for (int i = 1; i <= 3; i++) {
            s.deliver(new Delivery(message("m" + i, 1), 1, false, Delivery.NO_IDS, null));
        }
        s.inboundBegin(9, 99L);
        assertTrue(metrics.queuedBytes() > 0, "two queued beyond the inflight window of one");
        s.detach();
        SessionState st = s.export();
        assertEquals(1, st.inflight().size());
        assertEquals(List.of("m2", "m3"), st.queued().stream()
                .map(d -> new String(d.message().payload(), StandardCharsets.UTF_8)).toList());
        assertEquals(List.of(new SessionState.Inbound(9, 99L, false)), st.inboundQos2());
        assertEquals(0, metrics.queuedBytes(), "the node's total no longer counts them");

        Session other = session(100, 10, Long.MAX_VALUE, 60);
        other.importState(st, 0);
        assertTrue(metrics.queuedBytes() > 0);
        other.end();
        assertEquals(0, metrics.queuedBytes(), "an ended session gives its bytes back");
        assertEquals("end", journal.ops.get(journal.ops.size() - 1));
    }

    @Test
    void anExpiredMessageIsNotSent() {
        Session s = session(100, 10, Long.MAX_VALUE, 60);
        Message expired = new Message("t", new byte[0], 1, false, Properties.EMPTY, 1, "p", 0); // expired in 1970
        s.deliver(new Delivery(expired, 1, false, Delivery.NO_IDS, null));
        s.attach(wire, MqttVersion.V5, 65_535, 0, topic -> true);
        assertEquals(List.of(), wire.publishes(), "[MQTT-3.3.2-5]");
        assertEquals(List.of("keep 1 id 0", "forget 1"), journal.ops);
    }

    private static List<String> describe(List<Packet> packets) {
        List<String> out = new ArrayList<>();
        for (Packet p : packets) {
            if (p instanceof Publish pub) {
                out.add((pub.dup() ? "dup:" : "") + new String(pub.payload(), StandardCharsets.UTF_8));
            } else if (p instanceof Ack a && a.type() == PacketType.PUBREL) {
                out.add("PUBREL " + a.packetId());
            } else {
                out.add(p.type().toString());
            }
        }
        return out;
    }
}
