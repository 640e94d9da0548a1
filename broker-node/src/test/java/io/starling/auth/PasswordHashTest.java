package io.starling.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hashes made by other programs than ours: Debian's mosquitto_passwd ($6$, $7$), the reference
 * Argon2 command line tool (Debian's argon2) and Python's hashlib (for a password that is not
 * UTF-8). The tools are run by the tests; without them those tests are skipped, never passed.
 */
class PasswordHashTest {
    @TempDir
    Path dir;

    @Test
    void readsWhatMosquittoPasswdWritesInBothOfItsHashes() throws Exception {
        assumeInstalled("mosquitto_passwd");
        for (String hash : new String[] {"sha512-pbkdf2", "sha512"}) {
            Path file = dir.resolve("pw-" + hash);
            run("mosquitto_passwd", "-H", hash, "-c", "-b", file.toString(), "dev-1", "s3cret·ü");
            String line = Files.readString(file).strip();
            PasswordHash h = PasswordHash.parse(line.substring(line.indexOf(':') + 1));
            Class<? extends PasswordHash> kind = hash.equals("sha512") ? PasswordHash.Sha512.class
                    : PasswordHash.Pbkdf2Sha512.class;
            assertEquals(kind, h.getClass());
            assertTrue(h.matches("s3cret·ü".getBytes(StandardCharsets.UTF_8)), hash);
            assertFalse(h.matches("s3cret·u".getBytes(StandardCharsets.UTF_8)), hash);
            assertFalse(h.matches(new byte[0]), hash);
            assertEquals(line.substring(line.indexOf(':') + 1), h.encoded(), "written back as read");
        }
    }

    @Test
    void readsArgon2idFromTheReferenceImplementation() throws Exception {
        assumeInstalled("argon2");
        Process p = new ProcessBuilder("argon2", "saltsaltsalt1234", "-id", "-t", "3", "-m", "12", "-p", "2", "-e")
                .redirectErrorStream(true).start();
        p.getOutputStream().write("hunter2".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String phc = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, phc);
        PasswordHash h = PasswordHash.parse(phc);
        assertEquals(new PasswordHash.Argon2id(19, 4096, 3, 2, "saltsaltsalt1234".getBytes(StandardCharsets.US_ASCII),
                ((PasswordHash.Argon2id) h).hash()).encoded(), phc);
        assertTrue(h.matches("hunter2".getBytes(StandardCharsets.UTF_8)));
        assertFalse(h.matches("hunter3".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aPasswordIsBytesAndOnlyThoseBeforeTheFirstNulCount() {
        // PBKDF2-HMAC-SHA512 of the bytes ff fe 41 80 (not UTF-8), salt "0123456789ab", 101 rounds,
        // computed with Python's hashlib.pbkdf2_hmac, an implementation that is not ours.
        PasswordHash h = PasswordHash.parse("$7$101$MDEyMzQ1Njc4OWFi$mlpYzxAFEQeEM8Erk4bmWIabSK5Z4mIA3wk9RHkLSgITPH"
                + "70c20SO811zYF/C2kmLY1n7ISjBYe4uFBjC9IT8Q==");
        byte[] password = {(byte) 0xff, (byte) 0xfe, 0x41, (byte) 0x80};
        assertTrue(h.matches(password));
        assertTrue(h.matches(new byte[] {(byte) 0xff, (byte) 0xfe, 0x41, (byte) 0x80, 0, 'x', 'y'}),
                "Mosquitto hashes a C string: what follows a NUL is not part of it");
        assertFalse(h.matches(new byte[] {(byte) 0xff, (byte) 0xfe, 0x41}));
        assertFalse(h.matches(new String(password, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.UTF_8)),
                "the bytes, not a re-encoding of them");
    }

    @Test
    void whatStarlingWritesItReadsBack() {
        SecureRandom r = new SecureRandom();
        byte[] pw = "correct horse".getBytes(StandardCharsets.UTF_8);
        PasswordHash a = PasswordHash.Argon2id.of(pw, 1024, 2, r);
        PasswordHash b = PasswordHash.Pbkdf2Sha512.of(pw, 101, r);
        for (PasswordHash h : new PasswordHash[] {a, b}) {
            PasswordHash back = PasswordHash.parse(h.encoded());
            assertTrue(back.matches(pw));
            assertFalse(back.matches("correct horsf".getBytes(StandardCharsets.UTF_8)));
        }
        assertTrue(a.encoded().startsWith("$argon2id$v=19$m=1024,t=2,p=1$"), a.encoded());
        String[] fields = a.encoded().split("\\$");
        assertFalse(fields[4].contains("=") || fields[5].contains("="), "PHC strings carry unpadded Base64: " + a.encoded());
    }

    @Test
    void malformedHashesAreRefusedWithAReasonThatDoesNotQuoteThem() {
        String[] bad = {"", "plain", "$6$", "$6$!!$abc", "$7$x$c2FsdA==$aGFzaA==", "$7$0$c2FsdA==$aGFzaA==",
            "$5$c2FsdA==$aGFzaA==", "$argon2id$v=19$m=4096,t=3$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=3,p=1$c2FsdA$aGFzaA",
            "$argon2id$v=7$m=4096,t=3,p=1$c2FsdA$aGFzaA", "$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA"};
        for (String s : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PasswordHash.parse(s), s);
            assertFalse(!s.isEmpty() && s.length() > 4 && e.getMessage().contains(s), e.getMessage());
        }
    }

    static void assumeInstalled(String tool) {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", tool)), tool + " is not installed (.ci/run installs it)");
    }

    static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }
}
