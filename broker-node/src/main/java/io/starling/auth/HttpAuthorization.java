package io.starling.auth;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the HTTP hook (auth.http.authorize-url) the first time a client publishes to a topic or
 * subscribes to a filter: a POST of {@code clientid}, {@code username}, {@code peerhost},
 * {@code action} (publish or subscribe) and {@code topic}; allow or deny (ignore: the ACL file's
 * and the token's rules, checked before the hook, stand). Answers are kept per connection for
 * auth.http.cache-seconds, so a device publishing to its one topic asks once. A hook that cannot
 * be asked denies (5.0: 0x87) unless auth.http.fail-closed is false.
 */
public final class HttpAuthorization {
    private static final Logger log = LoggerFactory.getLogger(HttpAuthorization.class);
    public static final String SOURCE = "auth.http.authorize-url";
    /** Topics one connection's answers are kept for; the least recently used go first. */
    static final int KEPT_PER_CLIENT = 256;

    public enum Action { PUBLISH, SUBSCRIBE }

    private final HttpHook hook;
    private final long keepNanos;

    public HttpAuthorization(HttpHook hook) {
        this.hook = hook;
        // An answer is kept at least while the packet that asked is handled again.
        this.keepNanos = TimeUnit.SECONDS.toNanos(Math.max(1, hook.settings().cacheSeconds()));
    }

    /** One connection's answers; {@code context} runs tasks on that connection's context, where the grants are kept. */
    public Grants forClient(String clientId, String username, String remoteAddress, Executor context) {
        return new Grants(clientId, username, HttpAuthenticator.host(remoteAddress), context);
    }

    /** The hook's answers for one connection. Confined to its context. */
    public final class Grants {
        private final String clientId;
        private final String username;
        private final String peerhost;
        private final Executor context;
        private final Map<String, Kept> kept = new LruMap<>(KEPT_PER_CLIENT);
        private boolean failOpenLogged;

        private record Kept(Acl.Verdict verdict, long untilNanos) {
        }

        private Grants(String clientId, String username, String peerhost, Executor context) {
            this.clientId = clientId;
            this.username = username;
            this.peerhost = peerhost;
            this.context = context;
        }

        /** The hook's answer for {@code topic}, while it is kept; null: it must be asked ({@link #ask}). */
        public Acl.Verdict known(Action action, String topic) {
            Kept k = kept.get(key(action, topic));
            if (k == null) {
                return null;
            }
            if (k.untilNanos - System.nanoTime() <= 0) {
                kept.remove(key(action, topic));
                return null;
            }
            return k.verdict;
        }

        /** Asks the hook; the answer is kept (on this connection's context) before the future completes there. */
        public Future<Acl.Verdict> ask(Action action, String topic) {
            String a = action.name().toLowerCase(java.util.Locale.ROOT);
            JsonObject body = new JsonObject().put("clientid", clientId).put("username", username)
                    .put("peerhost", peerhost).put("action", a).put("topic", topic);
            Promise<Acl.Verdict> decided = Promise.promise();
            hook.post("authorize", hook.settings().authorizeUrl(), body).onComplete(ar -> context.execute(() -> {
                Acl.Verdict v;
                if (ar.failed()) {
                    v = unanswered(a, topic, ar.cause().getMessage());
                } else {
                    v = switch (ar.result().result()) {
                        case ALLOW, IGNORE -> new Acl.Verdict(true, -1, SOURCE);
                        case DENY -> new Acl.Verdict(false, -1, SOURCE + ": the hook answered deny");
                    };
                }
                kept.put(key(action, topic), new Kept(v, System.nanoTime() + keepNanos));
                decided.complete(v);
            }));
            return decided.future();
        }

        private Acl.Verdict unanswered(String action, String topic, String why) {
            if (hook.settings().failClosed()) {
                return new Acl.Verdict(false, -1, "auth.http.fail-closed: the authorization hook cannot be asked: " + why);
            }
            if (!failOpenLogged) {
                failOpenLogged = true;
                log.warn("client {} ({}): {} on '{}' allowed unchecked [auth.http.fail-closed is false]: {}", clientId, peerhost,
                        action, topic, why);
            }
            return new Acl.Verdict(true, -1, "auth.http.fail-closed");
        }

        private static String key(Action action, String topic) {
            return (action == Action.PUBLISH ? "p" : "s") + topic;
        }
    }
}
