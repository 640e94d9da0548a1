package io.starling.cluster.forwarding;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbound connection to one peer. Any thread may write; frames written by one thread go out
 * in that order. Before the first connection and between reconnects, frames wait in a bounded
 * buffer and are written, in order, as soon as a connection is up.
 */
final class PeerLink {
    private static final Logger log = LoggerFactory.getLogger(PeerLink.class);
    private static final long RECONNECT_MS = 500;

    /** A request that waits in the buffer for a connection. */
    private record Waiting(Buffer frame, long id, Promise<Buffer> promise) {
    }

    private final Vertx vertx;
    private final String localNode;
    private final String node;
    private final String host;
    private final int port;
    /** Bytes of frames that may wait for a connection. */
    private final long maxBufferedBytes;
    private long bufferedBytes; // guarded by lock
    private final Consumer<String> onUp;
    private final AtomicLong ids = new AtomicLong();
    private final Object lock = new Object();
    private final ArrayDeque<Object> buffered = new ArrayDeque<>(); // Buffer or Waiting; guarded by lock
    private volatile Connection current;
    private volatile boolean stopped;
    private NetClient client;
    /** Null: plain TCP. */
    private final LinkTls tls;
    private boolean overflowLogged;
    private volatile boolean tlsFailureLogged;

    PeerLink(Vertx vertx, String localNode, String node, String host, int port, long maxBufferedBytes,
             LinkTls tls, Consumer<String> onUp) {
        this.tls = tls;
        this.vertx = vertx;
        this.localNode = localNode;
        this.node = node;
        this.host = host;
        this.port = port;
        this.maxBufferedBytes = maxBufferedBytes;
        this.onUp = onUp;
    }

    boolean isUp() {
        return current != null;
    }

    void start() {
        NetClientOptions options = new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(5000);
        client = vertx.createNetClient(tls == null ? options : tls.applyTo(options));
        connect();
    }

    private void connect() {
        if (stopped) {
            return;
        }
        client.connect(port, host).onComplete(ar -> {
            if (ar.failed()) {
                if (ar.cause() instanceof javax.net.ssl.SSLException && !tlsFailureLogged) {
                    // Mismatched certificates do not mend by retrying: say so once, not every retry.
                    tlsFailureLogged = true;
                    log.warn("link to {} at {}:{}: TLS handshake failed ({}); retrying", node, host, port,
                            ar.cause().getMessage());
                }
                log.debug("link to {} at {}:{}: {}; retrying", node, host, port, ar.cause().toString());
                retry();
                return;
            }
            NetSocket socket = ar.result();
            if (stopped) {
                socket.close();
                return;
            }
            Connection c = new Connection(socket);
            socket.write(Frames.hello(localNode));
            synchronized (lock) {
                bufferedBytes = 0;
                while (!buffered.isEmpty()) {
                    Object item = buffered.poll();
                    if (item instanceof Waiting w) {
                        c.request(w.id(), w.promise(), w.frame());
                    } else {
                        socket.write((Buffer) item);
                    }
                }
                overflowLogged = false;
                tlsFailureLogged = false;
                current = c;
            }
            log.info("link to {} at {}:{} is up", node, host, port);
            onUp.accept(node);
        });
    }

    /** Renewed certificates for the connections made from now on. */
    Future<Boolean> updateTls(LinkTls renewed) {
        NetClient c = client;
        return c == null ? Future.succeededFuture(false) : c.updateSSLOptions(renewed.clientOptions());
    }

    private void retry() {
        if (!stopped) {
            vertx.setTimer(RECONNECT_MS, t -> connect());
        }
    }

    void stop() {
        stopped = true;
        Connection c;
        synchronized (lock) {
            c = current;
            current = null;
            for (Object item : buffered) {
                if (item instanceof Waiting w) {
                    w.promise().tryFail(new LinkLostException(node, "peer left the cluster"));
                }
            }
            buffered.clear();
            bufferedBytes = 0;
        }
        if (c != null) {
            c.lost("peer left the cluster");
            c.socket.close();
        }
        if (client != null) {
            client.close();
        }
    }

    /** @return false when the frame was dropped: the link is stopped or its buffer is full */
    boolean write(Buffer frame) {
        Connection c = current;
        if (c != null) {
            c.socket.write(frame);
            return true;
        }
        synchronized (lock) {
            c = current;
            if (c != null) {
                c.socket.write(frame);
                return true;
            }
            return buffer(frame);
        }
    }

