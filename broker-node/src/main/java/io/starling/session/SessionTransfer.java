package io.starling.session;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.forwarding.WireStrings;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.routing.Delivery;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a session between nodes (issue 3, docs/adr/0004, 0010). The new node claims the client
 * identifier in the {@link ClientRegistry} and asks the previous owner to TAKE the session: the
 * owner closes the old connection (5.0: 0x8E), hands over the state and relays to the new node
 * whatever its routes still deliver, until the new node has its own routes in place and sends
 * RELEASE. Before the old owner drops its routes it asks every node for a FENCE, which each sends
 * behind everything it forwarded to the old owner: once all fences are in, nothing routed the old
 * way is still on its way, and RELAY_DONE, sent behind the last relayed message, lets the new
 * owner take what its own routes brought meanwhile, in order.
 */
final class SessionTransfer {
    private static final Logger log = LoggerFactory.getLogger(SessionTransfer.class);
    static final byte CHANNEL = 3;
    private static final byte TAKE = 1;
    private static final byte DELIVER = 2;
    private static final byte RELEASE = 3;
    private static final byte PUSH = 4;
    private static final byte FENCE_REQUEST = 5;
    private static final byte FENCE = 6;
    private static final byte RELAY_DONE = 7;
    /** A CONNECT waits at most this long for the previous owner; after that the session starts afresh. */
    private static final long TAKE_TIMEOUT_MS = 10_000;
    /** How long a release waits at most for the other nodes' fences (a node that died sends none). */
    private static final long FENCE_TIMEOUT_MS = 5_000;

    private final NodeLinks links;
    private final ClientRegistry clients;
    private final SessionRegistry registry;
    /** Sessions handed over from here whose routes still point here, by client identifier. */
    private final Map<String, SessionRef> relaying = new ConcurrentHashMap<>();
    /** Fence rounds waiting for answers: round id to the nodes that have not answered. */
    private final Map<Long, Fence> fences = new ConcurrentHashMap<>();
    private final AtomicLong fenceIds = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger relaysInFlight = new java.util.concurrent.atomic.AtomicInteger();

    private record Fence(Set<String> waiting, Promise<Void> done) {
    }

    SessionTransfer(NodeLinks links, ClientRegistry clients, SessionRegistry registry) {
        this.links = links;
        this.clients = clients;
        this.registry = registry;
        links.handle(CHANNEL, this::onMessage);
    }

    /** The owner of each of {@code clientIds} that has one. Blocking. */
    java.util.Map<String, String> ownersOf(Set<String> clientIds) {
        return clients.ownersOf(clientIds);
    }

    Set<String> peers() {
        return links.peers();
    }

    /** What the previous owner answered to TAKE. */
    enum Outcome { NONE, STATE, STALE }

    /**
     * The answer to TAKE: the session state when {@link Outcome#STATE}.
     *
     * @param adoptedFrom the dead node the old owner adopted the session from (null if none): it
     *     goes with the session, since messages on their way to that node are delivered, once its
     *     sessions are adopted, only to sessions adopted from it, wherever they moved since
     */
    record Taken(Outcome outcome, SessionState state, String adoptedFrom) {
    }

    /** Claims {@code clientId} for this node; the outcome arrives on {@code context}. */
    Future<ClientRegistry.Claim> claim(String clientId, io.vertx.core.Context context) {
        return clients.claim(clientId, context);
    }

    /** A peer joined: this node's claim goes into the registry if it has none; who owns it now, on {@code context}. */
    Future<String> reconcileOwner(String clientId, io.vertx.core.Context context) {
        return clients.reconcileOwner(clientId, context);
    }

    /** Claims the identifier from a node that left, only if that node still owns it: the new epoch, or -1. */
    Future<Long> claimIfOwnedBy(String clientId, String leftNode) {
        return clients.claimIfOwnedByAsync(clientId, leftNode);
    }

    /** Every identifier one of {@code nodes} owns, with its owner, from the whole cluster. Blocking. */
    java.util.Map<String, String> ownedByAny(Set<String> nodes) {
        return clients.ownedByAny(nodes);
    }

    String localNode() {
        return links.localNode();
    }

