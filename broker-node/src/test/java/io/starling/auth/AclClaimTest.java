package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.topic.TopicFilter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** EMQX's two forms of a client's rights, and their conjunction with an ACL file's. */
class AclClaimTest {
    static Acl acl(Object claim) {
        return Acl.of("test", AclClaim.rules(claim));
    }

    @Test
    void theObjectFormGivesPublishSubscribeAndBoth() {
        Acl a = acl(Map.of("pub", List.of("up/#"), "sub", List.of("down/+"), "all", List.of("chat/#")));
        assertTrue(a.publish("up/1").allowed());
        assertFalse(a.read("up/1").allowed());
        assertTrue(a.read("down/1").allowed());
        assertFalse(a.publish("down/1").allowed());
        assertTrue(a.publish("chat/x").allowed());
        assertTrue(a.subscribe(TopicFilter.of("chat/#")).allowed());
        assertFalse(a.subscribe(TopicFilter.of("#")).allowed(), "only what a rule covers");
        assertFalse(a.publish("else").allowed(), "nothing else");
        assertEquals(0, a.publish("else").line());
        assertEquals("test: no rule allows it", a.publish("else").rule());
    }

    @Test
    void inTheListFormADenyWinsAndDeniesItsActionAlone() {
        Acl a = acl(List.of(
                Map.of("permission", "allow", "action", "all", "topic", "devices/#"),
                Map.of("permission", "deny", "action", "publish", "topic", "devices/+/config"),
                Map.of("permission", "deny", "action", "subscribe", "topic", "devices/+/secret")));
        assertTrue(a.publish("devices/1/up").allowed());
        Acl.Verdict v = a.publish("devices/1/config");
        assertFalse(v.allowed());
        assertEquals(2, v.line(), "the rule's position");
        assertTrue(a.read("devices/1/config").allowed(), "a publish deny leaves reading alone");
        assertFalse(a.subscribe(TopicFilter.of("devices/1/secret")).allowed());
        assertTrue(a.publish("devices/1/secret").allowed());
        assertTrue(a.subscribe(TopicFilter.of("devices/1/up")).allowed());
    }

    @Test
    void whatCannotBeUsedIsSaid() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclClaim.rules(Map.of("write", List.of("a"))))
                .getMessage().contains("write"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclClaim.rules(Map.of("pub", List.of("a/#/b"))))
                .getMessage().contains("a/#/b"));
        assertThrows(IllegalArgumentException.class, () -> AclClaim.rules(List.of(Map.of("permission", "maybe",
                "action", "publish", "topic", "a"))));
        assertThrows(IllegalArgumentException.class, () -> AclClaim.rules(List.of(Map.of("permission", "allow",
                "action", "read", "topic", "a"))));
        assertThrows(IllegalArgumentException.class, () -> AclClaim.rules("pub a"));
        assertThrows(IllegalArgumentException.class, () -> AclClaim.rules(Map.of("pub", List.of(7))));
    }

    @Test
    void bothTheFilesAndTheTokensRulesMustAllow() {
        Acl file = AclFile.parse("user alice\ntopic readwrite alice/#\ntopic deny alice/secret\n").forClient("alice", "c");
        Acl both = file.and(acl(Map.of("pub", List.of("alice/up", "alice/secret", "bob/x"))));
        assertTrue(both.publish("alice/up").allowed());
        Acl.Verdict fileSays = both.publish("alice/secret");
        assertFalse(fileSays.allowed());
        assertEquals("auth.acl-file line 3", fileSays.rule());
        Acl.Verdict tokenSays = both.publish("alice/down");
        assertFalse(tokenSays.allowed());
        assertEquals("test", tokenSays.source());
        assertFalse(both.publish("bob/x").allowed(), "the file does not allow it");
        assertTrue(Acl.ALLOW_ALL.and(acl(Map.of("pub", List.of("x")))).publish("x").allowed());
        assertFalse(Acl.ALLOW_ALL.and(acl(Map.of("pub", List.of("x")))).publish("y").allowed());
        assertTrue(Acl.ALLOW_ALL.and(null).allowsAll());
    }
}
