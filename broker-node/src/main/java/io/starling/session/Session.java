package io.starling.session;

import io.starling.metrics.BrokerMetrics;
import io.starling.metrics.DropReason;
import io.starling.protocol.Ack;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.PacketType;
import io.starling.protocol.ReasonCode;
import io.starling.routing.Delivery;
import io.starling.routing.PublishRefused;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import io.vertx.core.Future;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one MQTT session (spec 4.1) as plain state: subscriptions, messages queued
 * and in flight towards the client, QoS 2 publishes received and awaiting PUBREL, and the
 * publishers' acknowledgements it holds back. It does no I/O and knows no cluster: it sends
 * through the {@link Outbound} of the attached connection and writes what must outlive this node
 * to its {@link SessionJournal}; both are ports, so all of it is unit-tested without sockets.
 * Routing (the subscription index) is the ref's business: this class only keeps the subscriptions.
 *
 * <p>Confinement: every method runs on its ref's context; journal completions come back through
 * {@link Host#onContext}.
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** What the session needs of the node it lives on. */
    interface Host {
        /** Runs {@code task} on the session's context (journal completions arrive on other threads). */
        void onContext(Runnable task);

        /** Whether QoS 0 publishers still wait for this subscriber (it keeps writing): see {@link SubscriberBacklog}. */
        boolean holdsPublishers();

        /** The queue is now {@code queued} long, and a PUBLISH went out since the last report if {@code wrote}. */
        void progress(int queued, boolean wrote);
    }

    /** How far past mqtt.max-queued-messages QoS 0 already read from paused publishers is kept (see SubscriberBacklog). */
    static final int QOS0_OVERSHOOT = 10;
    /**
     * How far beyond mqtt.max-queued-messages a queue may grow while publishers' acknowledgements
     * are held: a backstop against publishers that ignore flow control; past it, messages drop.
     */
    static final int HELD_FACTOR = 100;

    final String clientId;
    private final Limits limits;
    private final BrokerMetrics metrics;
    private final SessionJournal journal;
    private final Host host;

    long expirySeconds;
    final Map<String, Subscription> subscriptions = new HashMap<>();
    private final PacketIdAllocator ids = new PacketIdAllocator();
    private final InflightWindow inflight;
    private final SessionQueue queue = new SessionQueue();
    /** QoS 2 PUBLISHes received and not released. */
    final InboundQos2 inbound;
    private final HeldAcknowledgements held = new HeldAcknowledgements();
    private boolean overflowLogged;
    /** The next sequence number for a message kept in the journal. */
    private long nextSeq = 1;
    /** Something of this session went to the journal, so its end must remove it there. */
    private boolean stored;
    /** While a move here settles: what it parks and the ids it has seen; null otherwise. */
    private MoveSettling settling;
    /** QoS 2 messages completed lately: they go with the session when it moves (null until the first). */
    private RecentCompletions completions;
    /**
     * Until this {@link System#nanoTime()}, publishers' acknowledgements are held for this session
     * while it is offline, as for an online one: its client was cut off by a node failure or leave
     * and reconnects elsewhere (issue 9). 0: no grace.
     */
    private long graceUntilNanos;

    /** The attached connection, or null while offline. */
    private Attachment out;
    /** True between the session being claimed by a CONNECT and its CONNACK: QoS 0 is queued, not dropped. */
    boolean attaching;
    /**
     * QoS 2 messages given a packet identifier whose journal write has not completed, in the order
     * they must be sent: each goes out once it and every one before it is written (spec 4.6), so
     * the writes overlap instead of costing a round trip per message.
     */
    private final ArrayDeque<InflightWindow.Entry> awaitingStore = new ArrayDeque<>(0);
    private boolean wroteSinceReport;
    /** The depths last reported to the node's gauges, which get differences (no walk per scrape). */
    private int reportedQueued;
    private int reportedInflight;
    /** What the node's total of queued bytes last got of this session's. */
    private long reportedBytes;
    private boolean memoryLimitLogged;

    /** The node's limits a session obeys. */
    /** @param maxQueuedBytes the node-wide bound on queued message bytes (mqtt.max-queued-bytes) */
    record Limits(int maxQueued, int maxInflight, long maxQueuedBytes) {
    }

    Session(String clientId, Limits limits, BrokerMetrics metrics, SessionJournal journal, Host host) {
        this.clientId = clientId;
        this.limits = limits;
        this.metrics = metrics;
        this.journal = journal;
        this.host = host;
        this.inflight = new InflightWindow(limits.maxInflight());
        this.inbound = new InboundQos2(journal);
    }

    boolean online() {
        return out != null;
    }

    // ---- deliveries towards the client ----

    /** Accepts a message routed to this session; sends it now, queues it, or holds its publisher back. */
    void deliver(Delivery d) {
        if (settling != null) {
            if (settling.over()) {
                settling = null;
            } else {
                switch (settling.admit(d)) {
                    case PARKED -> {
                        return; // until the paths that fill the session in are done
                    }
                    case DUPLICATE -> {
                        log.debug("client {}: message {} came twice while the session's move settled; taken once",
                                clientId, d.message().id());
                        d.accepted();
                        return;
                    }
                    case DROPPED -> {
                        metrics.dropped(DropReason.QUEUE_FULL); // QoS 0, past the parking bound
                        d.accepted();
                        return;
                    }
                    case TAKE -> { }
                }
            }
        }
        take(d);
    }

    private void take(Delivery d) {
        if ((d.via() == Delivery.ROUTED_AGAIN || (d.qos() == 2 && d.via() == Delivery.REPUBLISHED))
                && holds(d.message().id())) {
            // A QoS 2 message its publisher resent after a node died or left (or one a dead node's
            // peers republish), and that this session brought with it, or completed, when it came
            // here: delivered once [MQTT-4.3.3-2]. Only on these rare paths: holds() scans.
            log.debug("client {}: message {} routed again; the session has it", clientId, d.message().id());
            d.accepted();
            return;
        }
        if (d.qos() == 0 && out == null && !attaching) {
            // QoS 0 messages are not kept for offline clients (spec 3.1.2.4 leaves it to the server).
            metrics.dropped(DropReason.OFFLINE_QOS0);
            d.accepted();
            return;
        }
        if (metrics.queuedBytes() >= limits.maxQueuedBytes()) {
            // The node's memory bound (mqtt.max-queued-bytes): nothing more is queued anywhere until
            // queues drain; QoS 1/2 publishers hear 0x97 rather than a success (issue 9).
            if (!memoryLimitLogged) {
                memoryLimitLogged = true;
                log.warn("client {}: this node's session queues hold {} bytes (mqtt.max-queued-bytes {}): QoS 0 is "
                        + "dropped and QoS 1/2 refused until they drain", clientId, metrics.queuedBytes(),
                        limits.maxQueuedBytes());
            }
            if (d.qos() > 0 && d.acceptance() != null) {
                d.refused(new PublishRefused(ReasonCode.QUOTA_EXCEEDED, "the node's queued bytes are at their bound"));
            } else {
                metrics.dropped(DropReason.MEMORY_LIMIT);
                d.accepted();
            }
            return;
        }
        memoryLimitLogged = false;
        int max = limits.maxQueued();
        if (queue.size() >= max && d.qos() > 0 && d.acceptance() != null && holdsAcknowledgements()
                && queue.size() < max * HELD_FACTOR) {
            // Backpressure, not loss: the client is online (or coming back after a failover) and
            // only slower than its publishers. The message is queued beyond the limit and its
            // publisher's PUBACK/PUBREC waits until the queue is back under it.
            d = held.hold(d);
            metrics.acceptanceHeld();
        } else if (queue.size() >= max && overflowDrops(d, max)) {
            metrics.dropped(DropReason.QUEUE_FULL);
            if (!overflowLogged) {
                overflowLogged = true;
                log.warn("client {}: session queue is full ({} messages, mqtt.max-queued-messages); further "
                        + "messages are dropped and counted in starling_messages_dropped_total{reason=\"queue_full\"}",
                        clientId, queue.size());
            }
            d.accepted();
            return;
        }
        if (d.qos() > 0 && persistent()) {
            // Kept with backups before the publisher is answered: a node's loss cannot take it (issue 3).
            Delivery kept = d.withSeq(nextSeq++);
            stored = true;
            journal.keep(kept, 0, false).onComplete(ar -> {
                if (ar.succeeded()) {
                    kept.accepted();
                } else {
                    // Not backed up: the publisher must not hear success (issue 9). The copy here still goes out.
                    log.warn("client {}: a message for this session could not be backed up: {}", clientId,
                            ar.cause().toString());
                    kept.refused(new PublishRefused(ReasonCode.UNSPECIFIED_ERROR, "not backed up"));
                }
            });
            d = kept;
        } else {
            d.accepted();
        }
        queue.add(d);
        pump();
    }

    /** True if the message is queued or in flight here: a linear scan, for the rare second routing only. */
    private boolean holds(long messageId) {
        if (queue.contains(messageId)) {
            return true;
        }
        if (completions != null && completions.contains(messageId, System.nanoTime())) {
            return true; // completed here (or before a move) lately: the client has it
        }
        for (InflightWindow.Entry e : inflight.inOrder()) {
            if (e.delivery() != null && e.delivery().message().id() == messageId) {
                return true;
            }
        }
        return false;
    }

    /** Online, attaching, or offline within a failover grace period: publishers wait instead of messages dropping. */
    private boolean holdsAcknowledgements() {
        return out != null || attaching || (graceUntilNanos != 0 && System.nanoTime() - graceUntilNanos < 0);
    }

    /**
     * Whether a message that finds the queue at mqtt.max-queued-messages is dropped (QoS 1/2 that
     * reach here cannot be held: offline past any grace, or past the backstop).
     */
    private boolean overflowDrops(Delivery d, int max) {
        if (d.qos() > 0 || out == null) {
            return true;
        }
        if (out.writable()) {
            return false; // written out at once
        }
        // QoS 0 already read from publishers when their pause began still arrives: for a
        // subscriber that keeps writing it is queued up to QOS0_OVERSHOOT times the limit.
        return queue.size() >= max * QOS0_OVERSHOOT || !host.holdsPublishers();
    }

    /** Sends queued messages while the connection is writable and the inflight window has room. */
    void pump() {
        send();
        reportDepth();
    }

    private void reportDepth() {
        int q = queue.size();
        int f = inflight.size();
        if (q != reportedQueued || f != reportedInflight) {
            metrics.sessionDepthChanged(q - reportedQueued, f - reportedInflight);
            reportedQueued = q;
            reportedInflight = f;
        }
        if (queue.bytes() != reportedBytes) {
            metrics.queuedBytesChanged(queue.bytes() - reportedBytes);
            reportedBytes = queue.bytes();
        }
        host.progress(q, wroteSinceReport);
        wroteSinceReport = false;
    }

    private void send() {
        if (out == null) {
            return;
        }
        long now = System.currentTimeMillis();
        while (!queue.isEmpty() && out.writable()) {
            Delivery d = queue.peek();
            if (d.qos() > 0 && !inflight.hasRoom()) {
                break;
            }
            queue.poll();
            if (d.message().isExpired(now)) {
                // [MQTT-3.3.2-5] an expired message not yet sent is deleted.
                metrics.dropped(DropReason.EXPIRED);
                unstore(d);
                continue;
            }
            wroteSinceReport = true;
            if (d.qos() == 0) {
                out.publish(d, 0, false, now);
                continue;
            }
            int id = ids.allocate();
            if (d.qos() == 2 && d.seq() > 0) {
                // QoS 2 is exactly once even if this node dies: a new owner must resend it with the
                // same packet identifier [MQTT-4.3.3], so that is journaled before the PUBLISH goes.
                sendAfterStoring(d, id);
                continue;
            }
            if (d.qos() == 2 && !awaitingStore.isEmpty()) {
                // Not journaled (the node is alone now, say), but behind QoS 2 messages that are:
                // it goes out in its turn, not before them (spec 4.6).
                inflight.add(id, d);
                InflightWindow.Entry e = inflight.get(id);
                e.sent = false;
                awaitingStore.add(e);
                continue;
            }
            if (out.publish(d, id, false, now)) {
                inflight.add(id, d);
                if (d.seq() > 0) {
                    journal.keep(d, id, false); // a new owner resends it with this id
                }
            } else {
                ids.release(id);
                unstore(d);
            }
        }
        held.release(queue.size(), limits.maxQueued(), false);
        if (overflowLogged && queue.size() < limits.maxQueued() / 2) {
            overflowLogged = false;
        }
    }

    private void sendAfterStoring(Delivery d, int id) {
        inflight.add(id, d);
        InflightWindow.Entry entry = inflight.get(id);
        entry.sent = false;
        entry.stored = false;
        awaitingStore.add(entry);
        journal.keep(d, id, false).onComplete(ar -> host.onContext(() -> {
            entry.stored = true; // written, or the write failed: sent all the same, in turn
            sendStoredInOrder();
        }));
    }

    /** Sends the QoS 2 messages at the head of {@link #awaitingStore} whose identifier is written. */
    private void sendStoredInOrder() {
        if (out == null) {
            return; // offline: the next attach sends them, in turn
        }
        while (!awaitingStore.isEmpty() && awaitingStore.peek().stored) {
            InflightWindow.Entry e = awaitingStore.poll();
            if (inflight.get(e.packetId) != e || e.sent) {
                continue; // completed or moved meanwhile
            }
            if (out.publish(e.delivery, e.packetId, false, System.currentTimeMillis())) {
                e.sent = true;
            } else {
                inflight.remove(e.packetId);
                ids.release(e.packetId);
                unstore(e.delivery);
            }
        }
        pump();
    }

    void onPuback(int packetId) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e != null && e.delivery.qos() == 1) {
            complete(packetId, e);
        }
    }

    private static final Future<Integer> NO_PUBREL = Future.succeededFuture(-1);
    private static final Future<Integer> PUBREL_SUCCESS = Future.succeededFuture(ReasonCode.SUCCESS);
    private static final Future<Integer> PUBREL_NOT_FOUND = Future.succeededFuture(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);

    /**
     * @return the reason code for the PUBREL to send, or -1 when none is sent because the client
     *         refused the message (PUBREC 0x80 or above ends the flow). For a journaled message the
     *         PUBREL waits until the PUBREC is written: once the client has the PUBREL it forgets
     *         the packet identifier, so a node adopting the session must send PUBREL, not the
     *         PUBLISH again [MQTT-4.3.3].
     */
    Future<Integer> onPubrec(int packetId, int reasonCode) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e == null || e.delivery.qos() != 2) {
            return PUBREL_NOT_FOUND;
        }
        if (reasonCode >= 0x80) {
            complete(packetId, e);
            return NO_PUBREL;
        }
        e.released = true;
        if (e.delivery.seq() > 0) {
            return journal.keep(e.delivery, packetId, true).map(ReasonCode.SUCCESS);
        }
        return PUBREL_SUCCESS;
    }

    /**
     * The PUBRELs held back behind a resent QoS 2 PUBLISH (see {@link #attach}) that may go now, in
     * order: those up to the next QoS 2 message still waiting for its PUBREC.
     */
    List<Integer> pubrelsDue() {
        List<Integer> due = null;
        for (InflightWindow.Entry e : inflight.inOrder()) {
            if (e.delivery.qos() != 2) {
                continue;
            }
            if (!e.released) {
                if (e.sent) {
                    break;
                }
                continue;
            }
            if (e.releaseDeferred) {
                e.releaseDeferred = false;
                if (due == null) {
                    due = new ArrayList<>(2);
                }
                due.add(e.packetId);
            }
        }
        return due == null ? List.of() : due;
    }

    void onPubcomp(int packetId) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e != null && e.released) {
            complete(packetId, e);
        }
    }

    private void complete(int packetId, InflightWindow.Entry e) {
        if (e.delivery.qos() == 2) {
            if (completions == null) {
                completions = new RecentCompletions();
            }
            completions.completed(e.delivery.message().id(), System.nanoTime());
        }
        inflight.remove(packetId);
        ids.release(packetId);
        unstore(e.delivery);
        pump();
    }

    // ---- QoS 2 publishes from the client ----

    /** A QoS 2 PUBLISH with a new identifier (see {@link InboundQos2#begin}). */
    Future<Void> inboundBegin(int packetId, long messageId) {
        Future<Void> written = inbound.begin(packetId, messageId, persistent());
        stored |= written != null;
        return written;
    }

    // ---- subscriptions (the ref puts them into the router too) ----

    /** @return true when this filter was already subscribed (Retain Handling 1, [MQTT-3.3.1-10]). */
    boolean subscribe(Subscription sub) {
        return subscriptions.put(sub.filter().value(), sub) != null;
    }

    boolean unsubscribe(TopicFilter filter) {
        return subscriptions.remove(filter.value()) != null;
    }

    // ---- the journal ----

    /** Journaled: the session outlives its connection and there is a node to back up to. */
    boolean persistent() {
        return expirySeconds > 0 && journal.active();
    }

    /** What the journal keeps besides the messages: expiry, subscriptions, the pending will. */
    SessionState meta(io.starling.protocol.Connect.Will will) {
        return new SessionState(expirySeconds, new ArrayList<>(subscriptions.values()), List.of(), List.of(), List.of(),
                will);
    }

    /** A node joined, so there is somewhere to back up to: every message of this session is written out. */
    void persistAll() {
        if (!persistent()) {
            return;
        }
        stored = true;
        inbound.journalAll();
        for (InflightWindow.Entry e : inflight.inOrder()) {
            if (e.delivery.seq() == 0) {
                e.delivery = e.delivery.withSeq(nextSeq++);
            }
            journal.keep(e.delivery, e.packetId, e.released);
        }
        int n = queue.size();
        for (int i = 0; i < n; i++) {
            Delivery d = queue.poll();
            if (d.qos() > 0) {
                if (d.seq() == 0) {
                    d = d.withSeq(nextSeq++);
                }
                journal.keep(d, 0, false);
            }
            queue.add(d);
        }
    }

    private void unstore(Delivery d) {
        if (d.seq() > 0) {
            journal.forget(d.seq(), d.message().id());
        }
    }

    // ---- connection lifecycle ----

    /** Binds a new connection: resends what is in flight, in order and with DUP [MQTT-4.4.0-1]. */
    void attach(Outbound connection, MqttVersion v, int clientReceiveMaximum, int clientTopicAliasMaximum,
                java.util.function.Predicate<String> mayRead) {
        out = new Attachment(clientId, connection, v, clientTopicAliasMaximum, metrics, mayRead);
        attaching = false;
        // A failover's grace runs its whole course: clients reconnect more than once while nodes
        // come and go (a balancer's health checks lag), and each time its publishers must wait.
        inflight.setCapacity(Math.min(clientReceiveMaximum, limits.maxInflight()));
        long now = System.currentTimeMillis();
        // A client that hands a QoS 2 message to its application on PUBREL (the spec's method B)
        // would take a PUBREL that follows a resent PUBLISH before that PUBLISH's own: behind the
        // first QoS 2 message resent, PUBRELs wait until those before them have gone (spec 4.6).
        boolean awaitingPubrec = false;
        Iterator<InflightWindow.Entry> it = inflight.inOrder().iterator();
        while (it.hasNext()) {
            InflightWindow.Entry e = it.next();
            if (e.released) {
                e.releaseDeferred = awaitingPubrec;
                if (!awaitingPubrec) {
                    out.send(Ack.of(PacketType.PUBREL, e.packetId, ReasonCode.SUCCESS));
                }
            } else if (!e.sent) {
                continue; // never sent: it goes out in turn once its identifier is written (below)
            } else if (out.publish(e.delivery, e.packetId, e.sent, now)) {
                e.sent = true; // [MQTT-3.3.1-1] DUP only on a re-delivery
                awaitingPubrec |= e.delivery.qos() == 2;
            } else {
                it.remove();
                ids.release(e.packetId);
                unstore(e.delivery);
            }
        }
        sendStoredInOrder(); // and pumps
    }

    /**
     * The connection went away. Held acknowledgements go unless a failover grace runs: an offline
     * session keeps what it has, and its publishers must not wait for its return.
     *
     * @return shared-subscription messages not yet delivered, for another member (spec 4.8.2)
     */
    List<Delivery> detach() {
        out = null;
        if (!holdsAcknowledgements()) {
            held.release(queue.size(), limits.maxQueued(), true);
        }
        List<Delivery> back = takeSharedDeliveries();
        reportDepth();
        return back;
    }

    /**
     * Its client was cut off by a node failure or leave: for {@code graceNanos} its publishers are
     * held back rather than its overflow dropped, so that it loses nothing while it reconnects.
     */
    void startGrace(long graceNanos) {
        graceUntilNanos = Math.max(1, System.nanoTime() + graceNanos);
    }

    /** The grace ran out with the client still away: held publishers go, the bounded queue applies again. */
    void graceOver() {
        graceUntilNanos = 0;
        if (out == null && !attaching) {
            held.release(queue.size(), limits.maxQueued(), true);
        }
    }

    /**
     * The session ends (expiry, or a clean start replaced it): its state is discarded.
     *
     * @return shared-subscription messages not yet delivered, for another member (spec 4.8.2)
     */
    List<Delivery> end() {
        List<Delivery> back = takeSharedDeliveries();
        subscriptions.clear();
        int lost = queue.size() + inflight.size() + (settling == null ? 0 : settling.parkedCount());
        for (int i = 0; i < lost; i++) {
            metrics.dropped(DropReason.SESSION_ENDED);
        }
        queue.clear();
        inflight.clear();
        awaitingStore.clear();
        if (settling != null) {
            settling.drain().forEach(Delivery::accepted);
            settling = null;
        }
        boolean written = stored || inbound.anyJournaled();
        inbound.clear();
        held.release(0, limits.maxQueued(), true);
        reportDepth();
        if (written || journal.active()) {
            journal.forgetSession();
        }
        return back;
    }

    /** Spec 4.8.2: messages of a shared subscription that its member did not acknowledge; PUBREC'd QoS 2 stays. */
    private List<Delivery> takeSharedDeliveries() {
        List<Delivery> back = new ArrayList<>(0);
        Iterator<InflightWindow.Entry> it = inflight.inOrder().iterator();
        while (it.hasNext()) {
            InflightWindow.Entry e = it.next();
            if (e.delivery.sharedFilter() != null && !e.released) {
                it.remove();
                ids.release(e.packetId);
                unstore(e.delivery);
                back.add(e.delivery.withSeq(0));
            }
        }
        queue.removeIf(d -> {
            if (d.sharedFilter() == null) {
                return false;
            }
            unstore(d);
            back.add(d.withSeq(0));
            return true;
        });
        return back;
    }

    /**
     * Hands the session's messages over to another node (a takeover there): what is in flight,
     * queued (parked ones included) and QoS 2 received leaves this session, which keeps only its
     * subscriptions until released. Held publishers go: the new owner has the messages.
     */
    SessionState export() {
        List<SessionState.Inflight> sent = new ArrayList<>(inflight.size());
        for (InflightWindow.Entry e : inflight.inOrder()) {
            sent.add(new SessionState.Inflight(e.packetId, e.released, e.delivery));
        }
        List<Long> recent = new ArrayList<>(completions == null ? List.of() : completions.recent(System.nanoTime()));
        if (settling != null) {
            // What is parked goes with the session, taken (journaled) like anything else first;
            // so do the ids it has seen, while copies of them may still be on their way.
            MoveSettling s = settling;
            settling = null;
            recent.addAll(s.recentIds(10_000));
            for (Delivery d : s.drain()) {
                if (s.isNew(d)) {
                    take(d);
                } else {
                    d.accepted();
                }
            }
        }
        List<Delivery> queued = queue.copy();
        SessionState st = new SessionState(expirySeconds, new ArrayList<>(subscriptions.values()), sent,
                queued, inbound.state(), null, recent);
        for (SessionState.Inflight i : sent) {
            ids.release(i.packetId());
        }
        inflight.clear();
        awaitingStore.clear();
        queue.clear();
        held.release(0, limits.maxQueued(), true);
        inbound.clear();
        reportDepth();
        return st;
    }

    /**
     * Takes over a session from another node: its flows continue here with the same packet
     * identifiers. Until {@code settleSources} paths that fill it in (the old owner's relay,
     * republished messages of a dead node) have each said they are done, what this node's own
     * routes bring is parked behind them, so that each publisher's order holds (spec 4.6).
     */
    void importState(SessionState st, int settleSources) {
        for (SessionState.Inflight i : st.inflight()) {
            ids.claim(i.packetId());
            inflight.add(i.packetId(), i.delivery());
            inflight.get(i.packetId()).released = i.released();
        }
        st.queued().forEach(queue::add);
        inbound.load(st.inboundQos2());
        for (SessionState.Inflight i : st.inflight()) {
            nextSeq = Math.max(nextSeq, i.delivery().seq() + 1);
        }
        for (Delivery d : st.queued()) {
            nextSeq = Math.max(nextSeq, d.seq() + 1);
        }
        stored |= nextSeq > 1;
        settling = new MoveSettling(settleSources, limits.maxQueued());
        st.inflight().forEach(i -> settling.seen(i.delivery().message().id()));
        st.queued().forEach(d -> settling.seen(d.message().id()));
        st.completed().forEach(settling::seen);
        if (!st.completed().isEmpty()) {
            // Carried on: a resend routed here again after the dedupe window still finds them (see holds).
            long now = System.nanoTime();
            completions = completions == null ? new RecentCompletions() : completions;
            st.completed().forEach(id -> completions.completed(id, now));
        }
        st.subscriptions().forEach(this::subscribe);
        reportDepth();
    }

    /** One of the paths this session waited for after a move is done: what it parked is taken, in order. */
    void settleSourceDone() {
        if (settling == null) {
            return;
        }
        for (Delivery d : settling.sourceDone()) {
            deliver(d);
        }
    }

    int queued() {
        return queue.size();
    }

    int inflightCount() {
        return inflight.size();
    }

    int heldCount() {
        return held.size();
    }
}
