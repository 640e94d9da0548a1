package io.starling.session;

import io.starling.cluster.forwarding.NodeLinks;
import io.starling.cluster.registry.ClientRegistry;
import io.starling.routing.Delivery;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a session between nodes when its client connects to another node (issue 3, docs/adr/0004).
 * The new node claims the client identifier in the {@link ClientRegistry} and asks the previous
 * owner to TAKE the session: the owner closes the old connection (5.0: 0x8E), hands over the
 * state and relays to the new node whatever its routes still deliver, until the new node has its
 * own routes in place and sends RELEASE. So nothing routed during the move is lost.
 */
final class SessionTransfer {
    private static final Logger log = LoggerFactory.getLogger(SessionTransfer.class);
    static final byte CHANNEL = 3;
    private static final byte TAKE = 1;
    private static final byte DELIVER = 2;
    private static final byte RELEASE = 3;
    private static final byte PUSH = 4;
    /** A CONNECT waits at most this long for the previous owner; after that the session starts afresh. */
    private static final long TAKE_TIMEOUT_MS = 10_000;

    private final NodeLinks links;
    private final ClientRegistry clients;
    private final SessionRegistry registry;
    /** Sessions handed over from here whose routes still point here, by client identifier. */
    private final Map<String, SessionRef> relaying = new ConcurrentHashMap<>();

    SessionTransfer(NodeLinks links, ClientRegistry clients, SessionRegistry registry) {
        this.links = links;
        this.clients = clients;
        this.registry = registry;
        links.handle(CHANNEL, this::onRequest);
    }

    String localNode() {
        return links.localNode();
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

    /** The node owning {@code clientId}; the answer arrives on {@code context}. */
    Future<String> owner(String clientId, io.vertx.core.Context context) {
        return clients.owner(clientId, context);
    }

    long claimIfOwnedBy(String clientId, String leftNode) {
        return clients.claimIfOwnedBy(clientId, leftNode);
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
        appendString(body, clientId);
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
        byte[] from = adoptedFrom == null ? new byte[0] : adoptedFrom.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return b.appendInt(from.length).appendBytes(from).appendBytes(state.encode());
    }

    /** The old owner's routes found a message for a session that moved: it goes on to the new owner. */
    void relay(String node, String clientId, Delivery d) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            SessionState.writeDelivery(out, d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Buffer body = Buffer.buffer().appendByte(DELIVER);
        appendString(body, clientId);
        links.send(node, CHANNEL, body.appendBytes(bytes.toByteArray()));
    }

    /** A leaving node gives its session to {@code node}; the future completes once that node has it. */
    Future<Void> push(String node, String clientId, SessionState state) {
        Buffer body = Buffer.buffer().appendByte(PUSH);
        appendString(body, clientId);
        return links.request(node, CHANNEL, body.appendBytes(state.encode()), TAKE_TIMEOUT_MS).mapEmpty();
    }

    int relayingCount() {
        return relaying.size();
    }

    /** The new owner routes the session itself now; the old owner may drop its routes. */
    void release(String node, String clientId) {
        Buffer body = Buffer.buffer().appendByte(RELEASE);
        appendString(body, clientId);
        links.send(node, CHANNEL, body);
    }

    void startRelaying(String clientId, SessionRef ref) {
        relaying.put(clientId, ref);
    }

    void stopRelaying(String clientId, SessionRef ref) {
        relaying.remove(clientId, ref);
    }

    private void onRequest(String from, Buffer body, NodeLinks.Reply reply) {
        byte op = body.getByte(0);
        if (op == TAKE) {
            boolean cleanStart = body.getByte(1) == 1;
            long epoch = body.getLong(2);
            int[] pos = {10};
            String clientId = readString(body, pos);
            SessionRef ref = registry.localRef(clientId);
            if (ref == null) {
                reply.ok(answer(Outcome.NONE, null));
            } else {
                ref.takeRequested(from, epoch, cleanStart, reply);
            }
        } else if (op == DELIVER) {
            int[] pos = {1};
            String clientId = readString(body, pos);
            Delivery d;
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body.getBytes(pos[0], body.length())))) {
                d = SessionState.readDelivery(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            SessionRef ref = registry.localRef(clientId);
            if (ref != null) {
                ref.deliver(d);
            } else {
                log.debug("relayed message for {} found no session here", clientId);
            }
        } else if (op == PUSH) {
            int[] pos = {1};
            String clientId = readString(body, pos);
            SessionState state = SessionState.decode(clientId, body.getBytes(pos[0], body.length()));
            registry.adopt(clientId).post((SessionRef.Task) r -> r.adopt(state, from));
            reply.ok(Buffer.buffer());
        } else if (op == RELEASE) {
            int[] pos = {1};
            String clientId = readString(body, pos);
            SessionRef ref = relaying.get(clientId);
            if (ref != null) {
                ref.post((SessionRef.Task) SessionRef::releaseRoutes);
            }
        }
    }

    private static void appendString(Buffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.appendInt(bytes.length).appendBytes(bytes);
    }

    private static String readString(Buffer b, int[] pos) {
        int len = b.getInt(pos[0]);
        String s = new String(b.getBytes(pos[0] + 4, pos[0] + 4 + len), StandardCharsets.UTF_8);
        pos[0] += 4 + len;
        return s;
    }
}
