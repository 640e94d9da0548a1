package io.starling.cluster.forwarding;

import static io.starling.cluster.forwarding.LoopbackLinks.HOST;
import static io.starling.cluster.forwarding.LoopbackLinks.WAIT_S;
import static io.starling.cluster.forwarding.LoopbackLinks.await;
import static io.starling.cluster.forwarding.LoopbackLinks.awaitPortFree;
import static io.starling.cluster.forwarding.LoopbackLinks.freePort;
import static io.starling.cluster.forwarding.LoopbackLinks.listen;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Node links over real loopback TCP, several {@link NodeLinks} in one Vert.x instance. Each
 * instance plays one node; node "a" connects to "b" as membership would.
 */
class NodeLinksTest {
    private static final byte ORDERED = 1;
    private static final byte ECHO = 2;
    private static final byte FAIL = 3;
    private static final byte SILENT = 4;
    private static final byte THROWS = 5;

    @RegisterExtension
    final LoopbackLinks loopback = new LoopbackLinks();
    /** Replies that a SILENT handler kept and never answered. */
    private final ConcurrentLinkedQueue<NodeLinks.Reply> unanswered = new ConcurrentLinkedQueue<>();
    private final CountDownLatch silentReceived = new CountDownLatch(1);

    // ---- helpers -------------------------------------------------------------------------------

    /** @param maxBufferedBytes what may wait for a connection: a frame of one int is 10 bytes */
    private NodeLinks node(String id, int maxBufferedBytes) {
        NodeLinks links = loopback.links(id, maxBufferedBytes);
        links.handle(ECHO, (from, body, reply) -> reply.ok(Buffer.buffer(from + ":").appendBuffer(body)));
        links.handle(FAIL, (from, body, reply) -> reply.fail("refused " + body));
        links.handle(SILENT, (from, body, reply) -> {
            unanswered.add(reply);
            silentReceived.countDown();
        });
        links.handle(THROWS, (from, body, reply) -> {
            throw new IllegalStateException("handler bug");
        });
        return links;
    }

    /** The cause a future failed with; fails the test if it succeeds or stays pending. */
    private static Throwable failureOf(Future<?> f) throws Exception {
        try {
            Object result = f.toCompletionStage().toCompletableFuture().get(WAIT_S, TimeUnit.SECONDS);
            return fail("expected a failure, got " + result);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail("still pending after " + WAIT_S + " s: a request must not hang");
        }
    }

    /** Records SEND bodies (one int each) on channel ORDERED and checks they come in sequence. */
    private static final class Sequence {
        final CountDownLatch all;
        final AtomicInteger next = new AtomicInteger();
        final AtomicReference<String> broken = new AtomicReference<>();

        Sequence(NodeLinks receiver, int count) {
            all = new CountDownLatch(count);
            receiver.handle(ORDERED, (from, body, reply) -> {
                int n = body.getInt(0);
                int expected = next.getAndIncrement();
                if (n != expected && broken.get() == null) {
                    broken.set("expected " + expected + " but got " + n);
                }
                all.countDown();
            });
        }

        void awaitAll() throws InterruptedException {
            assertTrue(all.await(WAIT_S, TimeUnit.SECONDS), "only " + next.get() + " frames arrived");
            assertNull(broken.get(), () -> "out of order: " + broken.get());
        }
    }

    private static Buffer seq(int n) {
        return Buffer.buffer(4).appendInt(n);
    }

    // ---- one-way messages ----------------------------------------------------------------------

    @Test
    void oneWayMessagesFromOneThreadArriveInOrder() throws Exception {
        // Per-sender order across the hop is what keeps a publisher's messages in order (spec 4.6).
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        int count = 10_000;
        Sequence received = new Sequence(b, count);
        int port = listen(b, freePort());
        a.connect("b", HOST, port);
        // Sent at once: the first frames wait in the buffer while the connection is made, the
        // rest go straight to the socket, and the order must hold across that switch.
        for (int i = 0; i < count; i++) {
            assertTrue(a.send("b", ORDERED, seq(i)));
        }
        received.awaitAll();
    }

    @Test
    void handlerLearnsWhichNodeSentTheFrame() throws Exception {
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        NodeLinks c = node("c", 100_000);
        int portC = listen(c, freePort());
        int portB = listen(b, portC + 1);
        a.connect("b", HOST, portB);
        a.connect("c", HOST, portC);
        b.connect("c", HOST, portC);
        assertEquals("a:x", await(a.request("b", ECHO, Buffer.buffer("x"))).toString());
        assertEquals("a:y", await(a.request("c", ECHO, Buffer.buffer("y"))).toString());
        assertEquals("b:z", await(b.request("c", ECHO, Buffer.buffer("z"))).toString());
        assertEquals(Set.of("b", "c"), a.peers());
    }

