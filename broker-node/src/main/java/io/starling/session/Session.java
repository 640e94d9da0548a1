package io.starling.session;

import io.starling.metrics.DropReason;
import io.starling.protocol.Ack;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.PacketType;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.ReasonCode;
import io.starling.routing.Delivery;
import io.starling.routing.Message;
import io.starling.routing.Subscription;
import io.starling.topic.TopicFilter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one MQTT session (spec 4.1): subscriptions, messages queued and in flight
 * towards the client, and QoS 2 publishes received and awaiting PUBREL. It outlives network
 * connections while its Session Expiry Interval runs.
 *
 * <p>Confinement: every method runs on its {@link SessionRef}'s context, which is the attached
 * channel's context while online. Other threads reach it only through the ref's mailbox.
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    final String clientId;
    final SessionRef ref;
    private final Services services;

    MqttVersion version;
    long expirySeconds;
    final Map<String, Subscription> subscriptions = new HashMap<>();
    private final PacketIdAllocator ids = new PacketIdAllocator();
    private final InflightWindow inflight;
    // Collections start at their smallest (ArrayDeque's default is 16 slots): most sessions are idle
    // and empty most of the time, and there are tens of thousands of them (issue 4).
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>(0);
    private final Set<Integer> inboundQos2 = new HashSet<>();
    private boolean overflowLogged;
    /** The next sequence number for a message kept in the replicated store. */
    private long nextSeq = 1;
    /** Something of this session went to the replicated store, so its end must remove it there. */
    private boolean stored;
    /**
     * Ids of the messages this session got since it moved here, while the move settles: until the
     * old owner has dropped its routes, a message may come both directly and relayed by it, and
     * must be delivered once (QoS 2 allows no duplicate). Null outside that window.
     */
    private java.util.LinkedHashSet<Long> recentIds;
    private long dedupeUntilNanos;
    private static final long DEDUPE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    private static final int DEDUPE_MAX = 100_000;

    /** The attached connection, or null while offline. */
    Channel channel;
    /** True between the session being claimed by a CONNECT and its CONNACK: QoS 0 is queued, not dropped. */
    boolean attaching;
    private OutboundAliases aliases;
    /**
     * The queue and inflight sizes last reported to the node's gauges: each change is reported as a
     * difference, so the node's sums need no walk over every session, on whichever context, per scrape.
     */
    private int reportedQueued;
    private int reportedInflight;

    Session(String clientId, SessionRef ref, Services services) {
        this.clientId = clientId;
        this.ref = ref;
        this.services = services;
        this.inflight = new InflightWindow(services.config.maxInflight());
    }

    // ---- deliveries towards the client ----

    /** Accepts a message routed to this session; sends it now or queues it. */
    void deliver(Delivery d) {
        if (recentIds != null && isDuplicateDuringMove(d)) {
            d.accepted();
            return;
        }
        if (d.qos() == 0 && channel == null && !attaching) {
            // QoS 0 messages are not kept for offline clients (spec 3.1.2.4 leaves it to the server).
            services.metrics.dropped(DropReason.OFFLINE_QOS0);
            d.accepted();
            return;
        }
        int max = services.config.maxQueuedMessages();
        if (queue.size() >= max && d.qos() > 0 && d.acceptance() != null && (channel != null || attaching)
                && queue.size() < max * HELD_FACTOR) {
            // Backpressure, not loss: the client is online and reading, only slower than its
            // publishers. The message is queued beyond the limit and the publisher's PUBACK/PUBREC
            // waits until the queue is back under it; a publisher cannot have more than its
            // Receive Maximum waiting, so the excess is bounded by the publishers' windows.
            d = holdAcceptance(d);
        } else if (queue.size() >= max && overflowDrops(d, max)) {
            services.metrics.dropped(DropReason.QUEUE_FULL);
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
            services.store.saveDelivery(clientId, kept, 0, false).onComplete(ar -> kept.accepted());
            d = kept;
        } else {
            d.accepted();
        }
        queue.add(d);
        pump();
    }

    /**
     * Whether a message that finds the queue at mqtt.max-queued-messages is dropped (QoS 1/2 that
     * reach here cannot be held: offline, or past the backstop).
     */
    private boolean overflowDrops(Delivery d, int max) {
        if (d.qos() > 0 || channel == null) {
            return true;
        }
        if (channel.outbound().writable()) {
            return false; // written out at once
        }
        // QoS 0 flow control pauses the publishers once this backlog reaches its signal level, but
        // only after their current socket read (up to 64 KB of messages), which still arrives. For a
        // subscriber that keeps writing it is queued, up to QOS0_OVERSHOOT times the limit, so that
        // one that falls behind for a moment loses nothing; a stuck one's is dropped at the limit.
        return queue.size() >= max * QOS0_OVERSHOOT || !ref.holdsPublishers();
    }

    /**
     * How far past its pause level QoS 0 already read from paused publishers is kept: in the
     * session queue (times mqtt.max-queued-messages) and in the inbox in front of it (SessionRef).
     */
    static final int QOS0_OVERSHOOT = 10;

    /**
     * How far beyond mqtt.max-queued-messages an online session's queue may grow while publishers'
     * acknowledgements are held: a backstop against publishers that ignore Receive Maximum (MQTT
     * 3.1.1 has none); past it, messages are dropped. High enough for many publishers at once
     * (1,000 publishers with 32 messages in flight each fit), about 20 MB for 64-byte messages.
     */
    static final int HELD_FACTOR = 100;
    /** Acknowledgements held until the queue is under its limit again, oldest first. */
    private final ArrayDeque<io.starling.routing.Acceptance> held = new ArrayDeque<>(0);

    /**
     * The delivery with an acceptance that completes only when both the usual path has accepted it
     * (stored, when the session is persistent) and {@link #releaseHeld} let it go.
     */
    private Delivery holdAcceptance(Delivery d) {
        io.starling.routing.Acceptance gate = new io.starling.routing.Acceptance();
        gate.expect(); // the usual acceptance below
        gate.expect(); // the release
        Delivery original = d;
        gate.sealed().onComplete(ar -> original.accepted());
        held.add(gate);
        services.metrics.acceptanceHeld();
        return d.withAcceptance(gate);
    }

    /** Lets held acknowledgements go: all of them when {@code all}, else while the queue is under its limit. */
    private void releaseHeld(boolean all) {
        int max = services.config.maxQueuedMessages();
        while (!held.isEmpty() && (all || queue.size() < max + held.size())) {
            held.poll().done();
        }
    }

    private boolean isDuplicateDuringMove(Delivery d) {
        if (System.nanoTime() - dedupeUntilNanos > 0) {
            recentIds = null; // the move has settled
            return false;
        }
        if (!recentIds.add(d.message().id())) {
            log.debug("client {}: message {} came both directly and relayed during a move; delivered once", clientId,
                    d.message().id());
            return true;
        }
        if (recentIds.size() > DEDUPE_MAX) {
            recentIds.remove(recentIds.iterator().next());
        }
        return false;
    }

    /** Sends queued messages while the connection is writable and the inflight window has room. */
    void pump() {
        send();
        reportDepth();
    }

    /**
     * Reports what changed in the queue and the inflight window since the last report. Every path
     * that changes either ends in {@link #pump()} or calls this itself; it is two comparisons when
     * nothing changed.
     */
    private void reportDepth() {
        int q = queue.size();
        int f = inflight.size();
        if (q != reportedQueued || f != reportedInflight) {
            services.metrics.sessionDepthChanged(q - reportedQueued, f - reportedInflight);
            reportedQueued = q;
            reportedInflight = f;
        }
        ref.sessionProgress(q, wroteSinceReport);
        wroteSinceReport = false;
    }

    /** Whether a PUBLISH went out since the last {@link #reportDepth}: QoS 0 flow control's sign of life. */
    private boolean wroteSinceReport;

    private void send() {
        if (channel == null || identifierBeingStored) {
            return;
        }
        Outbound out = channel.outbound();
        long now = System.currentTimeMillis();
        while (!queue.isEmpty() && out.writable()) {
            Delivery d = queue.peek();
            if (d.qos() > 0 && !inflight.hasRoom()) {
                break;
            }
            queue.poll();
            if (d.message().isExpired(now)) {
                // [MQTT-3.3.2-5] an expired message not yet sent is deleted.
                services.metrics.dropped(DropReason.EXPIRED);
                unstore(d);
                continue;
            }
            wroteSinceReport = true;
            if (d.qos() == 0) {
                sendPublish(d, 0, false, now);
                continue;
            }
            int id = ids.allocate();
            if (d.qos() == 2 && d.seq() > 0) {
                // QoS 2 is exactly once even if this node dies: a new owner must resend it with the
                // same packet identifier [MQTT-4.3.3], so that is backed up before the PUBLISH goes.
                sendAfterStoring(d, id);
                break;
            }
            if (sendPublish(d, id, false, now)) {
                inflight.add(id, d);
                if (d.seq() > 0) {
                    services.store.saveDelivery(clientId, d, id, false); // a new owner resends it with this id
                }
            } else {
                ids.release(id);
                unstore(d);
            }
        }
        if (!held.isEmpty()) {
            releaseHeld(false);
        }
        if (overflowLogged && queue.size() < services.config.maxQueuedMessages() / 2) {
            overflowLogged = false;
        }
    }

    /** True while the pump waits for a QoS 2 packet identifier to be backed up (order is kept, spec 4.6). */
    private boolean identifierBeingStored;

    private void sendAfterStoring(Delivery d, int id) {
        inflight.add(id, d);
        InflightWindow.Entry entry = inflight.get(id);
        entry.sent = false;
        identifierBeingStored = true;
        services.store.saveDelivery(clientId, d, id, false).onComplete(ar -> ref.post((SessionRef.Task) r -> {
            identifierBeingStored = false;
            if (inflight.get(id) == entry && !entry.sent && channel != null) {
                if (sendPublish(d, id, false, System.currentTimeMillis())) {
                    entry.sent = true;
                } else {
                    inflight.remove(id);
                    ids.release(id);
                    unstore(d);
                }
            }
            pump();
        }));
    }

    private boolean sendPublish(Delivery d, int packetId, boolean dup, long now) {
        Message m = d.message();
        String topic = m.topic();
        Properties props = Properties.EMPTY;
        int alias = 0;
        boolean newAlias = false;
        if (version.isV5()) {
            Long remaining = m.remainingExpirySeconds(now);
            alias = aliases.existing(topic);
            if (alias == 0) {
                alias = aliases.assign(topic);
                newAlias = alias != 0;
            } else {
                topic = ""; // spec 3.3.2.3.4: alias already known to the client: send it alone.
            }
            if (remaining != null || d.subscriptionIds().length > 0 || alias != 0) {
                props = Message.forwardedProperties(m.properties());
                if (props == Properties.EMPTY) {
                    props = new Properties();
                }
                // [MQTT-3.3.2-6] the expiry sent is what is left of it.
                props.messageExpiryInterval = remaining;
                for (int id : d.subscriptionIds()) {
                    props.addSubscriptionIdentifier(id);
                }
                props.topicAlias = alias == 0 ? null : alias;
            } else {
                props = m.properties();
            }
        }
        boolean sent = channel.outbound().send(new Publish(d.qos(), dup, d.retain(), topic, packetId, props, m.payload()));
        if (sent) {
            services.metrics.messageSent(d.qos());
            if (!dup) {
                services.metrics.delivered(m.receivedNanos()); // a resend would count the wait for the client
            }
        } else {
            if (newAlias) {
                aliases.forget(m.topic());
            }
            // [MQTT-3.1.2-25] too large for the client: discarded as if delivered.
            services.metrics.dropped(DropReason.TOO_LARGE);
            log.debug("client {}: message on {} exceeds the client's Maximum Packet Size; dropped", clientId, m.topic());
        }
        return sent;
    }

    void onPuback(int packetId) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e != null && e.delivery.qos() == 1) {
            inflight.remove(packetId);
            ids.release(packetId);
            unstore(e.delivery);
            pump();
        }
    }

    private static final io.vertx.core.Future<Integer> NO_PUBREL = io.vertx.core.Future.succeededFuture(-1);
    private static final io.vertx.core.Future<Integer> PUBREL_SUCCESS =
            io.vertx.core.Future.succeededFuture(ReasonCode.SUCCESS);
    private static final io.vertx.core.Future<Integer> PUBREL_NOT_FOUND =
            io.vertx.core.Future.succeededFuture(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);

    /**
     * @return the reason code for the PUBREL to send, or -1 when none is sent because the client
     *         refused the message (PUBREC with a reason code of 0x80 or above ends the flow). For a
     *         message in the replicated store the PUBREL waits until the PUBREC is backed up: once
     *         the client has the PUBREL it forgets the packet identifier, so a node adopting the
     *         session must know to send PUBREL, not the PUBLISH again [MQTT-4.3.3].
     */
    io.vertx.core.Future<Integer> onPubrec(int packetId, int reasonCode) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e == null || e.delivery.qos() != 2) {
            return PUBREL_NOT_FOUND;
        }
        if (reasonCode >= 0x80) {
            inflight.remove(packetId);
            ids.release(packetId);
            unstore(e.delivery);
            pump();
            return NO_PUBREL;
        }
        e.released = true;
        if (e.delivery.seq() > 0) {
            return services.store.saveDelivery(clientId, e.delivery, packetId, true).map(ReasonCode.SUCCESS);
        }
        return PUBREL_SUCCESS;
    }

    void onPubcomp(int packetId) {
        InflightWindow.Entry e = inflight.get(packetId);
        if (e != null && e.released) {
            inflight.remove(packetId);
            ids.release(packetId);
            unstore(e.delivery);
            pump();
        }
    }

    // ---- QoS 2 publishes from the client ----

    /** @return true the first time this identifier arrives (route it), false for a resend. */
    boolean inboundQos2Begin(int packetId) {
        return inboundQos2.add(packetId);
    }

    /**
     * Once a QoS 2 message is routed and accepted, its packet identifier is backed up before the
     * PUBREC: if this node dies, the node that gets the session knows that a resent PUBLISH with
     * it is not a new message [MQTT-4.3.3-2]. Not before routing: a resend must be routed if the
     * first attempt died with the node. Any thread may call the returned function.
     *
     * @return what the PUBREC waits for, or null when the session is not backed up
     */
    java.util.function.Function<Integer, io.vertx.core.Future<Integer>> inboundKeeper(int packetId) {
        if (!persistent()) {
            return null;
        }
        stored = true;
        SessionStore store = services.store;
        String id = clientId;
        return reached -> store.saveInbound(id, packetId).map(reached);
    }

    boolean inboundQos2Release(int packetId) {
        boolean known = inboundQos2.remove(packetId);
        if (known && stored) {
            services.store.removeInbound(clientId, packetId);
        }
        return known;
    }

    boolean inboundQos2Pending(int packetId) {
        return inboundQos2.contains(packetId);
    }

    int inboundQos2Count() {
        return inboundQos2.size();
    }

    // ---- subscriptions ----

    /** @return true when this filter was already subscribed (Retain Handling 1). */
    /** The latest write of the session's record, which a SUBACK waits for. */
    io.vertx.core.Future<Void> recordWritten = io.vertx.core.Future.succeededFuture();

    boolean subscribe(Subscription sub) {
        subscriptions.put(sub.filter().value(), sub);
        boolean existed = services.router.subscribe(ref, sub);
        recordWritten = ref.persistMeta();
        return existed;
    }

    boolean unsubscribe(TopicFilter filter) {
        boolean had = subscriptions.remove(filter.value()) != null;
        boolean existed = services.router.unsubscribe(clientId, filter) || had;
        ref.persistMeta();
        return existed;
    }

    // ---- the replicated store ----

    /** Kept with backups: the session outlives its connection and there is a node to back up to. */
    boolean persistent() {
        return expirySeconds > 0 && services.store.active();
    }

    /** What the store keeps besides the messages: expiry, subscriptions, the pending will. */
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
        for (int id : inboundQos2) {
            services.store.saveInbound(clientId, id);
        }
        for (InflightWindow.Entry e : inflight.inOrder()) {
            if (e.delivery.seq() == 0) {
                e.delivery = e.delivery.withSeq(nextSeq++);
            }
            services.store.saveDelivery(clientId, e.delivery, e.packetId, e.released);
        }
        int n = queue.size();
        for (int i = 0; i < n; i++) {
            Delivery d = queue.poll();
            if (d.qos() > 0) {
                if (d.seq() == 0) {
                    d = d.withSeq(nextSeq++);
                }
                services.store.saveDelivery(clientId, d, 0, false);
            }
            queue.add(d);
        }
    }

    private void unstore(Delivery d) {
        if (d.seq() > 0) {
            services.store.removeDelivery(clientId, d.seq());
        }
    }

    // ---- connection lifecycle ----

    /** Binds a new connection: resends what is in flight, in order and with DUP [MQTT-4.4.0-1]. */
    void attach(Channel ch) {
        channel = ch;
        attaching = false;
        version = ch.version();
        aliases = new OutboundAliases(ch.clientTopicAliasMaximum());
        inflight.setCapacity(Math.min(ch.clientReceiveMaximum(), services.config.maxInflight()));
        long now = System.currentTimeMillis();
        Iterator<InflightWindow.Entry> it = inflight.inOrder().iterator();
        while (it.hasNext()) {
            InflightWindow.Entry e = it.next();
            if (e.released) {
                ch.outbound().send(Ack.of(PacketType.PUBREL, e.packetId, ReasonCode.SUCCESS));
            } else if (sendPublish(e.delivery, e.packetId, e.sent, now)) {
                e.sent = true; // [MQTT-3.3.1-1] DUP only on a re-delivery
            } else {
                it.remove();
                ids.release(e.packetId);
                unstore(e.delivery);
            }
        }
        pump();
    }

    /** The connection went away; shared-subscription messages not yet delivered go to another member. */
    void detach() {
        channel = null;
        releaseHeld(true); // an offline session keeps what it has; its publishers must not wait for its return
        aliases = null;
        returnSharedDeliveries(true);
        reportDepth();
    }

    /** The session ends (expiry, or a clean start replaced it): its state is discarded. */
    void end() {
        returnSharedDeliveries(false);
        for (Subscription s : subscriptions.values()) {
            services.router.unsubscribe(clientId, s.filter());
        }
        subscriptions.clear();
        int lost = queue.size() + inflight.size();
        for (int i = 0; i < lost; i++) {
            services.metrics.dropped(DropReason.SESSION_ENDED);
        }
        queue.clear();
        inflight.clear();
        inboundQos2.clear();
        releaseHeld(true);
        reportDepth();
        if (stored || services.store.active()) {
            services.vertx.executeBlocking(() -> {
                services.store.removeSession(clientId);
                return null;
            }, false);
        }
    }

    /**
     * Spec 4.8.2: a message of a shared subscription that its member did not acknowledge goes to
     * another member. QoS 2 messages already PUBREC'd stay: the client has them.
     */
    private void returnSharedDeliveries(boolean sessionLivesOn) {
        List<Delivery> back = new ArrayList<>();
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
            if (d.sharedFilter() != null) {
                unstore(d);
                back.add(d.withSeq(0));
                return true;
            }
            return false;
        });
        for (Delivery d : back) {
            // With no other member, a session that lives on keeps the message for its own return.
            if (!services.router.redeliverShared(d, clientId, sessionLivesOn ? ref : null)) {
                services.metrics.dropped(DropReason.SESSION_ENDED);
            }
        }
    }

    /**
     * Hands the session's messages over to another node (a takeover there): what is in flight, queued
     * and QoS 2 received leaves this session, which keeps only its subscriptions until released.
     */
    SessionState export() {
        List<SessionState.Inflight> sent = new ArrayList<>(inflight.size());
        for (InflightWindow.Entry e : inflight.inOrder()) {
            sent.add(new SessionState.Inflight(e.packetId, e.released, e.delivery));
        }
        SessionState st = new SessionState(expirySeconds, new ArrayList<>(subscriptions.values()), sent,
                new ArrayList<>(queue), new ArrayList<>(inboundQos2), null);
        for (SessionState.Inflight i : sent) {
            ids.release(i.packetId());
        }
        inflight.clear();
        queue.clear();
        releaseHeld(true);
        inboundQos2.clear();
        reportDepth();
        return st;
    }

    /** Takes over a session from another node: its flows continue here with the same packet identifiers. */
    void importState(SessionState st) {
        for (SessionState.Inflight i : st.inflight()) {
            ids.claim(i.packetId());
            inflight.add(i.packetId(), i.delivery());
            inflight.get(i.packetId()).released = i.released();
        }
        queue.addAll(st.queued());
        inboundQos2.addAll(st.inboundQos2());
        for (SessionState.Inflight i : st.inflight()) {
            nextSeq = Math.max(nextSeq, i.delivery().seq() + 1);
        }
        for (Delivery d : st.queued()) {
            nextSeq = Math.max(nextSeq, d.seq() + 1);
        }
        stored |= nextSeq > 1 || !inboundQos2.isEmpty();
        recentIds = new java.util.LinkedHashSet<>();
        dedupeUntilNanos = System.nanoTime() + DEDUPE_NANOS;
        st.inflight().forEach(i -> recentIds.add(i.delivery().message().id()));
        st.queued().forEach(d -> recentIds.add(d.message().id()));
        for (Subscription s : st.subscriptions()) {
            subscribe(s);
        }
        reportDepth();
    }

    int queued() {
        return queue.size();
    }

    int inflightCount() {
        return inflight.size();
    }
}
