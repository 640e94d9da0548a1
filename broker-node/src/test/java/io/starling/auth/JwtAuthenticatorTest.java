package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.starling.protocol.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Tokens made with nimbus for each algorithm, and every way one can be wrong (also the keys and tokens of JwtIT). */
public class JwtAuthenticatorTest {
    public static final RSAKey RSA = gen(() -> new RSAKeyGenerator(2048).keyID("r1").generate());
    public static final ECKey EC = gen(() -> new ECKeyGenerator(Curve.P_256).keyID("e1").generate());
    public static final OctetSequenceKey HMAC = gen(() -> new OctetSequenceKeyGenerator(256).keyID("h1").generate());

    interface Gen<T> {
        T get() throws Exception;
    }

    static <T> T gen(Gen<T> g) {
        try {
            return g.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The JWKS a node is given: public RSA and EC keys, the shared HMAC secret. */
    public static JWKSet jwks() {
        return new JWKSet(List.<JWK>of(RSA.toPublicJWK(), EC.toPublicJWK(), HMAC));
    }

    public static String token(JWSAlgorithm alg, String kid, JWSSigner signer, String sub, long expiresInSeconds,
                               long notBeforeInSeconds) throws Exception {
        return token(alg, kid, signer, sub, expiresInSeconds, notBeforeInSeconds, new JWTClaimsSet.Builder());
    }

    /** An RS256 token with more claims, e.g. {@code acl}. */
    public static String rs256(String sub, long expiresIn, java.util.Map<String, Object> more) throws Exception {
        return token(JWSAlgorithm.RS256, "r1", new RSASSASigner(RSA), sub, expiresIn, more);
    }

    /** A token with more claims. */
    public static String token(JWSAlgorithm alg, String kid, JWSSigner signer, String sub, long expiresIn,
                               java.util.Map<String, Object> more) throws Exception {
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder();
        more.forEach(b::claim);
        return token(alg, kid, signer, sub, expiresIn, 0, b);
    }

    static String token(JWSAlgorithm alg, String kid, JWSSigner signer, String sub, long expiresInSeconds,
                        long notBeforeInSeconds, JWTClaimsSet.Builder claims) throws Exception {
        long now = System.currentTimeMillis();
        claims.subject(sub)
                .expirationTime(new Date(now + TimeUnit.SECONDS.toMillis(expiresInSeconds)));
        if (notBeforeInSeconds != 0) {
            claims.notBeforeTime(new Date(now + TimeUnit.SECONDS.toMillis(notBeforeInSeconds)));
        }
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).type(JOSEObjectType.JWT).build(), claims.build());
        jwt.sign(signer);
        return jwt.serialize();
    }

    public static String rs256(String sub, long expiresIn) throws Exception {
        return token(JWSAlgorithm.RS256, "r1", new RSASSASigner(RSA), sub, expiresIn, 0);
    }

    static JwtAuthenticator jwt(Authenticator fallback) {
        return new JwtAuthenticator(new JwtAuthenticator.Settings(Path.of("jwks.json"), false, "sub", "", "", 30), jwks(),
                fallback, 1);
    }