    void released(String clientId) {
        clients.release(clientId);
    }

    boolean isPeer(String node) {
        return links.peers().contains(node);
    }

    /** Asks {@code node} for the session on behalf of the claim with {@code epoch}. */
    Future<Taken> take(String node, String clientId, boolean cleanStart, long epoch) {
        Buffer body = Buffer.buffer().appendByte(TAKE).appendByte((byte) (cleanStart ? 1 : 0)).appendLong(epoch);
        WireStrings.append(body, clientId);
        return links.request(node, CHANNEL, body, TAKE_TIMEOUT_MS).map(b -> {
            Outcome o = Outcome.values()[b.getByte(0)];
            if (o != Outcome.STATE) {
                return new Taken(o, null, null);
            }
            int len = b.getInt(1);
            String adoptedFrom = len == 0 ? null : b.getString(5, 5 + len, "UTF-8");
            return new Taken(o, SessionState.decode(clientId, b.getBytes(5 + len, b.length())), adoptedFrom);
        });
    }

    static Buffer answer(Outcome outcome, SessionState state) {
        return answer(outcome, state, null);
    }

    static Buffer answer(Outcome outcome, SessionState state, String adoptedFrom) {
        Buffer b = Buffer.buffer().appendByte((byte) outcome.ordinal());
        if (state == null) {
            return b;
        }
        byte[] from = adoptedFrom == null ? new byte[0] : adoptedFrom.getBytes(StandardCharsets.UTF_8);
        return b.appendInt(from.length).appendBytes(from).appendBytes(state.encode());
    }

    /**
     * The old owner's routes found a message for a session that moved: it goes on to the new owner.
     * QoS 1/2 is a request, and the publisher is answered only once the new owner has accepted it
     * (issue 9): a frame still on its way when this node leaves or the link breaks must not have
     * been acknowledged. QoS 0 is one way.
     */
    Future<Void> relay(String node, String clientId, Delivery d) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            SessionState.writeDelivery(out, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Buffer body = Buffer.buffer().appendByte(DELIVER);
        WireStrings.append(body, clientId);
        body.appendBytes(bytes.toByteArray());
        if (d.qos() == 0) {
            links.send(node, CHANNEL, body);
            return Future.succeededFuture();
        }
        relaysInFlight.incrementAndGet();
        return links.request(node, CHANNEL, body, TAKE_TIMEOUT_MS).<Void>mapEmpty()
                .andThen(ar -> relaysInFlight.decrementAndGet());
    }

    /** The relay of {@code clientId} to {@code node} is complete: sent behind the last relayed message. */
    void relayDone(String node, String clientId) {
        Buffer body = Buffer.buffer().appendByte(RELAY_DONE);
        WireStrings.append(body, clientId);
        links.send(node, CHANNEL, body);
    }

    /** A leaving node gives its session to {@code node}; the future completes once that node has it. */
    Future<Void> push(String node, String clientId, SessionState state) {
        Buffer body = Buffer.buffer().appendByte(PUSH);
        WireStrings.append(body, clientId);
        return links.request(node, CHANNEL, body.appendBytes(state.encode()), TAKE_TIMEOUT_MS).mapEmpty();
    }

    /**
     * Sessions handed over from here whose new owner has not yet released the routes here, and
     * relayed messages it has not yet confirmed: a leaving node closes its links only after both
     * are done, or a relayed message would fail (its publisher refused) at the last moment.
     */
    int relayingCount() {
        return relaying.size() + relaysInFlight.get();
    }

    /** The new owner routes the session itself now; the old owner may drop its routes. */
    void release(String node, String clientId) {
        Buffer body = Buffer.buffer().appendByte(RELEASE);
        WireStrings.append(body, clientId);
        links.send(node, CHANNEL, body);
    }

    void startRelaying(String clientId, SessionRef ref) {
        relaying.put(clientId, ref);
    }

    void stopRelaying(String clientId, SessionRef ref) {
        relaying.remove(clientId, ref);
    }