    Future<Buffer> request(byte channel, Buffer body) {
        long id = ids.incrementAndGet();
        Buffer frame = Frames.request(id, channel, body);
        Promise<Buffer> promise = Promise.promise();
        Connection c = current;
        if (c == null) {
            synchronized (lock) {
                c = current;
                if (c == null) {
                    if (!buffer(new Waiting(frame, id, promise))) {
                        promise.fail(new LinkLostException(node, stopped ? "peer left" : "buffer full"));
                    }
                    return promise.future();
                }
            }
        }
        c.request(id, promise, frame);
        return promise.future();
    }

    private boolean buffer(Object item) {
        if (stopped) {
            return false;
        }
        int size = item instanceof Waiting w ? w.frame().length() : ((Buffer) item).length();
        if (bufferedBytes + size > maxBufferedBytes) {
            if (!overflowLogged) {
                overflowLogged = true;
                log.warn("link to {}: {} bytes of frames wait for the connection; further frames are dropped", node,
                        bufferedBytes);
            }
            return false;
        }
        bufferedBytes += size;
        buffered.add(item);
        return true;
    }

    /**
     * A request only if the connection is up now: fails at once otherwise, instead of waiting in
     * the buffer. For a sender that keeps its own order across a reconnect (the forwarder): a
     * buffered request would go out on reconnect ahead of the ones it resends.
     */
    Future<Buffer> requestIfUp(byte channel, Buffer body) {
        Connection c = current;
        if (c == null) {
            return Future.failedFuture(new LinkLostException(node, "not connected"));
        }
        long id = ids.incrementAndGet();
        Promise<Buffer> promise = Promise.promise();
        c.request(id, promise, Frames.request(id, channel, body));
        return promise.future();
    }

    /** True while the connection's write queue is above its high-water mark: the peer reads slower than we write. */
    boolean congested() {
        Connection c = current;
        return c != null && c.socket.writeQueueFull();
    }

    /** Runs {@code then} once the connection's write queue has room again (at once if it has). */
    void whenWritable(Runnable then) {
        Connection c = current;
        if (c == null || !c.socket.writeQueueFull()) {
            then.run();
        } else {
            c.drainWaiters.add(then);
        }
    }

    /** One TCP connection; its requests fail when it breaks, since the peer may not have seen them. */
    private final class Connection {
        final NetSocket socket;
        final Map<Long, Promise<Buffer>> pending = new ConcurrentHashMap<>();
        volatile boolean closed;

        final java.util.concurrent.ConcurrentLinkedQueue<Runnable> drainWaiters = new java.util.concurrent.ConcurrentLinkedQueue<>();

        Connection(NetSocket socket) {
            this.socket = socket;
            socket.drainHandler(v -> {
                Runnable r;
                while (!socket.writeQueueFull() && (r = drainWaiters.poll()) != null) {
                    r.run();
                }
            });
            Frames.Parser parser = new Frames.Parser(this::response);
            socket.handler(data -> {
                try {
                    parser.feed(data);
                } catch (RuntimeException e) {
                    log.warn("link to {}: {}; closing", node, e.toString());
                    socket.close();
                }
            });
            socket.exceptionHandler(e -> log.debug("link to {}: {}", node, e.toString()));
            socket.closeHandler(v -> {
                Runnable r;
                while ((r = drainWaiters.poll()) != null) {
                    r.run(); // nothing waits for a connection that is gone
                }
                synchronized (lock) {
                    if (current == this) {
                        current = null;
                    }
                }
                lost("connection closed");
                if (!stopped) {
                    log.info("link to {} at {}:{} closed; reconnecting", node, host, port);
                    retry();
                }
            });
        }

        void request(long id, Promise<Buffer> promise, Buffer frame) {
            pending.put(id, promise);
            socket.write(frame);
            if (closed && pending.remove(id) != null) {
                promise.tryFail(new LinkLostException(node, "connection closed"));
            }
        }

        void lost(String why) {
            closed = true;
            // In the order they were sent, so that whoever retries them keeps that order.
            for (Long id : new java.util.TreeSet<>(pending.keySet())) {
                Promise<Buffer> p = pending.remove(id);
                if (p != null) {
                    p.tryFail(new LinkLostException(node, why));
                }
            }
        }

        private void response(Buffer f) {
            if (f.getByte(0) != Frames.RESPONSE) {
                throw new IllegalStateException("unexpected frame kind " + f.getByte(0));
            }
            Promise<Buffer> p = pending.remove(f.getLong(1));
            if (p == null) {
                return;
            }
            Buffer body = f.getBuffer(10, f.length());
            if (f.getByte(9) == Frames.OK) {
                p.tryComplete(body);
            } else {
                p.tryFail(new RemoteFailureException(node, new String(body.getBytes(), StandardCharsets.UTF_8)));
            }
        }
    }
}
