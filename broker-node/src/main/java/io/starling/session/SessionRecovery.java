package io.starling.session;

import io.starling.cluster.registry.ClientRegistry;
import io.starling.persistence.Change;
import io.starling.persistence.DurableStore;
import io.starling.persistence.Family;
import io.starling.persistence.JournalKeys;
import io.starling.persistence.StoredValue;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's sessions back from its durable store at start-up, before its listeners open (docs/adr/0016).
 * A restart is recovered as the death of the node's previous incarnation: its records go into the
 * shared session store through the same versioned writes as the journal's (the newest version wins,
 * whichever node brings it), its client ids are registered to that incarnation with the epoch of
 * their last claim, and the dead-node adoption takes them over (docs/adr/0010) onto this node:
 * routed, their timers and wills started. One code path for a failure and a restart.
 */
public final class SessionRecovery {
    private static final Logger log = LoggerFactory.getLogger(SessionRecovery.class);
    /** The incarnation that writes the store now: the next start recovers from it. */
    static final byte[] NODE_KEY = "node".getBytes(StandardCharsets.UTF_8);
    /** How many shared-store writes are in flight at most while loading. */
    private static final int WINDOW = 10_000;

    private SessionRecovery() {
    }

    /** What a start found in its store. */
    public record Recovered(String formerNode, int sessions, int entries) {
    }

    /**
     * Loads the store into the shared state and adopts its sessions; completes once they are
     * adopted (the node may open its listeners then).
     */
    public static Future<Recovered> recover(Services services, ClientRegistry clients, DurableStore store,
            String localNode) {
        return services.vertx.executeBlocking(() -> load(services, clients, store, localNode), false)
                .compose(r -> r.sessions() == 0 ? Future.succeededFuture(r)
                        : services.registry.recoveredFrom(r.formerNode()).map(v -> r))
                .onSuccess(r -> {
                    if (r.sessions() > 0) {
                        log.info("store: {} sessions with {} queued or in-flight messages recovered from {} (written by "
                                + "{})", r.sessions(), r.entries(), store.dir(), r.formerNode());
                    }
                });
    }

    private static Recovered load(Services services, ClientRegistry clients, DurableStore store, String localNode) {
        StoredValue node = store.get(Family.META, NODE_KEY);
        String former = node == null || node.isTombstone() ? null : new String(node.value(), StandardCharsets.UTF_8);
        // From now on the records are this incarnation's.
        store.write(List.of(Change.put(Family.META, NODE_KEY, node == null ? 1 : node.version() + 1,
                localNode.getBytes(StandardCharsets.UTF_8))), true, System.currentTimeMillis());
        Map<String, Long> epochs = new HashMap<>();
        List<CompletionStage<?>> writes = new ArrayList<>();
        store.scan(Family.SESSIONS, (key, v) -> {
            if (!v.isTombstone()) {
                String clientId = new String(key, StandardCharsets.UTF_8);
                epochs.put(clientId, ReplicatedJournal.epochOf(v.version()));
                writes.add(services.store.writeRecord(clientId, v.version(), v.value()));
                drain(writes);
            }
        });
        int[] entries = {0};
        store.scan(Family.ENTRIES, (key, v) -> {
            String clientId = JournalKeys.clientIdOf(key);
            if (!v.isTombstone() && epochs.containsKey(clientId)) {
                writes.add(services.store.writeEntry(clientId, JournalKeys.seqOf(key), v.version(), v.value(), 0));
                entries[0]++;
                drain(writes);
            }
        });
        writes.forEach(w -> w.toCompletableFuture().join());
        if (!epochs.isEmpty() && former == null) {
            former = "node-unknown"; // records without the incarnation that wrote them: still adopted
        }
        for (Map.Entry<String, Long> e : epochs.entrySet()) {
            clients.recovered(e.getKey(), former, e.getValue());
        }
        return new Recovered(former, epochs.size(), entries[0]);
    }

    private static void drain(List<CompletionStage<?>> writes) {
        if (writes.size() >= WINDOW) {
            writes.forEach(w -> w.toCompletableFuture().join());
            writes.clear();
        }
    }
}
