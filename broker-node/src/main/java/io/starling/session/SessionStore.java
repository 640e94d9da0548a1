package io.starling.session;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.partition.PartitionAware;
import com.hazelcast.query.Predicates;
import io.starling.routing.Delivery;
import java.util.concurrent.CompletionStage;
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
 * backup count. The owning node keeps working from memory and writes here asynchronously, each
 * session's changes versioned by its {@link ReplicatedJournal}; a publisher's acknowledgement
 * waits only for the write that carries its message.
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
    private final java.util.concurrent.Executor blocking;

    SessionStore(IMap<String, byte[]> sessions, IMap<QueueKey, byte[]> queue, BooleanSupplier active,
                 java.util.concurrent.Executor blocking) {
        this.sessions = sessions;
        this.queue = queue;
        this.active = active;
        this.blocking = blocking;
    }

    boolean active() {
        return active.getAsBoolean();
    }

    /** How long a removed entry's tombstone stays: longer than Hazelcast retries an operation. */
    static final long TOMBSTONE_MS = 300_000;

    /** Writes (or with null, removes) the session's record if {@code version} is newer than what is stored. */
    CompletionStage<Boolean> writeRecord(String clientId, long version, byte[] record) {
        return sessions.submitToKey(clientId, new Versioned<>(version, record, 0));
    }

    /**
     * Writes (or with null, removes) one message entry of a session if {@code version} is newer;
     * a removed message's tombstone keeps {@code completedId}, the id of the message that was done.
     */
    CompletionStage<Boolean> writeEntry(String clientId, long seq, long version, byte[] value, long completedId) {
        return queue.submitToKey(new QueueKey(clientId, seq), new Versioned<>(version, value, completedId));
    }

    /**
     * A write that takes effect only if it is newer than the one stored (issue 9). Hazelcast
     * retries an operation whose member left or whose partition migrated, and the retry can land
     * after a later write of the same key: during failover that is when it happens, and a session
     * record written with no subscriptions after one with them had made an adopted session lose
     * every message after. Versions make the order of arrival irrelevant: each session's changes
     * carry increasing versions, above those of every earlier owner (the claim epoch leads). A
     * removal leaves a tombstone with its version for {@link #TOMBSTONE_MS}, so that a late older
     * write cannot bring the entry back. The same processor runs on the backups.
     */
    static final class Versioned<K> implements EntryProcessor<K, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final long version;
        private final byte[] value;
        private final long completedId;

        Versioned(long version, byte[] value, long completedId) {
            this.version = version;
            this.value = value;
            this.completedId = completedId;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Boolean process(Map.Entry<K, byte[]> entry) {
            byte[] old = entry.getValue();
            if (old != null && versionOf(old) >= version) {
                return Boolean.FALSE;
            }
            byte[] stored = new byte[9 + (value == null ? (completedId == 0 ? 0 : 8) : value.length)];
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(stored).putLong(version).put((byte) (value == null ? 1 : 0));
            if (value == null) {
                if (completedId != 0) {
                    b.putLong(completedId); // a copy republished after an adoption is known for what it is
                }
                ((com.hazelcast.map.ExtendedMapEntry<K, byte[]>) entry).setValue(stored, TOMBSTONE_MS,
                        java.util.concurrent.TimeUnit.MILLISECONDS);
            } else {
                System.arraycopy(value, 0, stored, 9, value.length);
                entry.setValue(stored);
            }
            return Boolean.TRUE;
        }
    }

    static long versionOf(byte[] stored) {
        return java.nio.ByteBuffer.wrap(stored).getLong();
    }

    /** The id of the message a tombstone says was done, or 0. */
    static long completedIdOf(byte[] stored) {
        return stored != null && stored[8] == 1 && stored.length >= 17 ? java.nio.ByteBuffer.wrap(stored, 9, 8).getLong() : 0;
    }

    /** The payload of a stored value, or null for a tombstone or no value. */
    static byte[] payloadOf(byte[] stored) {
        if (stored == null || stored[8] == 1) {
            return null;
        }
        return java.util.Arrays.copyOfRange(stored, 9, stored.length);
    }

    /** The stored form of a message queued (packet identifier 0) or in flight, PUBREC'd when {@code released}. */
    static byte[] encodeDelivery(Delivery d, int packetId, boolean released) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeShort(packetId);
            out.writeBoolean(released);
            SessionState.writeDelivery(out, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A QoS 2 PUBLISH received and not yet released is kept under the negative of its packet identifier. */
    static long inboundSeq(int packetId) {
        return -packetId;
    }

    /** Such an entry's value: the message's id, and whether its routing was accepted. */
    static byte[] encodeInbound(long messageId, boolean accepted) {
        return java.nio.ByteBuffer.allocate(9).putLong(messageId).put((byte) (accepted ? 1 : 0)).array();
    }

    static SessionState.Inbound decodeInbound(int packetId, byte[] value) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(value);
        return new SessionState.Inbound(packetId, b.getLong(), b.get() == 1);
    }

    /**
     * The session ended: its record and messages go (tombstones with {@code version}, so that a late
     * write of the session cannot bring it back). Blocking: finding its keys is a query.
     */
    void removeSession(String clientId, long version) {
        List<CompletionStage<Boolean>> all = new ArrayList<>();
        all.add(writeRecord(clientId, version, null));
        for (QueueKey k : keysOf(clientId)) {
            all.add(writeEntry(clientId, k.seq(), version, null, 0));
        }
        for (CompletionStage<Boolean> c : all) {
            c.toCompletableFuture().join();
        }
    }

    /** As {@link #removeSession}, on a worker thread. */
    CompletionStage<Void> removeSessionAsync(String clientId, long version) {
        return java.util.concurrent.CompletableFuture.runAsync(() -> removeSession(clientId, version), blocking);
    }

    /**
     * The stored session, or null: its record with the messages in flight (those with a packet
     * identifier) and queued, in sequence order. Blocking: call it off the event loop.
     */
    SessionState load(String clientId) {
        byte[] meta = payloadOf(sessions.get(clientId));
        if (meta == null) {
            return null;
        }
        SessionState m = SessionState.decode(clientId, meta);
        Map<Long, byte[]> bySeq = new TreeMap<>();
        Collection<QueueKey> keys = keysOf(clientId);
        Map<QueueKey, byte[]> values = queue.getAll(Set.copyOf(keys));
        List<Long> completed = new ArrayList<>(0);
        values.forEach((k, v) -> {
            byte[] payload = payloadOf(v);
            if (payload != null) {
                bySeq.put(k.seq(), payload);
            } else if (completedIdOf(v) != 0) {
                completed.add(completedIdOf(v));
            }
        });
        List<SessionState.Inflight> inflight = new ArrayList<>();
        List<Delivery> queued = new ArrayList<>();
        List<SessionState.Inbound> inboundQos2 = new ArrayList<>();
        for (Long seq : new ArrayList<>(bySeq.keySet())) {
            if (seq < 0) {
                inboundQos2.add(decodeInbound((int) -seq, bySeq.remove(seq)));
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
        return new SessionState(m.expirySeconds(), m.subscriptions(), inflight, queued, inboundQos2, m.will(), completed);
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
