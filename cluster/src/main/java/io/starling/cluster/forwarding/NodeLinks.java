package io.starling.cluster.forwarding;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's TCP links to the other nodes of the cluster, for forwarding messages and for the
 * requests that keep routes and sessions in step (docs/adr/0004).
 *
 * <p>Each node opens one connection to each peer and sends its one-way messages and requests on
 * it; the peer answers requests on the same connection. Everything one thread sends to one peer
 * arrives in that order, which is what keeps a publisher's messages in order across the hop
 * (spec 4.6). Handlers run on the event loop of the inbound connection and must not block.
 *
 * <p>A peer is known from {@link #connect} (membership joined) until {@link #disconnect}
 * (membership left). While its connection is down, frames wait in a buffer bounded in bytes and the link
 * reconnects; requests that were written to a connection that then broke fail with
 * {@link LinkLostException}, since nobody can tell whether the peer saw them.
 */
public final class NodeLinks {
    private static final Logger log = LoggerFactory.getLogger(NodeLinks.class);

    /** Serves one channel's one-way messages ({@code reply} is null) and requests. */
    @FunctionalInterface
    public interface Handler {
        void handle(String fromNode, Buffer body, Reply reply);
    }

    /** The answer to one request; exactly one of its methods is called, once. */
    public interface Reply {
        void ok(Buffer body);

        void fail(String reason);
    }

    private final Vertx vertx;
    private final String localNode;
    private final long maxBufferedBytes;
    private final Map<Byte, Handler> handlers = new ConcurrentHashMap<>();
    private final Map<String, PeerLink> peers = new ConcurrentHashMap<>();
    private final Map<NetSocket, InboundState> inbound = new ConcurrentHashMap<>();
    private final java.util.List<Consumer<String>> onLinkUp = new java.util.concurrent.CopyOnWriteArrayList<>();
    private NetServer server;
    private int port;
    /** Null: plain TCP. Replaced on a certificate renewal; new connections use the new one. */
    private volatile LinkTls tls;

    /** @param maxBufferedBytes bytes of frames per peer that may wait while its connection is down */
    public NodeLinks(Vertx vertx, String localNode, long maxBufferedBytes) {
        this(vertx, localNode, maxBufferedBytes, null);
    }

    /** @param tls mutual TLS for every link, in and out; null for plain TCP */
    public NodeLinks(Vertx vertx, String localNode, long maxBufferedBytes, LinkTls tls) {
        this.vertx = vertx;
        this.localNode = localNode;
        this.maxBufferedBytes = maxBufferedBytes;
        this.tls = tls;
    }

    /**
     * Renewed certificates (or CA bundle): new links in and out use them, established ones keep
     * theirs. Only for links that were started with TLS.
     */
    public Future<Void> updateTls(LinkTls renewed) {
        if (tls == null) {
            return Future.failedFuture(new IllegalStateException("the links run without TLS"));
        }
        tls = renewed;
        java.util.List<Future<?>> updates = new java.util.ArrayList<>();
        if (server != null) {
            updates.add(server.updateSSLOptions(renewed.serverOptions()));
        }
        for (PeerLink link : peers.values()) {
            updates.add(link.updateTls(renewed));
        }
        return Future.all(updates).mapEmpty();
    }

    public String localNode() {
        return localNode;
    }

    /** Registers the service for one channel; do it before {@link #listen}. */
    public void handle(byte channel, Handler handler) {
        handlers.put(channel, handler);
    }

    /** Adds a callback run (on some event loop) each time the connection to a peer is established or re-established. */
    public void onLinkUp(Consumer<String> callback) {
        onLinkUp.add(callback);
    }

    /** Binds the first free port from {@code firstPort} up to {@code firstPort + 99}. */
    public Future<Integer> listen(String host, int firstPort) {
        return tryListen(host, firstPort, firstPort + 99);
    }

    private Future<Integer> tryListen(String host, int p, int last) {
        NetServerOptions options = new NetServerOptions().setHost(host).setPort(p).setTcpNoDelay(true);
        LinkTls t = tls;
        NetServer s = vertx.createNetServer(t == null ? options : t.applyTo(options));
        s.connectHandler(this::accepted);
        if (t != null) {
            // A connection without a certificate from the cluster's CA never reaches connectHandler.
            s.exceptionHandler(e -> log.warn("link connection refused: TLS handshake failed: {}", e.getMessage()));
        }
        return s.listen().compose(bound -> {
            server = bound;
            port = bound.actualPort();
            return Future.succeededFuture(port);
        }, err -> p < last ? tryListen(host, p + 1, last) : Future.failedFuture(err));
    }

    public int port() {
        return port;
    }

    /** A peer joined (or is known at start): connect to it. Idempotent. */
    public void connect(String node, String host, int port) {
        if (node.equals(localNode)) {
            return;
        }
        peers.computeIfAbsent(node, n -> {
            PeerLink link = new PeerLink(vertx, localNode, n, host, port, maxBufferedBytes, tls, this::linkUp);
            link.start();
            return link;
        });
    }

    /** A peer left the cluster: its link closes and whatever waits on it fails. */
    public void disconnect(String node) {
        PeerLink link = peers.remove(node);
        if (link != null) {
            link.stop();
        }
        // Its connection to us goes too: frames it still sends must not re-add routes of a node that left.
        inbound.forEach((socket, state) -> {
            if (node.equals(state.peer)) {
                socket.close();
            }
        });
    }

    /** True while the connection to {@code node} is established. */
    public boolean isUp(String node) {
        PeerLink link = peers.get(node);
        return link != null && link.isUp();
    }

    public Vertx vertx() {
        return vertx;
    }

    public Set<String> peers() {
        return peers.keySet();
    }

    /** One-way message; dropped (and false returned) only when the peer is unknown or its buffer is full. */
    public boolean send(String node, byte channel, Buffer body) {
        PeerLink link = peers.get(node);
        return link != null && link.write(Frames.send(channel, body));
    }

    /** A request; the future fails if the peer is unknown, leaves, or the connection breaks first. */
    public Future<Buffer> request(String node, byte channel, Buffer body) {
        PeerLink link = peers.get(node);
        if (link == null) {
            return Future.failedFuture(new LinkLostException(node, "not a known peer"));
        }
        return link.request(channel, body);
    }

    /** A request only if the link to {@code node} is connected now; fails at once otherwise (nothing is buffered). */
    public Future<Buffer> requestIfUp(String node, byte channel, Buffer body) {
        PeerLink link = peers.get(node);
        if (link == null) {
            return Future.failedFuture(new LinkLostException(node, "not a known peer"));
        }
        return link.requestIfUp(channel, body);
    }

    /**
     * True while {@code node} reads slower than this node writes to it (the link's write queue is
     * above its high-water mark): senders of what may wait should wait, see {@link #whenWritable}.
     */
    public boolean congested(String node) {
        PeerLink link = peers.get(node);
        return link != null && link.congested();
    }

    /** Runs {@code then} once the link to {@code node} can take writes again (at once if it can, or if it is gone). */
    public void whenWritable(String node, Runnable then) {
        PeerLink link = peers.get(node);
        if (link == null) {
            then.run();
        } else {
            link.whenWritable(then);
        }
    }

    /** A request that also fails with {@link LinkLostException} if no answer comes within {@code timeoutMs}. */
    public Future<Buffer> request(String node, byte channel, Buffer body, long timeoutMs) {
        Future<Buffer> answer = request(node, channel, body);
        if (answer.isComplete()) {
            return answer;
        }
        Promise<Buffer> bounded = Promise.promise();
        long timer = vertx.setTimer(timeoutMs, t ->
                bounded.tryFail(new LinkLostException(node, "no answer within " + timeoutMs + " ms")));
        answer.onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.succeeded()) {
                bounded.tryComplete(ar.result());
            } else {
                bounded.tryFail(ar.cause());
            }
        });
        return bounded.future();
    }

    public Future<Void> close() {
        for (String node : Set.copyOf(peers.keySet())) {
            disconnect(node);
        }
        inbound.keySet().forEach(NetSocket::close);
        return server == null ? Future.succeededFuture() : server.close();
    }

    private void linkUp(String node) {
        for (Consumer<String> c : onLinkUp) {
            c.accept(node);
        }
    }

    // ---- inbound side: frames from a peer's link to us ----

    private void accepted(NetSocket socket) {
        InboundState state = new InboundState(socket);
        inbound.put(socket, state);
        Frames.Parser parser = new Frames.Parser(state::frame);
        socket.handler(data -> {
            try {
                parser.feed(data);
            } catch (RuntimeException e) {
                log.warn("link from {}: {}; closing", state.peer == null ? socket.remoteAddress() : state.peer, e.toString());
                socket.close();
            }
        });
        socket.closeHandler(v -> inbound.remove(socket));
        socket.exceptionHandler(e -> log.debug("link from {}: {}", state.peer, e.toString()));
    }

    /** One inbound connection: who it is from, and the dispatch of its frames. */
    private final class InboundState {
        final NetSocket socket;
        volatile String peer;

        InboundState(NetSocket socket) {
            this.socket = socket;
        }

        void frame(Buffer f) {
            byte kind = f.getByte(0);
            if (peer == null) {
                if (kind != Frames.HELLO) {
                    throw new IllegalStateException("first frame is not HELLO");
                }
                peer = new String(f.getBytes(1, f.length()), StandardCharsets.UTF_8);
                return;
            }
            if (kind == Frames.SEND) {
                Handler h = handler(f.getByte(1));
                if (h != null) {
                    try {
                        h.handle(peer, f.getBuffer(2, f.length()), null);
                    } catch (RuntimeException e) {
                        // Not the link's fault: closing it would lose the frames behind this one.
                        log.warn("link from {}: message on channel {} failed", peer, f.getByte(1), e);
                    }
                }
            } else if (kind == Frames.REQUEST) {
                long id = f.getLong(1);
                Handler h = handler(f.getByte(9));
                Reply reply = new SocketReply(socket, id);
                if (h == null) {
                    reply.fail("no handler for channel " + f.getByte(9));
                } else {
                    try {
                        h.handle(peer, f.getBuffer(10, f.length()), reply);
                    } catch (RuntimeException e) {
                        log.warn("link from {}: request on channel {} failed", peer, f.getByte(9), e);
                        reply.fail(e.toString());
                    }
                }
            } else {
                throw new IllegalStateException("unexpected frame kind " + kind);
            }
        }

        private Handler handler(byte channel) {
            Handler h = handlers.get(channel);
            if (h == null) {
                log.warn("link from {}: no handler for channel {}; ignored", peer, channel);
            }
            return h;
        }
    }

    private static final class SocketReply implements Reply {
        private final NetSocket socket;
        private final long id;
        private boolean done;

        SocketReply(NetSocket socket, long id) {
            this.socket = socket;
            this.id = id;
        }

        @Override
        public void ok(Buffer body) {
            answer(Frames.OK, body);
        }

        @Override
        public void fail(String reason) {
            answer(Frames.FAILED, Buffer.buffer(reason, "UTF-8"));
        }

        private synchronized void answer(byte status, Buffer body) {
            if (!done) {
                done = true;
                socket.write(Frames.response(id, status, body));
            }
        }
    }
}
