package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;

class PasswordFileTest {
    private static final String ALICE = PasswordHash.Pbkdf2Sha512.of(PasswordHash.utf8("alice-pw"), 101,
            new SecureRandom()).encoded();
    private static final String BOB = PasswordHash.Pbkdf2Sha512.of(PasswordHash.utf8("bob-pw"), 101,
            new SecureRandom()).encoded();

    @Test
    void readsLinesAsMosquittoDoes() {
        PasswordFile f = PasswordFile.parse("# devices\n\n  alice :  " + ALICE + "  \r\nnot a user line\nbob:" + BOB
                + ":trailing\n");
        assertEquals(List.of(), f.problems());
        assertEquals(2, f.size());
        assertEquals(PasswordFile.Check.OK, f.check("alice", PasswordHash.utf8("alice-pw")), "names and hashes are trimmed");
        assertEquals(PasswordFile.Check.OK, f.check("bob", PasswordHash.utf8("bob-pw")), "the hash ends at a second ':'");
        assertEquals(PasswordFile.Check.BAD_PASSWORD, f.check("bob", PasswordHash.utf8("alice-pw")));
        assertEquals(PasswordFile.Check.BAD_PASSWORD, f.check("bob", null), "no password is a wrong one");
        assertEquals(PasswordFile.Check.UNKNOWN_USER, f.check("carol", PasswordHash.utf8("bob-pw")));
        assertEquals(PasswordFile.Check.UNKNOWN_USER, f.check("# devices", PasswordHash.utf8("")));
    }

    @Test
    void aBadLineCostsItsUserAloneAndIsReportedByLine() {
        PasswordFile f = PasswordFile.parse(String.join("\n",
                "alice:" + ALICE,
                ":" + BOB,
                "bob:",
                "carol:plaintext",
                "alice:" + BOB,
                "dave:$7$101$!!!$abc",
                "bob:" + BOB));
        assertEquals(List.of(2, 3, 4, 5, 6), f.problems().stream().map(PasswordFile.Problem::line).toList());
        assertTrue(f.problems().get(2).message().contains("starling-passwd -U"), f.problems().get(2).message());
        assertFalse(f.problems().toString().contains(ALICE.substring(10)), "no hash in a problem");
        assertEquals(PasswordFile.Check.OK, f.check("alice", PasswordHash.utf8("alice-pw")), "the first line counts");
        assertEquals(PasswordFile.Check.OK, f.check("bob", PasswordHash.utf8("bob-pw")));
        assertEquals(PasswordFile.Check.UNKNOWN_USER, f.check("carol", PasswordHash.utf8("plaintext")),
                "a plain-text password is never compared as text");
        assertEquals(PasswordFile.Check.UNKNOWN_USER, f.check("dave", PasswordHash.utf8("")));
    }

    @Test
    void usernamesAreUtf8() {
        PasswordFile f = PasswordFile.parse("capteur-été:" + ALICE + "\n");
        assertEquals(PasswordFile.Check.OK, f.check("capteur-été", "alice-pw".getBytes(StandardCharsets.UTF_8)));
    }
}
