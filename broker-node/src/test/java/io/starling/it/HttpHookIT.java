package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.starling.protocol.ReasonCode;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP authentication and authorization hook (auth.http.*) against a real HTTP server in the
 * test, with Paho v5 and mosquitto_pub over real sockets: the hook's allow, deny and ignore at
 * CONNECT, its answer's username, rights and expiry, fail-closed on errors and timeouts, a
 * question per first use of a topic (and not per message), and a client's publishes kept in
 * order while one of them waits for its answer.
 */
class HttpHookIT {
    static HttpServer hook;
    static BrokerFixture broker;
    static Path dir;
    /** Every request the hook got: path and body. */
    static final List<JsonObject> requests = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hook.setExecutor(Executors.newFixedThreadPool(4));
        hook.createContext("/auth", x -> answer(x, authenticate(read(x, "/auth"))));
        hook.createContext("/acl", x -> answer(x, authorize(read(x, "/acl"))));
        hook.start();
        dir = Files.createTempDirectory("starling-hook");
        Path pw = dir.resolve("passwd");
        assertEquals(0, io.starling.auth.PasswdCommandTestAccess.run("-c", "-b", pw.toString(), "carol", "c-pw"));
        String base = "http://127.0.0.1:" + hook.getAddress().getPort();
        broker = new BrokerFixture().with("auth.http.authenticate-url", base + "/auth")
                .with("auth.http.authorize-url", base + "/acl").with("auth.http.timeout-ms", 1000)
                .with("auth.password-file", pw);
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
        if (hook != null) {
            hook.stop(0);
        }
        TempDirs.delete(dir);
    }

    private static JsonObject read(HttpExchange x, String path) throws IOException {
        JsonObject body = new JsonObject(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        requests.add(body.copy().put("path", path));
        return body;
    }

    /** [status, body] */
    private static Object[] authenticate(JsonObject r) {
        long now = System.currentTimeMillis() / 1000;
        return switch (String.valueOf(r.getString("username"))) {
            case "alice" -> "a-pw".equals(r.getString("password")) ? ok("allow") : ok("deny");
            case "mapped" -> new Object[] {200, new JsonObject().put("result", "allow").put("username", "device-7")
                    .put("acl", new JsonObject().put("pub", List.of("devices/device-7/#")).put("sub", List.of("devices/device-7/#")))};
            case "short" -> new Object[] {200, new JsonObject().put("result", "allow").put("expire_at", now + 3)};
            case "bob" -> ok("deny");
            case "carol" -> ok("ignore");
            case "forbidden" -> new Object[] {403, null};
            case "broken" -> new Object[] {500, null};
            case "slow" -> {
                sleep(2500); // past auth.http.timeout-ms
                yield ok("allow");
            }
            default -> ok("deny");
        };
    }

    private static Object[] authorize(JsonObject r) {
        String topic = r.getString("topic");
        if (topic.startsWith("denied/")) {
            return ok("deny");
        }
        if (topic.startsWith("error/")) {
            return new Object[] {500, null};
        }
        if (topic.startsWith("slow/")) {
            sleep(300);
        }
        return topic.startsWith("nobody/") ? new Object[] {204, null} : ok("allow");
    }

    private static Object[] ok(String result) {
        return new Object[] {200, new JsonObject().put("result", result)};
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void answer(HttpExchange x, Object[] a) throws IOException {
        byte[] body = a[1] == null ? new byte[0] : a[1].toString().getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders((Integer) a[0], body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
        x.close();
    }

    static PahoV5Client v5(String id, String user, String password) throws MqttException {
        return PahoV5Client.connect(broker.tcpUri(), id, o -> {
            o.setUserName(user);
            o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        });
    }

    static int refusal(String id, String user, String password) {
        return assertThrows(MqttException.class, () -> v5(id, user, password).close()).getReasonCode();
    }

    static long asked(String path, String clientId, String topic) {
        return requests.stream().filter(r -> r.getString("path").equals(path) && clientId.equals(r.getString("clientid"))
                && (topic == null || topic.equals(r.getString("topic")))).count();
    }

    @Test
    void theHookDecidesEachConnectAndItsAllowsAreKept() throws Exception {
        try (PahoV5Client alice = v5("hook-alice", "alice", "a-pw")) {
            assertTrue(alice.client.isConnected());
        }
        JsonObject asked = requests.stream().filter(r -> "hook-alice".equals(r.getString("clientid"))).findFirst().orElseThrow();
        assertEquals("alice", asked.getString("username"));
        assertEquals("a-pw", asked.getString("password"));
        assertEquals("127.0.0.1", asked.getString("peerhost"));
        try (PahoV5Client again = v5("hook-alice", "alice", "a-pw")) {
            assertTrue(again.client.isConnected());
        }
        assertEquals(1, asked("/auth", "hook-alice", null), "the second CONNECT with the same password was answered from the cache");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("hook-alice", "alice", "wrong"));
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("hook-bob", "bob", "b-pw"));
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("hook-forbidden", "forbidden", "x"), "HTTP 403 denies");
        assertTrue(broker.metric("starling_auth_hook_requests_total{kind=\"authenticate\",result=\"deny\"}") >= 2);
    }

    @Test
    void ignoreLeavesTheDecisionToThePasswordFile() throws Exception {
        try (PahoV5Client carol = v5("hook-carol", "carol", "c-pw")) {
            assertTrue(carol.client.isConnected());
        }
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("hook-carol-2", "carol", "wrong"));
        assertEquals(1, asked("/auth", "hook-carol-2", null));
    }

    @Test
    void aHookThatFailsOrIsTooSlowRefusesAsServerUnavailable() throws Exception {
        assertEquals(ReasonCode.SERVER_UNAVAILABLE, refusal("hook-broken", "broken", "x"));
        assertEquals(ReasonCode.SERVER_UNAVAILABLE, refusal("hook-slow", "slow", "x"));
        assertTrue(broker.metric("starling_auth_hook_requests_total{kind=\"authenticate\",result=\"error\"}") >= 2);
        Assumptions.assumeTrue(MosquittoClientsIT.onPath("mosquitto_pub"), "mosquitto_pub not on the PATH");
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(broker.port()), "-V", "mqttv311",
                "-i", "hook-broken-311", "-u", "broken", "-P", "x", "-t", "t", "-m", "m").redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, p.exitValue());
        assertTrue(out.toLowerCase().contains("unavailable"), "3.1.1 hears return code 3, Server unavailable: " + out);
    }

    @Test
    void eachTopicIsAskedOnceAndADenyIsTheClientsReasonCode() throws Exception {
        try (PahoV5Client alice = v5("hook-topics", "alice", "a-pw")) {
            assertArrayEquals(new int[] {1, ReasonCode.NOT_AUTHORIZED, ReasonCode.NOT_AUTHORIZED}, alice.subscribe(null,
                    new MqttSubscription("ok/#", 1), new MqttSubscription("denied/#", 1), new MqttSubscription("error/#", 1)));
            for (int i = 0; i < 3; i++) {
                assertEquals(0, AclIT.pubackCode(alice, "ok/a", 1));
                assertEquals(0, AclIT.pubackCode(alice, "nobody/a", 1), "HTTP 204 allows");
            }
            assertNotNull(alice.poll(5000), "the allowed subscription gets what it matches");
            assertEquals(1, asked("/acl", "hook-topics", "ok/a"), "a topic is asked once, not per message");
            assertEquals(1, asked("/acl", "hook-topics", "ok/#"));
            assertEquals(ReasonCode.NOT_AUTHORIZED, AclIT.pubackCode(alice, "denied/a", 1));
            assertEquals(ReasonCode.NOT_AUTHORIZED, AclIT.pubackCode(alice, "error/a", 1), "fail-closed");
            JsonObject r = requests.stream().filter(x -> "denied/a".equals(x.getString("topic"))).findFirst().orElseThrow();
            assertEquals("publish", r.getString("action"));
            assertEquals("alice", r.getString("username"));
        }
        assertTrue(broker.metric("starling_authorization_denials_total{action=\"subscribe\"}") >= 2);
        assertTrue(broker.metric("starling_auth_hook_requests_total{kind=\"authorize\",result=\"deny\"}") >= 2);
    }

    @Test
    void aPublishWaitingForItsAnswerIsNotOvertakenByTheNextOne() throws Exception {
        try (PahoV5Client sub = v5("hook-order-sub", "alice", "a-pw"); PahoV5Client pub = v5("hook-order-pub", "alice", "a-pw")) {
            assertArrayEquals(new int[] {0, 0}, sub.subscribe(null, new MqttSubscription("slow/#", 0), new MqttSubscription("fast/#", 0)));
            pub.publish("fast/1", "warm-up", 1, false); // its answer is kept from here on
            assertEquals("warm-up", sub.poll(5000).text());
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                String topic = (i % 2 == 0 ? "slow/" : "fast/") + i; // every slow/ topic is new: each waits 300 ms
                pub.client.publish(topic, ("m" + i).getBytes(StandardCharsets.UTF_8), 0, false);
                sent.add("m" + i);
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                PahoV5Client.Received m = sub.poll(5000);
                assertNotNull(m, "got only " + got);
                got.add(m.text());
            }
            assertEquals(sent, got, "QoS 0 publishes of one client arrive in the order sent");
        }
    }

    @Test
    void theHooksUsernameAndRightsAreTheClients() throws Exception {
        try (PahoV5Client d = v5("hook-mapped", "mapped", "x")) {
            assertEquals(0, AclIT.pubackCode(d, "devices/device-7/up", 1));
            assertEquals(ReasonCode.NOT_AUTHORIZED, AclIT.pubackCode(d, "devices/device-8/up", 1),
                    "the answer's acl allows device-7's topics alone");
            JsonObject r = requests.stream().filter(x -> "hook-mapped".equals(x.getString("clientid")) && "/acl".equals(x.getString("path")))
                    .findFirst().orElseThrow();
            assertEquals("device-7", r.getString("username"), "the client is known by the name the hook gave");
            assertEquals(0, asked("/acl", "hook-mapped", "devices/device-8/up"), "the answer's own rights refused it first");
        }
    }

    @Test
    void aClientIsDisconnectedWhenItsGrantExpires() throws Exception {
        try (PahoV5Client c = v5("hook-short", "short", "x")) {
            org.eclipse.paho.mqttv5.client.MqttDisconnectResponse d = c.disconnects.poll(10, TimeUnit.SECONDS);
            assertNotNull(d, "not disconnected when expire_at passed");
            assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, d.getReturnCode());
        }
        assertTrue(broker.metric("starling_credentials_expired_total") >= 1);
    }
}
