package io.starling.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.starling.protocol.ReasonCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JSON Web Token as the client's proof (auth.jwt.*), verified with the keys of a JWKS file:
 * RS256, ES256 and HS256 only (RSA, EC P-256 and {@code oct} keys), the key chosen by {@code kid}
 * and by the algorithm's key type, so neither {@code none} nor a public key used as an HMAC secret
 * gets through (nimbus-jose-jwt's processor). {@code exp} is required, {@code exp} and {@code nbf}
 * are checked with auth.jwt.clock-skew; {@code iss} and {@code aud} where configured. The client
 * is known by the token's username claim; the CONNECT's username, if any, is only a carrier.
 * Where the token has an acl claim ({@link AclClaim}), the client may do only what it allows (and
 * what the ACL file allows, where there is one); where the token runs out while the client is
 * connected, it is disconnected then (auth.jwt.disconnect-on-expiry).
 *
 * <p>A password (or username, with auth.jwt.from: username) that is not a JWT at all goes to the
 * password file when there is one, so devices with passwords and devices with tokens can share a
 * listener. Signature checks run on a small pool, never on an event loop (an RSA verification
 * costs tens of microseconds, a reconnect storm thousands of them).
 */
public final class JwtAuthenticator implements Authenticator {
    /** auth.jwt.*: where the token is, which claim names the client, what iss/aud must be (empty: not checked). */
    public record Settings(Path jwksFile, boolean fromUsername, String usernameClaim, String issuer, String audience,
                           int clockSkewSeconds, String aclClaim, boolean disconnectOnExpiry) {
        public Settings(Path jwksFile, boolean fromUsername, String usernameClaim, String issuer, String audience,
                        int clockSkewSeconds) {
            this(jwksFile, fromUsername, usernameClaim, issuer, audience, clockSkewSeconds, "acl", true);
        }
    }

    static final int QUEUED = 10_000;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.HS256);
    /** The grant of a token without a kid: it stays while any key does. */
    private static final String ANY_KEY = "jwt:";

    private final Settings settings;
    private final Authenticator fallback;
    private final ThreadPoolExecutor pool;
    private volatile Keys keys;

    private record Keys(JWKSet set, DefaultJWTProcessor<SecurityContext> processor) {
    }

    /** @param fallback the password file's authenticator for credentials that are not JWTs, or null */
    public JwtAuthenticator(Settings settings, JWKSet keys, Authenticator fallback, int threads) {
        this.settings = settings;
        this.fallback = fallback;
        this.keys = keys(settings, keys);
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUED), r -> {
            Thread t = new Thread(r, "starling-jwt-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Reads a JWKS file; a private key in it is used by its public half only. */
    public static JWKSet read(Path file) throws IOException, java.text.ParseException {
        JWKSet set = JWKSet.load(file.toFile());
        if (set.getKeys().isEmpty()) {
            throw new java.text.ParseException(file + " holds no key", 0);
        }
        return set;
    }

    private static Keys keys(Settings s, JWKSet set) {
        DefaultJWTProcessor<SecurityContext> p = new DefaultJWTProcessor<>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, new ImmutableJWKSet<>(set)));
        Set<String> required = new HashSet<>(Set.of("exp", s.usernameClaim()));
        JWTClaimsSet.Builder exact = new JWTClaimsSet.Builder();
        if (!s.issuer().isEmpty()) {
            exact.issuer(s.issuer());
        }
        DefaultJWTClaimsVerifier<SecurityContext> v = new DefaultJWTClaimsVerifier<>(
                s.audience().isEmpty() ? null : s.audience(), exact.build(), required);
        v.setMaxClockSkew(s.clockSkewSeconds());
        p.setJWTClaimsSetVerifier(v);
        return new Keys(set, p);
    }

    /** A new version of the JWKS file; clients are then checked with {@link #stillAllowed}. */
    public void replace(JWKSet set) {
        keys = keys(settings, set);
    }

    /** The password file's authenticator behind this one, or null. */
    public Authenticator fallback() {
        return fallback;
    }

    public Path jwksFile() {
        return settings.jwksFile();
    }

    @Override
    public boolean readsPasswordWithoutUsername() {
        return !settings.fromUsername();
    }

    /** Three base64url parts, the first a JSON object ("eyJ" is how '{"' begins in base64). */
    static boolean looksLikeJwt(String s) {
        return s != null && s.startsWith("eyJ") && s.chars().filter(ch -> ch == '.').count() == 2;
    }

    @Override
    public Future<Decision> authenticate(Credentials c) {
        String token = settings.fromUsername() ? c.username()
                : c.password() == null ? null : new String(c.password(), StandardCharsets.UTF_8);
        if (!looksLikeJwt(token)) {
            if (fallback != null && c.username() != null && !settings.fromUsername()) {
                return fallback.authenticate(c);
            }
            return Future.succeededFuture(Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.jwt",
                    "the " + (settings.fromUsername() ? "username" : "password") + " is not a JWT"));
        }
        Keys k = keys;
        Promise<Decision> decided = Promise.promise();
        try {
            pool.execute(() -> decided.complete(verify(k, token)));
        } catch (RejectedExecutionException busy) {
            decided.complete(Decision.refuse(ReasonCode.SERVER_BUSY, "auth.jwt", QUEUED + " token checks already wait"));
        }
        return decided.future();
    }

    private Decision verify(Keys k, String token) {
        try {
            JWTClaimsSet claims = k.processor().process(token, null);
            String name = claims.getStringClaim(settings.usernameClaim());
            if (name == null || name.isEmpty()) {
                return Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.jwt.username-claim",
                        "the token's '" + settings.usernameClaim() + "' claim is empty");
            }
            String kid = SignedJWT.parse(token).getHeader().getKeyID();
            Decision d = Decision.allow("auth.jwt", ANY_KEY + (kid == null ? "" : kid)).as(name);
            Object acl = settings.aclClaim().isEmpty() ? null : claims.getClaim(settings.aclClaim());
            if (acl != null) {
                try {
                    d = d.withRights(Acl.of("auth.jwt.acl-claim", AclClaim.rules(acl)));
                } catch (IllegalArgumentException e) {
                    return Decision.refuse(ReasonCode.NOT_AUTHORIZED, "auth.jwt.acl-claim",
                            "the token's '" + settings.aclClaim() + "' claim cannot be used: " + e.getMessage());
                }
            }
            // exp is required: a client whose token has run out is ended then, as EMQX does by default.
            return settings.disconnectOnExpiry() ? d.until(claims.getExpirationTime().getTime()) : d;
        } catch (BadJOSEException e) {
            // nimbus says why: "Expired JWT", "JWT before use time", "Signed JWT rejected: Invalid
            // signature", "... Another algorithm expected, or no matching key(s) found", "Unsecured (plain) JWTs are rejected"
            return Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.jwt", "token refused: " + e.getMessage());
        } catch (java.text.ParseException | JOSEException | RuntimeException e) {
            return Decision.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "auth.jwt", "not a valid JWT: " + e.getMessage());
        }
    }

    /**
     * After the JWKS file was reloaded: a client whose token named a key (kid) that is gone is
     * disconnected; one without a kid stays while the file holds a key. Password clients are the
     * password file's to judge.
     */
    @Override
    public boolean stillAllowed(String username, String grant) {
        if (grant != null && grant.startsWith(ANY_KEY)) {
            String kid = grant.substring(ANY_KEY.length());
            JWKSet set = keys.set();
            return kid.isEmpty() ? !set.getKeys().isEmpty() : set.getKeyByKeyId(kid) != null;
        }
        return fallback == null || fallback.stillAllowed(username, grant);
    }
}
