package io.starling.auth;

import io.starling.protocol.ReasonCode;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the HTTP hook (auth.http.authenticate-url) whether a CONNECT's client may connect. The
 * POST carries {@code clientid}, {@code username}, {@code password} (UTF-8; also {@code
 * password_base64}, since a password is bytes), {@code peerhost} and {@code cert_common_name}.
 * The answer's {@code result} decides: allow (optionally with {@code username}, the name the
 * client is known by, {@code acl}, its rights in {@link AclClaim}'s forms, and {@code expire_at},
 * epoch seconds after which it is disconnected), deny (0x86), or ignore: the password file or
 * JWT keys behind decide, or, without them, the client is refused.
 *
 * <p>A hook that cannot be asked refuses the client as Server Unavailable (0x88; 3.1.1: 0x03)
 * unless auth.http.fail-closed is false, where it is let in as its CONNECT says and a warning is
 * logged: fail-closed is the default, since a broker that lets everyone in while its
 * authentication service is down is not secured. Allows are remembered for auth.http.cache-seconds,
 * keyed by client id, username, a digest of the password and the peer's host, so that a reconnect
 * storm does not become a storm of requests.
 */
public final class HttpAuthenticator implements Authenticator {
    private static final Logger log = LoggerFactory.getLogger(HttpAuthenticator.class);
    /** The grant of a client the hook let in: the hook is not asked again on a file reload. */
    static final String GRANT = "http";
    static final int REMEMBERED = 100_000;

    private final HttpHook hook;
    private final Authenticator fallback;
    private final long rememberNanos;
    private final Map<String, Remembered> remembered = new LruMap<>(REMEMBERED);

    private record Remembered(Decision decision, long untilNanos) {
    }

    /** @param fallback what decides where the hook answers ignore (JWT, the password file), or null */
    public HttpAuthenticator(HttpHook hook, Authenticator fallback) {
        this.hook = hook;
        this.fallback = fallback;
        this.rememberNanos = TimeUnit.SECONDS.toNanos(hook.settings().cacheSeconds());
    }

    public Authenticator fallback() {
        return fallback;
    }

    @Override
    public boolean readsPasswordWithoutUsername() {
        return true; // the hook judges a password-only 5.0 client (a token) as it judges the rest
    }

    @Override
    public Future<Decision> authenticate(Credentials c) {
        String key = key(c);
        synchronized (remembered) {
            Remembered r = remembered.get(key);
            if (r != null && r.untilNanos - System.nanoTime() > 0
                    && (r.decision.expiresAtMillis() == 0 || r.decision.expiresAtMillis() > System.currentTimeMillis())) {
                return Future.succeededFuture(r.decision);
            }
        }
        String url = hook.settings().authenticateUrl();
        return hook.post("authenticate", url, body(c)).transform(ar -> {
            if (ar.failed()) {
                return unanswered(c, ar.cause().getMessage());
            }
            HttpHook.Answer a = ar.result();
            return switch (a.result()) {
                case ALLOW -> {
                    Decision d;
                    try {
                        d = allowed(a.body());
                    } catch (IllegalArgumentException e) {
                        yield Future.succeededFuture(Decision.refuse(ReasonCode.NOT_AUTHORIZED, "auth.http.authenticate-url",
                                "the hook's answer cannot be used: " + e.getMessage()));
                    }
                    if (rememberNanos > 0) {
                        synchronized (remembered) {
                            remembered.put(key, new Remembered(d, System.nanoTime() + rememberNanos));
                        }
                    }
                    yield Future.succeededFuture(d);
                }
                case DENY -> Future.succeededFuture(Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                        "auth.http.authenticate-url", "the hook answered deny"));
                case IGNORE -> fallback != null ? fallback.authenticate(c)
                        : Future.succeededFuture(Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                                "auth.http.authenticate-url", "the hook answered ignore, and no password file or JWT keys decide instead"));
            };
        });
    }

    private Future<Decision> unanswered(Credentials c, String why) {
        if (hook.settings().failClosed()) {
            return Future.succeededFuture(Decision.refuse(ReasonCode.SERVER_UNAVAILABLE, "auth.http.fail-closed",
                    "the authentication hook cannot be asked: " + why));
        }
        log.warn("client {} ({}) let in unchecked [auth.http.fail-closed is false]: {}", c.clientId(), c.remoteAddress(), why);
        return Future.succeededFuture(Decision.allow("auth.http.fail-closed", GRANT));
    }

    private static Decision allowed(JsonObject body) {
        Decision d = Decision.allow("auth.http.authenticate-url", GRANT);
        Object username = body.getValue("username");
        if (username != null) {
            if (!(username instanceof String u) || u.isEmpty()) {
                throw new IllegalArgumentException("\"username\" is not a non-empty string");
            }
            d = d.as(u);
        }
        Object acl = body.getValue("acl");
        if (acl != null) {
            Object plain = acl instanceof JsonObject o ? o.getMap()
                    : acl instanceof io.vertx.core.json.JsonArray a ? a.getList() : acl;
            d = d.withRights(Acl.of("auth.http.acl", AclClaim.rules(plain)));
        }
        Object expireAt = body.getValue("expire_at");
        if (expireAt != null) {
            if (!(expireAt instanceof Number n)) {
                throw new IllegalArgumentException("\"expire_at\" is not a number of seconds since the epoch");
            }
            d = d.until(n.longValue() * 1000);
        }
        return d;
    }

    static JsonObject body(Credentials c) {
        JsonObject j = new JsonObject().put("clientid", c.clientId()).put("username", c.username())
                .put("peerhost", host(c.remoteAddress()));
        if (c.password() != null) {
            j.put("password", utf8(c.password())).put("password_base64", Base64.getEncoder().encodeToString(c.password()));
        }
        String cn = c.certificate() != null ? CertificateIdentity.of(c.certificate(), io.starling.config.TlsSettings.Identity.CN)
                : c.proxiedCertificateCn();
        if (cn != null) {
            j.put("cert_common_name", cn);
        }
        return j;
    }

    /** The password as text where it is UTF-8, else null (the base64 form has it then). */
    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** "10.0.0.7:51234" → "10.0.0.7"; "[::1]:51234" → "::1". */
    static String host(String address) {
        if (address == null) {
            return null;
        }
        if (address.startsWith("[")) {
            int end = address.indexOf(']');
            return end > 0 ? address.substring(1, end) : address;
        }
        int colon = address.indexOf(':');
        return colon > 0 && colon == address.lastIndexOf(':') ? address.substring(0, colon) : address;
    }

    private static String key(Credentials c) {
        String cn = c.certificate() != null ? c.certificate().getSubjectX500Principal().getName() : c.proxiedCertificateCn();
        return c.clientId() + '\0' + c.username() + '\0' + digest(c.password()) + '\0' + host(c.remoteAddress()) + '\0' + cn;
    }

    private static String digest(byte[] password) {
        if (password == null) {
            return "-";
        }
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(password));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** A client the hook let in stays on a reload of files that did not let it in; the others are the fallback's. */
    @Override
    public boolean stillAllowed(String username, String grant) {
        return GRANT.equals(grant) || fallback == null || fallback.stillAllowed(username, grant);
    }
}
