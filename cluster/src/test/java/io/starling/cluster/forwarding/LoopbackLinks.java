package io.starling.cluster.forwarding;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Vert.x instance for each test and the {@link NodeLinks} made in it, for tests of links over
 * real loopback TCP: {@code @RegisterExtension final LoopbackLinks loopback = new LoopbackLinks();}.
 * After each test it closes every NodeLinks it made, then Vert.x.
 */
public final class LoopbackLinks implements BeforeEachCallback, AfterEachCallback {
    public static final String HOST = "127.0.0.1";
    /** The longest wait for anything a test waits for. */
    public static final long WAIT_S = 5;

    private Vertx vertx;
    private final List<NodeLinks> created = new ArrayList<>();

    @Override
    public void beforeEach(ExtensionContext context) {
        vertx = Vertx.vertx();
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (NodeLinks links : created) {
            try {
                links.close().toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // closed already, or closing hung: closing Vert.x below tears down the rest
            }
        }
        created.clear();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    public Vertx vertx() {
        return vertx;
    }

    /** One node's links, closed after the test; nothing listens or connects yet. */
    public NodeLinks links(String id, int maxBufferedBytes) {
        NodeLinks links = new NodeLinks(vertx, id, maxBufferedBytes);
        created.add(links);
        return links;
    }

    /** Listens from a free port on; returns the port it bound. */
    public static int listen(NodeLinks links, int firstPort) throws Exception {
        return await(links.listen(HOST, firstPort));
    }

    public static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /**
     * Waits until the port can be bound again: the future of a closed Vert.x server may complete
     * a little before its listening socket is gone (seen in about one run in six here).
     */
    public static void awaitPortFree(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (true) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(HOST, port));
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