    /**
     * Completes once every peer has sent a FENCE behind what it forwarded here before it got the
     * request (or left, or the bound ran out).
     */
    private Future<Void> fenced() {
        Set<String> peers = new HashSet<>(links.peers());
        if (peers.isEmpty()) {
            return Future.succeededFuture();
        }
        long id = fenceIds.incrementAndGet();
        Fence f = new Fence(ConcurrentHashMap.newKeySet(), Promise.promise());
        f.waiting().addAll(peers);
        fences.put(id, f);
        links.vertx().setTimer(FENCE_TIMEOUT_MS, t -> {
            if (fences.remove(id) != null && f.done().tryComplete()) {
                log.debug("fence {}: no answer from {} within {} ms", id, f.waiting(), FENCE_TIMEOUT_MS);
            }
        });
        Buffer request = Buffer.buffer().appendByte(FENCE_REQUEST).appendLong(id);
        for (String peer : peers) {
            if (!links.send(peer, CHANNEL, request)) {
                fenceAnswered(id, peer);
            }
        }
        return f.done().future();
    }

    private void fenceAnswered(long id, String from) {
        Fence f = fences.get(id);
        if (f != null && f.waiting().remove(from) && f.waiting().isEmpty() && fences.remove(id) != null) {
            f.done().tryComplete();
        }
    }

    /** A peer left: it will answer no fence. */
    void peerLeft(String node) {
        for (Long id : Set.copyOf(fences.keySet())) {
            fenceAnswered(id, node);
        }
    }

    private void onMessage(String from, Buffer body, NodeLinks.Reply reply) {
        byte op = body.getByte(0);
        int[] pos = {1};
        switch (op) {
            case TAKE -> {
                boolean cleanStart = body.getByte(1) == 1;
                long epoch = body.getLong(2);
                pos[0] = 10;
                String clientId = WireStrings.read(body, pos);
                SessionRef ref = registry.localRef(clientId);
                if (ref == null) {
                    reply.ok(answer(Outcome.NONE, null));
                } else {
                    ref.ownership.takeRequested(from, epoch, cleanStart, reply);
                }
            }
            case DELIVER -> {
                String clientId = WireStrings.read(body, pos);
                Delivery d;
                try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body.getBytes(pos[0], body.length())))) {
                    d = SessionState.readDelivery(in);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                SessionRef ref = registry.localRef(clientId);
                if (ref == null) {
                    log.debug("relayed message for {} found no session here", clientId);
                    if (reply != null) {
                        reply.ok(Buffer.buffer()); // nobody to hold it: the session is gone
                    }
                } else if (reply == null) {
                    ref.deliver(d.withVia(Delivery.RELAYED));
                } else {
                    io.starling.routing.Acceptance accepted = new io.starling.routing.Acceptance();
                    accepted.expect();
                    ref.deliver(d.withVia(Delivery.RELAYED).withAcceptance(accepted));
                    accepted.sealed().onComplete(ar -> {
                        if (ar.succeeded()) {
                            reply.ok(Buffer.buffer());
                        } else {
                            reply.fail(ar.cause().getMessage());
                        }
                    });
                }
            }
            case PUSH -> {
                String clientId = WireStrings.read(body, pos);
                SessionState state = SessionState.decode(clientId, body.getBytes(pos[0], body.length()));
                registry.arriving(clientId).post((SessionRef.Task) r -> r.ownership.pushed(state, from));
                reply.ok(Buffer.buffer());
            }
            case RELEASE -> {
                String clientId = WireStrings.read(body, pos);
                SessionRef ref = relaying.get(clientId);
                if (ref != null) {
                    fenced().onComplete(v -> ref.post((SessionRef.Task) r -> r.ownership.releaseRoutes()));
                }
            }
            case FENCE_REQUEST -> {
                // Behind everything this node sent to the requester on this link so far.
                links.send(from, CHANNEL, Buffer.buffer().appendByte(FENCE).appendLong(body.getLong(1)));
            }
            case FENCE -> fenceAnswered(body.getLong(1), from);
            case RELAY_DONE -> {
                String clientId = WireStrings.read(body, pos);
                SessionRef ref = registry.localRef(clientId);
                if (ref != null) {
                    ref.post((SessionRef.Task) r -> r.ownership.relayDone());
                }
            }
            default -> log.warn("session transfer from {}: unknown operation {}", from, op);
        }
    }
}
