package io.starling.cluster.registry;

import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Which node owns each client identifier, cluster-wide: the Hazelcast map {@value #MAP}. A CONNECT
 * claims its identifier for the node it arrived on and learns the previous owner, which must hand
 * the session over [MQTT-3.1.4-3]; the map serializes claims of one identifier, so of two
 * simultaneous connects on two nodes the second learns of the first and takes over from it.
 * Not on the publish path: one call per CONNECT and per session end.
 */
public final class ClientRegistry {
    public static final String MAP = "starling.clients";

    private final Vertx vertx;
    private final IMap<String, String> owners;
    private final String localNode;

    public ClientRegistry(Vertx vertx, IMap<String, String> owners, String localNode) {
        this.vertx = vertx;
        this.owners = owners;
        this.localNode = localNode;
    }

    /** Makes this node the owner of {@code clientId}; the future has the previous owner, or null. */
    public Future<String> claim(String clientId) {
        return Future.fromCompletionStage(owners.putAsync(clientId, localNode));
    }

    /** Gives up {@code clientId} if this node still owns it (its session ended here). */
    public void release(String clientId) {
        vertx.executeBlocking(() -> owners.remove(clientId, localNode), false);
    }

    public String localNode() {
        return localNode;
    }
}