    static Authenticator.Decision check(JwtAuthenticator a, String user, String password) throws Exception {
        return a.authenticate(new Authenticator.Credentials("c1", user, password == null ? null
                : password.getBytes(StandardCharsets.UTF_8), "127.0.0.1:1")).toCompletionStage().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    @Test
    void eachAlgorithmWithItsKeyLetsTheClientInAsItsSubject() throws Exception {
        JwtAuthenticator a = jwt(null);
        for (String t : List.of(rs256("dev-rsa", 600),
                token(JWSAlgorithm.ES256, "e1", new ECDSASigner(EC), "dev-ec", 600, 0),
                token(JWSAlgorithm.HS256, "h1", new MACSigner(HMAC), "dev-hmac", 600, 0))) {
            Authenticator.Decision d = check(a, "ignored", t);
            assertTrue(d.allowed(), d.why());
            assertTrue(d.username().startsWith("dev-"), d.username());
        }
        assertTrue(check(a, null, rs256("no-username", 600)).allowed(), "5.0 allows a password alone");
    }

    @Test
    void expiredNotYetValidTamperedUnknownAndUnsignedTokensAreRefused() throws Exception {
        JwtAuthenticator a = jwt(null);
        assertRefused(check(a, "u", rs256("d", -3600)), "Expired");
        assertRefused(check(a, "u", token(JWSAlgorithm.RS256, "r1", new RSASSASigner(RSA), "d", 600, 3600)), "before use");
        String good = rs256("d", 600);
        String[] parts = good.split("\\.");
        String otherClaims = rs256("admin", 600).split("\\.")[1];
        assertRefused(check(a, "u", parts[0] + "." + otherClaims + "." + parts[2]), "signature");
        RSAKey stranger = new RSAKeyGenerator(2048).keyID("r1").generate();
        assertRefused(check(a, "u", token(JWSAlgorithm.RS256, "r1", new RSASSASigner(stranger), "d", 600, 0)), "signature");
        assertRefused(check(a, "u", token(JWSAlgorithm.RS256, "nope", new RSASSASigner(RSA), "d", 600, 0)), "no matching key");
        String none = new PlainJWT(new JWTClaimsSet.Builder().subject("d")
                .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build()).serialize();
        assertRefused(check(a, "u", none), "");
        // HS256 signed with the RSA public key's bytes: the classic confusion; HS256 needs an oct key.
        byte[] pub = RSA.toRSAPublicKey().getEncoded();
        assertRefused(check(a, "u", token(JWSAlgorithm.HS256, "r1", new MACSigner(java.util.Arrays.copyOf(pub, 64)), "d", 600, 0)), "");
        // RS384 is not among the algorithms taken.
        assertRefused(check(a, "u", token(JWSAlgorithm.RS384, "r1", new RSASSASigner(RSA), "d", 600, 0)), "");
    }

    @Test
    void aTokenWithoutExpiryIsRefused() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("r1").build(),
                new JWTClaimsSet.Builder().subject("forever").build());
        jwt.sign(new RSASSASigner(RSA));
        assertRefused(check(jwt(null), "u", jwt.serialize()), "exp");
    }

    static void assertRefused(Authenticator.Decision d, String why) {
        assertFalse(d.allowed(), "refused");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, d.reasonCode());
        assertTrue(d.why().contains(why), "why: " + d.why());
        assertFalse(d.why().contains("eyJ"), "the token is never in the reason");
    }

    @Test
    void aPasswordThatIsNotAJwtGoesToThePasswordFile() throws Exception {
        Authenticator passwords = c -> io.vertx.core.Future.succeededFuture(Authenticator.Decision.allow("auth.password-file", "h"));
        assertTrue(check(jwt(passwords), "alice", "a-pw").allowed());
        assertFalse(check(jwt(null), "alice", "a-pw").allowed(), "no password file: only tokens");
    }

    @Test
    void aKeyRemovedOnReloadEndsTheClientsThatUsedIt() throws Exception {
        JwtAuthenticator a = jwt(null);
        Authenticator.Decision d = check(a, "u", rs256("dev", 600));
        assertTrue(a.stillAllowed(d.username(), d.grant()));
        a.replace(new JWKSet(List.<JWK>of(EC.toPublicJWK(), HMAC)));
        assertFalse(a.stillAllowed(d.username(), d.grant()), "its key r1 is gone");
        assertFalse(check(a, "u", rs256("dev", 600)).allowed());
    }

    @Test
    void theAclClaimBecomesTheClientsRightsAndExpBoundsTheConnection() throws Exception {
        JwtAuthenticator a = jwt(null);
        long before = System.currentTimeMillis();
        Authenticator.Decision d = check(a, "u", rs256("dev", 600, java.util.Map.of("acl",
                java.util.Map.of("pub", List.of("devices/dev/up"), "sub", List.of("devices/dev/down/#")))));
        assertTrue(d.allowed(), d.why());
        assertTrue(d.rights().publish("devices/dev/up").allowed());
        assertFalse(d.rights().publish("devices/other/up").allowed());
        assertFalse(d.rights().publish("devices/dev/down/x").allowed(), "sub is not pub");
        assertTrue(d.rights().subscribe(io.starling.topic.TopicFilter.of("devices/dev/down/#")).allowed());
        assertEquals("auth.jwt.acl-claim", d.rights().publish("x").source());
        assertTrue(Math.abs(d.expiresAtMillis() - (before + 600_000)) < 5_000, "exp: " + d.expiresAtMillis());
        assertEquals(null, check(a, "u", rs256("plain", 600)).rights(), "no claim: no rights of its own");

        Authenticator.Decision bad = check(a, "u", rs256("dev", 600, java.util.Map.of("acl", java.util.Map.of("pub", "not-a-list"))));
        assertFalse(bad.allowed());
        assertEquals(ReasonCode.NOT_AUTHORIZED, bad.reasonCode());
        assertTrue(bad.why().contains("acl"), bad.why());
    }
}
