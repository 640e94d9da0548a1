package io.starling.cluster.registry;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Which node owns each client identifier, cluster-wide: the Hazelcast map {@value #MAP}, whose
 * value is {@code node|epoch}. A CONNECT claims its identifier for the node it arrived on and
 * learns the previous owner, which must hand the session over [MQTT-3.1.4-3]. Each claim gets the
 * next epoch for its identifier, atomically on the key's partition, so simultaneous connects on
 * several nodes are totally ordered: the highest epoch wins, and a node asked for the session by
 * an older claim than its own answers that the request is stale. Not on the publish path: one call
 * per CONNECT and per session end.
 */
public final class ClientRegistry {
    public static final String MAP = "starling.clients";

    /** The outcome of a claim: the node that owned the identifier before (or null) and this claim's epoch. */
    public record Claim(String previousOwner, long epoch) {
    }

    private final IMap<String, String> owners;
    private final String localNode;
    /** Whether another node is, or ever was, a member: until then claims stay in this process. */
    private final BooleanSupplier clustered;
    /**
     * A node that has only ever been alone claims identifiers here, epoch by identifier, with no
     * Hazelcast call per CONNECT (issue 9): a CONNECT then attaches at once, and the SUBSCRIBE a
     * client pipelined after it is in force as soon as it is read. Once a peer joins, the map is
     * the truth for good: each session puts its claim there ({@link #reconcileOwner}), and a node
     * left alone after its peers died keeps using the map, which holds their sessions' owners.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> localClaims =
            new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean everClustered;

    /** A registry that always uses the map. */
    public ClientRegistry(IMap<String, String> owners, String localNode) {
        this(owners, localNode, () -> true);
    }

    /** @param clustered true while this node has peers; the first time it is, the map takes over for good */
    public ClientRegistry(IMap<String, String> owners, String localNode, BooleanSupplier clustered) {
        this.owners = owners;
        this.localNode = localNode;
        this.clustered = clustered;
    }

    private boolean local() {
        if (everClustered) {
            return false;
        }
        if (clustered.getAsBoolean()) {
            everClustered = true;
            localClaims.clear();
            return false;
        }
        return true;
    }

    /**
     * Runs a completion on the Hazelcast thread that completed the operation. Without it Hazelcast
     * hands every callback to its default async executor, which on a machine of 2 cores or fewer
     * (common pool parallelism 1) starts a new thread per callback, twice per claim: that thread
     * churn, on the partition threads, limited a single node to ~750 connects/s (issue 4).
     * Only {@link #deliver} runs on it, which never blocks.
     */
    private static final Executor ON_COMPLETING_THREAD = Runnable::run;

    /**
     * Makes this node the owner of {@code clientId}; the result is delivered on {@code context}, or
     * is complete at once on a node that has only ever been alone.
     */
    public Future<Claim> claim(String clientId, Context context) {
        if (local()) {
            boolean[] existed = new boolean[1];
            long epoch = localClaims.compute(clientId, (k, e) -> {
                existed[0] = e != null;
                return e == null ? 1L : e + 1;
            });
            return Future.succeededFuture(new Claim(existed[0] ? localNode : null, epoch));
        }
        return deliver(owners.submitToKey(clientId, new ClaimProcessor(localNode)), ClientRegistry::parseClaim, context);
    }

    /** As {@link #claim(String, Context)}, delivered on a Hazelcast thread: listeners must not block. */
    public Future<Claim> claim(String clientId) {
        return claim(clientId, null);
    }

    /**
     * Takes {@code clientId} over from a node that left, only if that node still owns it, so that
     * of the members that find the session, one adopts it. Blocking.
     *
     * @return the new epoch, or -1 when another node owns it by now
     */
    public long claimIfOwnedBy(String clientId, String leftNode) {
        return owners.executeOnKey(clientId, new ClaimIfOwnedProcessor(localNode, leftNode));
    }

    /** As {@link #claimIfOwnedBy}, without blocking; the result arrives on a Hazelcast thread. */
    public Future<Long> claimIfOwnedByAsync(String clientId, String leftNode) {
        return deliver(owners.submitToKey(clientId, new ClaimIfOwnedProcessor(localNode, leftNode)), v -> v, null);
    }

    /**
     * Every identifier owned by one of {@code nodes} (nodes that left), with its owner, from every
     * partition of the cluster. A query of the whole map, not of this member's local keys: while
     * partitions migrate after a death, a key can leave one member before another's local query
     * and reach it after, and then no member found it (RepeatedFailoverIT: a subscriber's session
     * adopted by nobody, its messages lost until its client came back). Blocking.
     */
    public java.util.Map<String, String> ownedByAny(java.util.Set<String> nodes) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        if (nodes.isEmpty()) {
            return out;
        }
        for (Map.Entry<String, String> e : owners.entrySet(new OwnedByAny(new java.util.HashSet<>(nodes)))) {
            out.put(e.getKey(), nodeOf(e.getValue()));
        }
        return out;
    }

    /**
     * A peer joined: puts this node's claim of {@code clientId} into the map if nobody has one, and
     * says who owns it now (another node after a healed partition). Delivered on {@code context}.
     */
    public Future<String> reconcileOwner(String clientId, Context context) {
        Long epoch = localClaims.get(clientId);
        return deliver(owners.submitToKey(clientId, new ClaimIfAbsentProcessor(localNode, epoch == null ? 0 : epoch)),
                ClientRegistry::nodeOf, context);
    }

    /** The node that owns {@code clientId} now, or null; the result is delivered on {@code context}. */
    public Future<String> owner(String clientId, Context context) {
        if (local()) {
            return Future.succeededFuture(localClaims.containsKey(clientId) ? localNode : null);
        }
        return deliver(owners.getAsync(clientId), v -> v == null ? null : nodeOf(v), context);
    }

    /** As {@link #owner(String, Context)}, delivered on a Hazelcast thread: listeners must not block. */
    public Future<String> owner(String clientId) {
        return owner(clientId, null);
    }

    /**
     * Completes with {@code convert} of the operation's result, on {@code context} (one hop from
     * the Hazelcast thread, as {@code runOnContext}), or right on the Hazelcast thread when null.
     */
    private static <V, T> Future<T> deliver(CompletionStage<V> op, Function<V, T> convert, Context context) {
        Promise<T> promise = Promise.promise();
        op.whenCompleteAsync((v, failure) -> {
            if (context == null) {
                complete(promise, v, failure, convert);
            } else {
                context.runOnContext(x -> complete(promise, v, failure, convert));
            }
        }, ON_COMPLETING_THREAD);
        return promise.future();
    }

    private static <V, T> void complete(Promise<T> promise, V value, Throwable failure, Function<V, T> convert) {
        if (failure != null) {
            promise.fail(failure);
            return;
        }
        T converted;
        try {
            converted = convert.apply(value);
        } catch (RuntimeException e) {
            promise.fail(e);
            return;
        }
        promise.complete(converted);
    }

    /** Gives up {@code clientId} if this node still owns it (its session ended here). */
    public void release(String clientId) {
        if (local()) {
            localClaims.remove(clientId);
            return;
        }
        owners.submitToKey(clientId, new ReleaseProcessor(localNode));
    }

    public String localNode() {
        return localNode;
    }

    private static Claim parseClaim(String result) {
        int bar = result.lastIndexOf('|');
        String previous = result.substring(0, bar);
        return new Claim(previous.isEmpty() ? null : previous, Long.parseLong(result.substring(bar + 1)));
    }

    private static long epochOf(String value) {
        return value == null ? 0 : Long.parseLong(value.substring(value.lastIndexOf('|') + 1));
    }

    private static String nodeOf(String value) {
        return value == null ? "" : value.substring(0, value.lastIndexOf('|'));
    }

    /** Runs on the key's partition: sets {@code node|epoch+1}, returns {@code previousNode|newEpoch}. */
    static final class ClaimProcessor implements EntryProcessor<String, String, String> {
        private static final long serialVersionUID = 1L;
        private final String node;

        ClaimProcessor(String node) {
            this.node = node;
        }

        @Override
        public String process(Map.Entry<String, String> entry) {
            String old = entry.getValue();
            long epoch = epochOf(old) + 1;
            entry.setValue(node + "|" + epoch);
            return nodeOf(old) + "|" + epoch;
        }
    }

    /** Claims the identifier only from {@code leftNode}: returns the new epoch, or -1. */
    static final class ClaimIfOwnedProcessor implements EntryProcessor<String, String, Long> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final String leftNode;

        ClaimIfOwnedProcessor(String node, String leftNode) {
            this.node = node;
            this.leftNode = leftNode;
        }

        @Override
        public Long process(Map.Entry<String, String> entry) {
            String old = entry.getValue();
            if (old == null || !nodeOf(old).equals(leftNode)) {
                return -1L;
            }
            long epoch = epochOf(old) + 1;
            entry.setValue(node + "|" + epoch);
            return epoch;
        }
    }

    /**
     * A session recovered from this node's durable store at start-up: it is registered to the
     * incarnation that wrote it, {@code formerNode}, with the epoch of its last claim, unless a
     * claim exists already (another node recovered or took it newer), so that the dead-node
     * adoption takes it over as from any node that died, and every later claim of the identifier
     * ranks above the recovered changes. Blocking.
     */
    public void recovered(String clientId, String formerNode, long epoch) {
        owners.executeOnKey(clientId, new ClaimIfAbsentProcessor(formerNode, epoch));
        localClaims.merge(clientId, epoch, Math::max);
    }

    /** The owner node of each of {@code clientIds} that has one. Blocking. */
    public java.util.Map<String, String> ownersOf(java.util.Set<String> clientIds) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        owners.getAll(clientIds).forEach((id, v) -> {
            if (v != null) {
                out.put(id, nodeOf(v));
            }
        });
        return out;
    }

    /** Entries owned by any of some nodes: evaluated where the entries are. */
    static final class OwnedByAny implements com.hazelcast.query.Predicate<String, String> {
        private static final long serialVersionUID = 1L;
        private final java.util.Set<String> nodes;

        OwnedByAny(java.util.Set<String> nodes) {
            this.nodes = nodes;
        }

        @Override
        public boolean apply(Map.Entry<String, String> entry) {
            return entry.getValue() != null && nodes.contains(nodeOf(entry.getValue()));
        }
    }

    /** Sets {@code node|epoch} if there is no entry (a claim made in memory before any peer); returns the value then. */
    static final class ClaimIfAbsentProcessor implements EntryProcessor<String, String, String> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final long epoch;

        ClaimIfAbsentProcessor(String node, long epoch) {
            this.node = node;
            this.epoch = epoch;
        }

        @Override
        public String process(Map.Entry<String, String> entry) {
            if (entry.getValue() == null) {
                entry.setValue(node + "|" + Math.max(1, epoch));
            }
            return entry.getValue();
        }
    }

    /** Removes the entry only if {@code node} still owns it; the epoch restarts, which is harmless then. */
    static final class ReleaseProcessor implements EntryProcessor<String, String, Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;

        ReleaseProcessor(String node) {
            this.node = node;
        }

        @Override
        public Boolean process(Map.Entry<String, String> entry) {
            if (entry.getValue() != null && nodeOf(entry.getValue()).equals(node)) {
                entry.setValue(null);
                return true;
            }
            return false;
        }
    }
}