    @Test
    void connectingToOneselfIsIgnored() {
        NodeLinks a = node("a", 100_000);
        a.connect("a", HOST, 1);
        assertTrue(a.peers().isEmpty());
        assertFalse(a.send("a", ORDERED, seq(0)));
    }

    @Test
    void aThrowingOneWayHandlerDoesNotBreakTheLink() throws Exception {
        // A bug in one service's handler must not cost the other messages in flight on the link:
        // the REQUEST path already turns a handler's exception into a failed reply.
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        int count = 500;
        Sequence received = new Sequence(b, count);
        int port = listen(b, freePort());
        a.connect("b", HOST, port);
        await(a.request("b", ECHO, Buffer.buffer("up")));
        for (int i = 0; i < count; i++) {
            if (i % 100 == 0) {
                a.send("b", THROWS, Buffer.buffer());
            }
            a.send("b", ORDERED, seq(i));
        }
        received.awaitAll();
    }

    // ---- requests ------------------------------------------------------------------------------

    @Test
    void requestGetsTheHandlersAnswer() throws Exception {
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        assertEquals("a:hello", await(a.request("b", ECHO, Buffer.buffer("hello"))).toString());
        // Several in flight at once are matched to their own answers.
        List<Future<Buffer>> answers = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            answers.add(a.request("b", ECHO, Buffer.buffer("m" + i)));
        }
        for (int i = 0; i < 100; i++) {
            assertEquals("a:m" + i, await(answers.get(i)).toString());
        }
    }

    @Test
    void handlerFailureFailsTheRequestWithRemoteFailure() throws Exception {
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        Throwable failure = failureOf(a.request("b", FAIL, Buffer.buffer("this")));
        assertInstanceOf(RemoteFailureException.class, failure);
        assertTrue(failure.getMessage().contains("refused this"), failure.getMessage());
    }

    @Test
    void handlerExceptionAndUnknownChannelFailTheRequestWithRemoteFailure() throws Exception {
        // Neither may leave the requester waiting: it learns that the peer saw the request and failed.
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        assertInstanceOf(RemoteFailureException.class, failureOf(a.request("b", THROWS, Buffer.buffer())));
        assertInstanceOf(RemoteFailureException.class, failureOf(a.request("b", (byte) 99, Buffer.buffer())));
        // The link is still usable afterwards.
        assertEquals("a:ok", await(a.request("b", ECHO, Buffer.buffer("ok"))).toString());
    }

    @Test
    void requestToAnUnknownPeerFailsAtOnce() throws Exception {
        NodeLinks a = node("a", 100_000);
        Future<Buffer> answer = a.request("nobody", ECHO, Buffer.buffer());
        assertTrue(answer.failed());
        assertInstanceOf(LinkLostException.class, answer.cause());
        assertFalse(a.send("nobody", ORDERED, seq(0)));
    }

    @Test
    void requestWithTimeoutFailsWhenNoAnswerComes() throws Exception {
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        long start = System.nanoTime();
        Throwable failure = failureOf(a.request("b", SILENT, Buffer.buffer(), 200));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertInstanceOf(LinkLostException.class, failure);
        assertTrue(elapsedMs >= 150, "failed after " + elapsedMs + " ms, before the timeout");
        // An answer within the timeout is passed through.
        assertEquals("a:q", await(a.request("b", ECHO, Buffer.buffer("q"), 5_000)).toString());
    }

    // ---- buffering while the peer is not there -------------------------------------------------

    @Test
    void framesSentBeforeThePeerListensAreDeliveredOnceItDoes() throws Exception {
        // Membership can announce a node before its link port is open; nothing sent meanwhile may
        // be lost or reordered.
        NodeLinks a = node("a", 100_000);
        AtomicInteger linkUps = new AtomicInteger();
        a.onLinkUp(n -> linkUps.incrementAndGet());
        int port = freePort();
        a.connect("b", HOST, port);
        for (int i = 0; i < 100; i++) {
            assertTrue(a.send("b", ORDERED, seq(i)));
        }
        Future<Buffer> answer = a.request("b", ECHO, Buffer.buffer("early"));
        assertFalse(answer.isComplete());

        NodeLinks b = node("b", 100_000);
        Sequence received = new Sequence(b, 100);
        assertEquals(port, listen(b, port), "the port chosen as free was taken meanwhile");
        received.awaitAll();
        assertEquals("a:early", await(answer).toString());
        assertEquals(1, linkUps.get());
    }

    @Test
    void bufferBeyondItsSizeDropsAndSendReturnsFalse() throws Exception {
        NodeLinks a = node("a", 30); // three frames of 10 bytes
        int port = freePort();
        a.connect("b", HOST, port);
        assertTrue(a.send("b", ORDERED, seq(0)));
        assertTrue(a.send("b", ORDERED, seq(1)));
        assertTrue(a.send("b", ORDERED, seq(2)));
        assertFalse(a.send("b", ORDERED, seq(3)), "a fourth frame fits in a buffer of three");
        assertInstanceOf(LinkLostException.class, failureOf(a.request("b", ECHO, Buffer.buffer())));

        // The frames that were kept are delivered, and the bound does not apply to a live link.
        NodeLinks b = node("b", 30);
        Sequence received = new Sequence(b, 10);
        assertEquals(port, listen(b, port), "the port chosen as free was taken meanwhile");
        await(waitForLink(a, "b"));
        for (int i = 3; i < 10; i++) {
            assertTrue(a.send("b", ORDERED, seq(i)));
        }
        received.awaitAll();
    }

    /** Completes once a request to the peer gets through, i.e. the link is up. */
    private Future<Buffer> waitForLink(NodeLinks from, String to) {
        return echoRetried(from, to, "");
    }

    /**
     * An ECHO request, sent again after a failure: while the link is down a request may find the
     * buffer full, or be written to a connection whose close has not been noticed yet.
     */
    private Future<Buffer> echoRetried(NodeLinks from, String to, String body) {
        return from.request(to, ECHO, Buffer.buffer(body)).recover(e -> {
            Promise<Buffer> later = Promise.promise();
            loopback.vertx().setTimer(50, t -> echoRetried(from, to, body).onComplete(later));
            return later.future();
        });
    }

    // ---- losing the peer -----------------------------------------------------------------------

    @Test
    void pendingRequestsFailWhenThePeerCloses() throws Exception {
        // The peer may or may not have acted on them; waiting for ever is never right.
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        Future<Buffer> answer = a.request("b", SILENT, Buffer.buffer());
        assertTrue(silentReceived.await(WAIT_S, TimeUnit.SECONDS), "the request did not reach b");
        await(b.close());
        assertInstanceOf(LinkLostException.class, failureOf(answer));
    }

    @Test
    void disconnectFailsRequestsOnTheConnection() throws Exception {
        NodeLinks a = node("a", 100_000);
        NodeLinks b = node("b", 100_000);
        a.connect("b", HOST, listen(b, freePort()));
        Future<Buffer> answer = a.request("b", SILENT, Buffer.buffer());
        assertTrue(silentReceived.await(WAIT_S, TimeUnit.SECONDS), "the request did not reach b");
        a.disconnect("b");
        Throwable failure = failureOf(answer);
        assertInstanceOf(LinkLostException.class, failure);
        assertEquals("b", ((LinkLostException) failure).node());
        assertTrue(a.peers().isEmpty());
        assertFalse(a.send("b", ORDERED, seq(0)), "a peer that left takes no frames");
    }

    @Test
    void disconnectFailsRequestsStillWaitingInTheBuffer() throws Exception {
        NodeLinks a = node("a", 100_000);
        a.connect("b", HOST, freePort());
        Future<Buffer> answer = a.request("b", ECHO, Buffer.buffer());
        a.disconnect("b");
        assertInstanceOf(LinkLostException.class, failureOf(answer));
    }

    @Test
    void linkReconnectsWhenThePeerComesBack() throws Exception {
        // A restarted peer gets a new connection and onLinkUp fires again: that is what makes
        // LocalRoutes send its whole route set to it.
        NodeLinks a = node("a", 100_000);
        CopyOnWriteArrayList<String> linkUps = new CopyOnWriteArrayList<>();
        a.onLinkUp(linkUps::add);
        NodeLinks b1 = node("b", 100_000);
        int port = listen(b1, freePort());
        a.connect("b", HOST, port);
        assertEquals("a:1", await(a.request("b", ECHO, Buffer.buffer("1"))).toString());
        await(b1.close());
        awaitPortFree(port);

        NodeLinks b2 = node("b", 100_000);
        assertEquals(port, listen(b2, port), "the port was taken meanwhile");
        assertEquals("a:2", await(echoRetried(a, "b", "2")).toString());
        assertEquals(List.of("b", "b"), linkUps);
    }
}
