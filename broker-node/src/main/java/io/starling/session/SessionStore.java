package io.starling.session;

import com.hazelcast.map.IMap;
import com.hazelcast.partition.PartitionAware;
import com.hazelcast.query.Predicates;
import io.starling.routing.Delivery;
import io.vertx.core.Future;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/**
 * Persistent sessions kept where the loss of one node cannot take them (issue 3, docs/adr/0006):
 * the session's subscriptions, expiry and will in the Hazelcast map {@value #SESSIONS}, and each
 * QoS 1/2 message queued or in flight towards it in {@value #QUEUE}, both with the cluster's
 * backup count. The owning node keeps working from memory and writes here asynchronously; a
 * publisher's acknowledgement waits only for the message's own write.
 *
 * <p>Active only while there is another node to back up to: a single node writes nothing, so its
 * publish path makes no Hazelcast call (ADR 0003); when a node joins, sessions write themselves
 * out in full.
 */
final class SessionStore {
    static final String SESSIONS = "starling.sessions";
    static final String QUEUE = "starling.queue";

    /** A queued message's key: stored in its session's partition, so one session loads from one partition. */
    record QueueKey(String clientId, long seq) implements PartitionAware<String>, Serializable {
        @Override
        public String getPartitionKey() {
            return clientId;
        }
    }

    private final IMap<String, byte[]> sessions;
    private final IMap<QueueKey, byte[]> queue;
    private final BooleanSupplier active;
    private final BooleanSupplier clusterSafe;

    SessionStore(IMap<String, byte[]> sessions, IMap<QueueKey, byte[]> queue, BooleanSupplier active,
                 BooleanSupplier clusterSafe) {
        this.sessions = sessions;
        this.queue = queue;
        this.active = active;
        this.clusterSafe = clusterSafe;
    }

    boolean active() {
        return active.getAsBoolean();
    }

    Future<Void> saveMeta(String clientId, SessionState meta) {
        return Future.fromCompletionStage(sessions.setAsync(clientId, meta.encode()));
    }

    Future<Void> saveDelivery(String clientId, Delivery d, int packetId, boolean released) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeShort(packetId);
            out.writeBoolean(released);
            SessionState.writeDelivery(out, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Future.fromCompletionStage(queue.setAsync(new QueueKey(clientId, d.seq()), bytes.toByteArray()));
    }

    /** A QoS 2 PUBLISH received and not yet released, kept under the negative of its packet identifier. */
    Future<Void> saveInbound(String clientId, int packetId) {
        return Future.fromCompletionStage(queue.setAsync(new QueueKey(clientId, -packetId), new byte[0]));
    }

    void removeInbound(String clientId, int packetId) {
        queue.deleteAsync(new QueueKey(clientId, -packetId));
    }

    void removeDelivery(String clientId, long seq) {
        queue.deleteAsync(new QueueKey(clientId, seq));
    }

    /** The session ended: its record and messages go. Blocking: call it off the event loop. */
    void removeSession(String clientId) {
        sessions.delete(clientId);
        for (QueueKey k : keysOf(clientId)) {
            queue.deleteAsync(k);
        }
    }

    /** Waits (bounded) until Hazelcast has promoted the backups of a member that left. Blocking. */
    void awaitSafe() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (!clusterSafe.getAsBoolean() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
    }

    /** Client identifiers of the sessions whose primary copy this member holds. */
    Set<String> localSessions() {
        return sessions.localKeySet();
    }

    /**
     * The stored session, or null: its record with the messages in flight (those with a packet
     * identifier) and queued, in sequence order. Blocking: call it off the event loop.
     */
    SessionState load(String clientId) {
        byte[] meta = sessions.get(clientId);
        if (meta == null) {
            return null;
        }
        SessionState m = SessionState.decode(clientId, meta);
        Map<Long, byte[]> bySeq = new TreeMap<>();
        Collection<QueueKey> keys = keysOf(clientId);
        Map<QueueKey, byte[]> values = queue.getAll(Set.copyOf(keys));
        values.forEach((k, v) -> bySeq.put(k.seq(), v));
        List<SessionState.Inflight> inflight = new ArrayList<>();
        List<Delivery> queued = new ArrayList<>();
        List<Integer> inboundQos2 = new ArrayList<>();
        for (Long seq : new ArrayList<>(bySeq.keySet())) {
            if (seq < 0) {
                inboundQos2.add((int) -seq);
                bySeq.remove(seq);
            }
        }
        for (byte[] v : bySeq.values()) {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(v))) {
                int packetId = in.readUnsignedShort();
                boolean released = in.readBoolean();
                Delivery d = SessionState.readDelivery(in);
                if (packetId != 0) {
                    inflight.add(new SessionState.Inflight(packetId, released, d));
                } else {
                    queued.add(d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new SessionState(m.expirySeconds(), m.subscriptions(), inflight, queued, inboundQos2, m.will());
    }

    private List<QueueKey> keysOf(String clientId) {
        List<QueueKey> out = new ArrayList<>();
        for (QueueKey k : queue.keySet(Predicates.partitionPredicate(clientId, Predicates.alwaysTrue()))) {
            if (k.clientId().equals(clientId)) {
                out.add(k);
            }
        }
        return out;
    }
}
