package io.starling.auth;

import io.starling.metrics.BrokerMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * The HTTP service a node asks who may connect and what they may do (auth.http.*), as EMQX's
 * and VerneMQ's webhooks: a JSON POST, and an answer {@code {"result": "allow" | "deny" |
 * "ignore", ...}}; 204 No Content allows, 401 and 403 deny. Anything else (another status, a
 * body that is not such JSON, no answer within the timeout, no connection) is an error, which
 * the caller turns into a refusal unless the node is configured to fail open.
 */
public final class HttpHook {
    /** auth.http.*: the URLs (empty: not asked), the timeout, how long answers are kept, and whether errors refuse. */
    public record Settings(String authenticateUrl, String authorizeUrl, int timeoutMillis, int cacheSeconds,
                           boolean failClosed) {
    }

    public enum Result { ALLOW, DENY, IGNORE }

    /** An answer: its result and the whole body (for username, acl and expire_at), empty for 204. */
    public record Answer(Result result, JsonObject body) {
    }

    /** The hook did not answer usably; the message says how, for the client's log line. */
    public static final class Unanswered extends RuntimeException {
        Unanswered(String message) {
            super(message, null, false, false);
        }
    }

    private final Vertx vertx;
    private final Settings settings;
    private final HttpClient client;
    private final BrokerMetrics metrics;

    public HttpHook(Vertx vertx, Settings settings, BrokerMetrics metrics) {
        this.vertx = vertx;
        this.settings = settings;
        this.metrics = metrics;
        this.client = vertx.createHttpClient(new HttpClientOptions()
                        .setConnectTimeout(settings.timeoutMillis())
                        .setKeepAlive(true),
                new PoolOptions().setHttp1MaxSize(32));
    }

    public Settings settings() {
        return settings;
    }

    /**
     * POSTs {@code body} to {@code url}; completes with the answer, or fails with {@link Unanswered}
     * once the timeout passes, whatever the request is doing then.
     *
     * @param kind "authenticate" or "authorize", for the metric
     */
    public Future<Answer> post(String kind, String url, JsonObject body) {
        Promise<Answer> answered = Promise.promise();
        long timer = vertx.setTimer(settings.timeoutMillis(), t -> answered.tryFail(
                new Unanswered("no answer from " + url + " within auth.http.timeout (" + settings.timeoutMillis() + " ms)")));
        RequestOptions req = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
                .setIdleTimeout(settings.timeoutMillis())
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.ACCEPT, "application/json");
        client.request(req)
                .compose(r -> r.send(body.toBuffer()))
                .compose(resp -> resp.body().map(b -> answer(url, resp.statusCode(), b)))
                .onComplete(ar -> {
                    vertx.cancelTimer(timer);
                    if (ar.succeeded()) {
                        answered.tryComplete(ar.result());
                    } else {
                        answered.tryFail(ar.cause() instanceof Unanswered u ? u
                                : new Unanswered(url + " could not be asked: " + ar.cause()));
                    }
                });
        return answered.future().onComplete(ar -> metrics.hookRequest(kind,
                ar.succeeded() ? ar.result().result().name().toLowerCase(java.util.Locale.ROOT) : "error"));
    }

    static Answer answer(String url, int status, Buffer body) {
        if (status == 204) {
            return new Answer(Result.ALLOW, new JsonObject());
        }
        if (status == 401 || status == 403) {
            return new Answer(Result.DENY, new JsonObject());
        }
        if (status != 200) {
            throw new Unanswered(url + " answered HTTP " + status);
        }
        JsonObject json;
        try {
            json = body.length() == 0 ? null : new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
            throw new Unanswered(url + " answered HTTP 200 with a body that is no JSON object");
        }
        Object result = json == null ? null : json.getValue("result");
        return switch (result instanceof String s ? s : "") {
            case "allow" -> new Answer(Result.ALLOW, json);
            case "deny" -> new Answer(Result.DENY, json);
            case "ignore" -> new Answer(Result.IGNORE, json);
            default -> throw new Unanswered(url + " answered HTTP 200 without \"result\": allow, deny or ignore");
        };
    }

    public void close() {
        client.close();
    }
}
