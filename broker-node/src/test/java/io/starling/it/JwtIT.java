package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.starling.auth.JwtAuthenticatorTest;
import io.starling.protocol.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * JWTs as passwords (auth.jwt.*) with mosquitto_pub and Paho v5 over real sockets: a valid token
 * lets a client in as its subject, an expired one is refused with the spec's code in each version,
 * passwords still work beside tokens, and a key taken out of the JWKS file ends the clients that
 * used it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JwtIT {
    static BrokerFixture broker;
    static Path dir;
    static Path jwks;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-jwt");
        jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, JwtAuthenticatorTest.jwks().toString(false));
        Path pw = dir.resolve("passwd");
        assertEquals(0, io.starling.auth.PasswdCommandTestAccess.run("-c", "-b", pw.toString(), "alice", "a-pw"));
        broker = new BrokerFixture().with("auth.jwt.jwks-file", jwks).with("auth.password-file", pw);
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
        TempDirs.delete(dir);
    }

    static Object[] mosquittoPub(String version, String user, String password) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(broker.port()),
                "-V", version, "-t", "jwt/test", "-m", "hi", "-q", "1", "-u", user, "-P", password));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "mosquitto_pub did not finish");
        return new Object[] {p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)};
    }

    static PahoV5Client v5(String id, String user, String password) throws Exception {
        return PahoV5Client.connect(broker.tcpUri(), id, o -> {
            if (user != null) {
                o.setUserName(user);
            }
            o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        });
    }

    @Test
    @Order(1)
    void mosquittoPubWithATokenGetsInAndWithAnExpiredOneHearsWhyNot() throws Exception {
        Assumptions.assumeTrue(MosquittoClientsIT.onPath("mosquitto_pub"), "mosquitto_pub not on the PATH");
        for (String version : List.of("mqttv311", "mqttv5")) {
            Object[] ok = mosquittoPub(version, "device", JwtAuthenticatorTest.rs256("device-1", 600));
            assertEquals(0, ok[0], version + ": " + ok[1]);
            Object[] expired = mosquittoPub(version, "device", JwtAuthenticatorTest.rs256("device-1", -3600));
            assertNotEquals(0, expired[0], version);
            assertTrue(expired[1].toString().toLowerCase().contains("bad user name or password"), expired[1].toString());
        }
    }

    @Test
    @Order(2)
    void pahoV5ConnectsWithEachAlgorithmAndIsRefusedWith0x86ForABadToken() throws Exception {
        String es256 = JwtAuthenticatorTest.token(JWSAlgorithm.ES256, "e1", new ECDSASigner(
                (com.nimbusds.jose.jwk.ECKey) JwtAuthenticatorTest.EC), "device-ec", 600, 0);
        try (PahoV5Client c = v5("jwt-ec", null, es256)) {
            assertTrue(c.client.isConnected(), "a password alone: 5.0 allows it");
        }
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, assertThrows(MqttException.class,
                () -> v5("jwt-expired", "x", JwtAuthenticatorTest.rs256("device-1", -3600))).getReasonCode());
        // 3.1.1 over a bare socket: CONNACK 0x04 for a token signed by nobody the node knows.
        String forged = JwtAuthenticatorTest.token(JWSAlgorithm.RS256, "r1", new com.nimbusds.jose.crypto.RSASSASigner(
                new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).generate()), "device-1", 600, 0);
        assertArrayEquals(new byte[] {0x20, 2, 0, 4}, ProxyProtocolIT.connectVia("127.0.0.1", broker.port(), new byte[0],
                ProxyProtocolIT.connect("jwt-forged", "x", forged)));
        // A password that is no JWT is the password file's.
        try (PahoV5Client alice = v5("jwt-alice", "alice", "a-pw")) {
            assertTrue(alice.client.isConnected());
        }
    }

    @Test
    @Order(3)
    void aKeyTakenOutOfTheJwksFileEndsTheClientsThatUsedIt() throws Exception {
        String es256 = JwtAuthenticatorTest.token(JWSAlgorithm.ES256, "e1", new ECDSASigner(
                (com.nimbusds.jose.jwk.ECKey) JwtAuthenticatorTest.EC), "device-ec", 600, 0);
        try (PahoV5Client rsa = v5("jwt-rsa", "x", JwtAuthenticatorTest.rs256("device-rsa", 600));
             PahoV5Client ec = v5("jwt-ec-stays", "x", es256)) {
            JWKSet without = new JWKSet(JwtAuthenticatorTest.jwks().getKeys().stream()
                    .filter(k -> !"r1".equals(k.getKeyID())).toList());
            Path tmp = dir.resolve("jwks.json.new");
            Files.writeString(tmp, without.toString(false));
            Files.move(tmp, jwks, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            org.eclipse.paho.mqttv5.client.MqttDisconnectResponse d = rsa.disconnects.poll(15, TimeUnit.SECONDS);
            assertTrue(d != null, "the client whose key was removed was not disconnected within 15 s");
            assertEquals(ReasonCode.NOT_AUTHORIZED, d.getReturnCode());
            assertTrue(ec.client.isConnected(), "a client whose key stays stays");
        }
    }

    static String es256(String sub, long expiresIn, java.util.Map<String, Object> claims) throws Exception {
        return JwtAuthenticatorTest.token(JWSAlgorithm.ES256, "e1", new ECDSASigner((com.nimbusds.jose.jwk.ECKey) JwtAuthenticatorTest.EC),
                sub, expiresIn, claims);
    }

    @Test
    @Order(4)
    void theTokensAclClaimIsWhatTheClientMayDo() throws Exception {
        // ES256: the RSA key r1 left the JWKS file in the test before.
        String token = es256("device-9", 600, java.util.Map.of("acl",
                java.util.Map.of("pub", List.of("devices/device-9/up"), "sub", List.of("devices/device-9/down"))));
        try (PahoV5Client c = v5("jwt-acl", "x", token)) {
            assertEquals(0, AclIT.pubackCode(c, "devices/device-9/up", 1));
            assertEquals(ReasonCode.NOT_AUTHORIZED, AclIT.pubackCode(c, "devices/device-8/up", 1));
            assertArrayEquals(new int[] {1, ReasonCode.NOT_AUTHORIZED}, c.subscribe(null,
                    new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/device-9/down", 1),
                    new org.eclipse.paho.mqttv5.common.MqttSubscription("devices/#", 1)));
        }
    }

    @Test
    @Order(5)
    void aClientIsDisconnectedWhenItsTokenExpires() throws Exception {
        try (PahoV5Client c = v5("jwt-short", "x", es256("device-short", 3, java.util.Map.of()))) {
            assertTrue(c.client.isConnected());
            org.eclipse.paho.mqttv5.client.MqttDisconnectResponse d = c.disconnects.poll(15, TimeUnit.SECONDS);
            assertTrue(d != null, "not disconnected when its token's exp passed");
            assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, d.getReturnCode());
        }
    }
}
