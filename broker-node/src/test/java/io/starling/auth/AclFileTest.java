package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.topic.TopicFilter;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Mosquitto's acl_file rules, read as Mosquitto reads them, and SUBSCRIBE checked by filter coverage. */
class AclFileTest {
    static final String FILE = """
            # anonymous clients
            topic read public/#
            topic status/lobby

            user alice
            topic readwrite alice/#
            topic deny alice/secret
            topic write shared/in
            topic read $SYS/broker/uptime

            user bob with spaces
            topic read rooms/a room/temp

            pattern write devices/%u/%c/#
            pattern read commands/%c
            """;

    static final AclFile ACL = AclFile.parse(FILE);

    @Test
    void anonymousRulesAreTheTopicLinesBeforeAnyUser() {
        Acl anon = ACL.forClient(null, "c1");
        assertTrue(anon.read("public/news").allowed());
        assertFalse(anon.publish("public/news").allowed(), "read only");
        assertTrue(anon.publish("status/lobby").allowed(), "access omitted: readwrite");
        assertTrue(anon.read("status/lobby").allowed());
        assertFalse(anon.publish("devices//c1/x").allowed(), "a pattern with %u is not an anonymous client's");
        assertTrue(anon.read("commands/c1").allowed(), "a pattern with only %c is");
        assertFalse(anon.read("alice/x").allowed(), "deny by default");
    }

    @Test
    void userRulesDenyFirstThenAllowThenPatterns() {
        Acl alice = ACL.forClient("alice", "dev-1");
        assertTrue(alice.publish("alice/x").allowed());
        assertTrue(alice.read("alice/deep/x").allowed());
        Acl.Verdict secret = alice.read("alice/secret");
        assertFalse(secret.allowed());
        assertEquals(7, secret.line(), "the deny line, for the log");
        assertTrue(alice.publish("shared/in").allowed());
        assertFalse(alice.read("shared/in").allowed(), "write only");
        assertTrue(alice.publish("devices/alice/dev-1/temp").allowed(), "pattern with %u and %c");
        assertFalse(alice.publish("devices/alice/dev-2/temp").allowed(), "another client id");
        assertFalse(alice.publish("devices/bob/dev-1/temp").allowed(), "another user");
        assertFalse(alice.read("public/news").allowed(), "anonymous rules are not a user's");
        Acl bob = ACL.forClient("bob with spaces", "b");
        assertTrue(bob.read("rooms/a room/temp").allowed(), "user names and topics run to the end of the line");
    }

    @Test
    void dollarTopicsOnlyByRulesThatStartWithDollar() {
        AclFile all = AclFile.parse("user root\ntopic readwrite #\ntopic read +/broker/#\n");
        Acl root = all.forClient("root", "r");
        assertFalse(root.read("$SYS/broker/uptime").allowed(), "# does not match $SYS [MQTT-4.7.2-1]");
        assertFalse(root.subscribe(TopicFilter.of("$SYS/#")).allowed());
        Acl alice = ACL.forClient("alice", "a");
        assertTrue(alice.read("$SYS/broker/uptime").allowed());
        assertTrue(alice.subscribe(TopicFilter.of("$SYS/broker/uptime")).allowed());
        assertFalse(alice.subscribe(TopicFilter.of("$SYS/#")).allowed());
    }

    @Test
    void aNameWithWildcardsDoesNotWidenItsPatterns() {
        AclFile f = AclFile.parse("pattern readwrite devices/%u/#\npattern read in/%c\n");
        assertFalse(f.forClient("#", "c").publish("devices/anything/x").allowed());
        assertFalse(f.forClient("+", "c").read("devices/eve/x").allowed());
        assertFalse(f.forClient("eve", "+").read("in/x").allowed());
        assertTrue(f.forClient("eve", "c").read("in/c").allowed());
    }

    @Test
    void aSubscriptionIsGrantedWhereAReadRuleCoversAllOfIt() {
        Acl alice = ACL.forClient("alice", "a");
        assertTrue(alice.subscribe(TopicFilter.of("alice/#")).allowed());
        assertTrue(alice.subscribe(TopicFilter.of("alice/+/x")).allowed());
        assertTrue(alice.subscribe(TopicFilter.of("alice")).allowed(), "alice/# matches alice too");
        assertTrue(alice.subscribe(TopicFilter.of("$share/g/alice/#")).allowed(), "shared: the filter counts");
        assertFalse(alice.subscribe(TopicFilter.of("alice/secret")).allowed(), "all of it denied");
        assertFalse(alice.subscribe(TopicFilter.of("#")).allowed(), "more than alice may read");
        assertFalse(alice.subscribe(TopicFilter.of("+/x")).allowed());
        assertFalse(alice.subscribe(TopicFilter.of("shared/in")).allowed(), "write only");
        // A deny covering part of the filter is enforced per message at delivery, not here.
        assertTrue(alice.read("alice/other").allowed());
    }

    @Test
    void coverage() {
        assertTrue(Acl.covers(List.of("a", "#"), List.of("a")));
        assertTrue(Acl.covers(List.of("a", "+"), List.of("a", "+")));
        assertFalse(Acl.covers(List.of("a", "+"), List.of("a", "#")));
        assertFalse(Acl.covers(List.of("a", "+"), List.of("a")));
        assertFalse(Acl.covers(List.of("a"), List.of("a", "b")));
        assertTrue(Acl.covers(List.of("+", "+"), List.of("x", "y")));
        assertFalse(Acl.covers(List.of("x", "y"), List.of("x", "+")));
    }

    @Test
    void aBadLineMakesTheFileInvalidAndNamesTheLine() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclFile.parse("topic read a/#\nallow all\n"))
                .getMessage().startsWith("line 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclFile.parse("user\n")).getMessage().contains("line 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclFile.parse("topic read a/#/b\n"))
                .getMessage().contains("not a valid topic filter"));
        // As in Mosquitto, an access word with nothing after it is the topic itself, readwrite.
        assertTrue(AclFile.parse("topic deny\n").forClient(null, "c").publish("deny").allowed());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> AclFile.parse("topic\n"))
                .getMessage().contains("line 1"));
    }
}
