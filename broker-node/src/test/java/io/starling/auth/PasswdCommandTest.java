package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** starling-passwd, with mosquitto_passwd's options; its $7$ files are checked against mosquitto_passwd's own reading. */
class PasswdCommandTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final Deque<char[]> typed = new ArrayDeque<>();

    int run(String... args) {
        return new PasswdCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), p -> typed.poll()).run(args);
    }

    PasswordFile file(Path p) throws Exception {
        PasswordFile f = PasswordFile.read(p);
        assertEquals(List.of(), f.problems());
        return f;
    }

    @Test
    void createsAddsUpdatesAndDeletesUsersKeepingTheOtherLines() throws Exception {
        Path pw = dir.resolve("passwd");
        assertEquals(0, run("-c", "-b", pw.toString(), "alice", "a-pw"));
        assertTrue(file(pw).users().get("alice") instanceof PasswordHash.Argon2id, "argon2id by default");
        Files.writeString(pw, "# kept\n" + Files.readString(pw));
        assertEquals(0, run("-H", "sha512-pbkdf2", "-I", "202", "-b", pw.toString(), "bob", "b-pw"));
        assertTrue(Files.readString(pw).contains("bob:$7$202$"), Files.readString(pw));
        typed.add("a-new".toCharArray());
        typed.add("a-new".toCharArray());
        assertEquals(0, run(pw.toString(), "alice"), err.toString());
        PasswordFile f = file(pw);
        assertEquals(PasswordFile.Check.OK, f.check("alice", PasswordHash.utf8("a-new")));
        assertEquals(PasswordFile.Check.OK, f.check("bob", PasswordHash.utf8("b-pw")));
        assertTrue(Files.readString(pw).startsWith("# kept\nalice:"), "updated in place, comment kept");
        assertEquals(0, run("-D", pw.toString(), "alice"));
        assertFalse(file(pw).contains("alice"));
        assertEquals(1, run("-D", pw.toString(), "alice"), "deleting an unknown user is an error");
        assertEquals(Set600.ONLY_OWNER, Set600.of(pw));
    }

    @Test
    void refusesWhatMosquittoPasswdRefuses() {
        Path pw = dir.resolve("passwd");
        assertEquals(1, run("-b", pw.toString(), "alice", "x"), "no -c and no file");
        assertEquals(1, run("-c", "-b", pw.toString(), "al:ice", "x"));
        assertTrue(err.toString().contains("must not contain the ':'"), err.toString());
        typed.add("one".toCharArray());
        typed.add("two".toCharArray());
        assertEquals(1, run("-c", pw.toString(), "alice"));
        assertTrue(err.toString().contains("do not match"), err.toString());
        assertEquals(1, run("-H", "md5", "-c", "-b", pw.toString(), "alice", "x"));
        assertEquals(1, run("-c", "-D", pw.toString(), "alice"));
        assertFalse(Files.exists(pw), "nothing written on a refusal");
    }

    @Test
    void hashesAPlainTextFileAndLeavesHashedLinesAlone() throws Exception {
        Path pw = dir.resolve("passwd");
        assertEquals(0, run("-c", "-b", pw.toString(), "hashed", "h-pw"));
        Files.writeString(pw, Files.readString(pw) + "plain:p-pw\n");
        assertEquals(0, run("-U", pw.toString()));
        PasswordFile f = file(pw);
        assertEquals(PasswordFile.Check.OK, f.check("hashed", PasswordHash.utf8("h-pw")));
        assertEquals(PasswordFile.Check.OK, f.check("plain", PasswordHash.utf8("p-pw")));
        assertTrue(out.toString().contains("1 password(s) hashed"), out.toString());
    }

    @Test
    void mosquittoPasswdAcceptsTheFileItWrites() throws Exception {
        PasswordHashTest.assumeInstalled("mosquitto_passwd");
        Path pw = dir.resolve("passwd");
        assertEquals(0, run("-H", "sha512-pbkdf2", "-c", "-b", pw.toString(), "alice", "a-pw"));
        // mosquitto_passwd rewrites every line it reads: it must parse ours to keep alice and add bob.
        PasswordHashTest.run("mosquitto_passwd", "-b", pw.toString(), "bob", "b-pw");
        PasswordFile f = file(pw);
        assertEquals(PasswordFile.Check.OK, f.check("alice", PasswordHash.utf8("a-pw")));
        assertEquals(PasswordFile.Check.OK, f.check("bob", PasswordHash.utf8("b-pw")));
    }

    /** The file's permissions: a password file readable by others is a leak. */
    enum Set600 {
        ONLY_OWNER, OTHERS;

        static Set600 of(Path p) throws Exception {
            return Files.getPosixFilePermissions(p).equals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"))
                    ? ONLY_OWNER : OTHERS;
        }
    }
}
