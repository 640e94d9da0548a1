package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Answers leave in the order their packets came although some wait: [MQTT-4.6.0-2] PUBACKs and
 * [MQTT-4.6.0-3] PUBRECs in the order of their PUBLISHes. The class is confined to a connection's
 * context, so every call here is made on an event-loop context, and each answer records whether it
 * was sent from that context's thread.
 */
class OrderedRepliesTest {
    static final long WAIT_SECONDS = 5;

    static Vertx vertx;

    ContextInternal context;
    OrderedReplies replies;
    /** What was sent, in order; an entry ends in "!" if it was sent off the context's event loop. */
    List<String> sent;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @BeforeEach
    void create() {
        context = ((VertxInternal) vertx).createEventLoopContext();
        replies = new OrderedReplies(context);
        sent = new CopyOnWriteArrayList<>();
    }

    Runnable send(String answer) {
        return () -> sent.add(context.nettyEventLoop().inEventLoop() ? answer : answer + "!");
    }

    /** Runs {@code action} on the context and waits (bounded) until it has run. */
    void onContext(Runnable action) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        done.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    void awaitSent(int count) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(WAIT_SECONDS);
        while (sent.size() < count && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
    }

    @Test
    void answersGoOutInTheOrderQueuedEvenWhenALaterConditionCompletesFirst() throws Exception {
        Promise<Integer> first = Promise.promise();
        Promise<Integer> second = Promise.promise();
        onContext(() -> {
            replies.after(first.future(), (n, e) -> send("puback 1 reached " + n).run());
            replies.after(second.future(), (n, e) -> send("puback 2 reached " + n).run());
            replies.now(send("unsuback 3"));
        });
        onContext(() -> second.complete(5));
        assertEquals(List.of(), sent, "[MQTT-4.6.0-2] PUBACK 2 may not overtake PUBACK 1");

        onContext(() -> first.complete(0));
        assertEquals(List.of("puback 1 reached 0", "puback 2 reached 5", "unsuback 3"), sent);
    }

    @Test
    void nowRunsAtOnceWhenNothingWaits() throws Exception {
        onContext(() -> {
            replies.now(send("pubcomp 1"));
            // Synchronously, within the same call: no extra turn of the event loop.
            assertEquals(List.of("pubcomp 1"), sent);
            replies.after(Future.succeededFuture(3), (n, e) -> send("puback " + n).run());
            assertEquals(List.of("pubcomp 1", "puback 3"), sent, "an already complete condition does not wait");
        });
    }

    @Test
    void anAnswerReadyEarlyWaitsOnlyForThoseBeforeIt() throws Exception {
        Promise<Void> first = Promise.promise();
        Promise<Void> third = Promise.promise();
        onContext(() -> {
            replies.after(first.future(), (v, e) -> send("1").run());
            replies.after(Future.succeededFuture(), (v, e) -> send("2").run());
            replies.after(third.future(), (v, e) -> send("3").run());
            replies.now(send("4"));
        });
        onContext(() -> first.complete());
        assertEquals(List.of("1", "2"), sent, "3 still waits, and 4 behind it");
        onContext(() -> third.complete());
        assertEquals(List.of("1", "2", "3", "4"), sent);
        onContext(() -> replies.now(send("5")));
        assertEquals(List.of("1", "2", "3", "4", "5"), sent, "nothing waits any more: at once again");
    }

    @Test
    void aFailedConditionAnswersInTurnWithItsFailureNeverASuccess() throws Exception {
        // The PUBACK is still owed: the caller answers the failure (a 5.0 reason code, a 3.1.1
        // close), which it can tell from a result that happens to be null (issue 9).
        Promise<Integer> failed = Promise.promise();
        onContext(() -> {
            replies.after(failed.future(), (n, e) -> send(e == null ? "puback " + n : "refused: " + e.getMessage()).run());
            replies.now(send("after"));
        });
        onContext(() -> failed.fail("node gone"));
        assertEquals(List.of("refused: node gone", "after"), sent);
    }

    @Test
    void completionsFromAnotherThreadAreSentOnTheContext() throws Exception {
        Promise<Integer> first = Promise.promise();
        Promise<Integer> second = Promise.promise();
        onContext(() -> {
            replies.after(first.future(), (n, e) -> send("puback " + n).run());
            replies.after(second.future(), (n, e) -> send("puback " + n).run());
        });
        // As a Hazelcast or other-connection thread would: the test thread is no event loop.
        second.complete(2);
        first.complete(1);
        awaitSent(2);
        assertEquals(List.of("puback 1", "puback 2"), sent, "in order, and none sent off the event loop (!)");
    }

    @Test
    void afterCloseAnswersStillWaitingAreDropped() throws Exception {
        Promise<Void> pending = Promise.promise();
        onContext(() -> {
            replies.after(pending.future(), (v, e) -> send("puback 1").run());
            replies.now(send("pubcomp 2"));
            replies.close();
        });
        onContext(() -> pending.complete());
        assertEquals(List.of(), sent, "the connection is gone; the client resends (spec 4.4)");
    }

    @Test
    void afterCloseNothingMoreIsSent() throws Exception {
        Promise<Void> later = Promise.promise();
        onContext(() -> {
            replies.close();
            replies.now(send("now"));
            replies.after(Future.succeededFuture(), (v, e) -> send("completed").run());
            replies.after(later.future(), (v, e) -> send("later").run());
        });
        later.complete(); // from another thread, too
        onContext(() -> { }); // a turn of the context after any hop the completion made
        assertEquals(List.of(), sent);
    }
}
