package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** How the hook's HTTP answers are read: EMQX's result field, 204, 401/403, and what is an error. */
class HttpHookTest {
    static HttpHook.Answer answer(int status, String body) {
        return HttpHook.answer("http://hook/x", status, Buffer.buffer(body));
    }

    @Test
    void theResultFieldDecides() {
        assertEquals(HttpHook.Result.ALLOW, answer(200, "{\"result\":\"allow\",\"username\":\"u\"}").result());
        assertEquals("u", answer(200, "{\"result\":\"allow\",\"username\":\"u\"}").body().getString("username"));
        assertEquals(HttpHook.Result.DENY, answer(200, "{\"result\":\"deny\"}").result());
        assertEquals(HttpHook.Result.IGNORE, answer(200, "{\"result\":\"ignore\"}").result());
        assertEquals(HttpHook.Result.ALLOW, answer(204, "").result());
        assertEquals(HttpHook.Result.DENY, answer(401, "").result());
        assertEquals(HttpHook.Result.DENY, answer(403, "whatever").result());
    }

    @Test
    void anythingElseIsAnErrorThatSaysWhat() {
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(500, "")).getMessage().contains("HTTP 500"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(302, "")).getMessage().contains("HTTP 302"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(200, "allow")).getMessage().contains("no JSON"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(200, "[1]")).getMessage().contains("no JSON"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(200, "{\"result\":\"ok\"}")).getMessage()
                .contains("result"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(200, "")).getMessage().contains("result"));
        assertTrue(assertThrows(HttpHook.Unanswered.class, () -> answer(200, "{\"result\":true}")).getMessage()
                .contains("result"));
    }

    @Test
    void thePeersHostIsSentWithoutItsPort() {
        assertEquals("10.0.0.7", HttpAuthenticator.host("10.0.0.7:51234"));
        assertEquals("::1", HttpAuthenticator.host("[::1]:51234"));
        assertEquals("fe80::1", HttpAuthenticator.host("fe80::1"));
        assertEquals("10.0.0.7", HttpAuthenticator.host("10.0.0.7"));
    }
}
