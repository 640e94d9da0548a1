package io.starling.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.config.ConfigException;
import io.starling.config.TlsSettings;
import io.starling.tls.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TLS listener's context from the files users have: PEM in its several forms, PKCS#12, and renewals. */
class TlsContextTest {
    @TempDir
    Path dir;

    static TlsSettings pem(Path cert, Path key, String password) {
        return new TlsSettings(cert.toString(), key.toString(), password, "", "", "", TlsSettings.ClientAuth.NONE,
                TlsSettings.Identity.NONE, "1.2", List.of(), "jdk");
    }

    @Test
    void pemChainAndPkcs8KeyOfRsaAndOfEc() throws Exception {
        TestPki.Issued ca = TestPki.ca("ca");
        Path[] rsa = TestPki.server(ca, "rsa-server").write(dir, "rsa");
        assertEquals("CN=rsa-server", new TlsContext("tls", pem(rsa[0], rsa[1], "")).certificate()
                .getSubjectX500Principal().getName());
        TestPki.Issued ec = TestPki.client(ca, "CN=ec-server");
        Path[] ecFiles = ec.write(dir, "ec");
        assertEquals("CN=ec-server", new TlsContext("tls", pem(ecFiles[0], ecFiles[1], "")).certificate()
                .getSubjectX500Principal().getName());
    }

    @Test
    void traditionalAndEncryptedKeysAreRead() throws Exception {
        TestPki.Issued server = TestPki.server(TestPki.ca("ca"), "server");
        Path[] files = server.write(dir, "s");
        Path traditional = Files.writeString(dir.resolve("rsa.key"), TestPki.traditional(server.keys().getPrivate()));
        assertTrue(Files.readString(traditional).contains("BEGIN RSA PRIVATE KEY"));
        new TlsContext("tls", pem(files[0], traditional, ""));
        Path encrypted = Files.writeString(dir.resolve("enc.key"), TestPki.encrypted(server.keys().getPrivate(), "pw"));
        assertTrue(Files.readString(encrypted).contains("BEGIN ENCRYPTED PRIVATE KEY"));
        new TlsContext("tls", pem(files[0], encrypted, "pw"));
        ConfigException wrong = assertThrows(ConfigException.class, () -> new TlsContext("tls", pem(files[0], encrypted, "nope")));
        assertTrue(wrong.getMessage().contains("key-password"), wrong.getMessage());
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() throws Exception {
        TestPki.Issued ca = TestPki.ca("ca");
        Path[] a = TestPki.server(ca, "a").write(dir, "a");
        Path[] b = TestPki.server(ca, "b").write(dir, "b");
        ConfigException e = assertThrows(ConfigException.class, () -> new TlsContext("tls", pem(a[0], b[1], "")));
        assertTrue(e.getMessage().contains("is not the key of the certificate"), e.getMessage());
    }

    @Test
    void pkcs12Keystore() throws Exception {
        TestPki.Issued server = TestPki.server(TestPki.ca("ca"), "p12-server");
        Path p12 = TestPki.pkcs12(server, dir.resolve("server.p12"), "changeit");
        TlsContext c = new TlsContext("tls", new TlsSettings("", "", "", p12.toString(), "changeit", "",
                TlsSettings.ClientAuth.NONE, TlsSettings.Identity.NONE, "1.3", List.of(), "jdk"));
        assertEquals(server.certificate(), c.certificate());
    }

    @Test
    void aReloadTakesNewFilesAndABadOneKeepsTheOldContext() throws Exception {
        TestPki.Issued ca = TestPki.ca("ca");
        Path[] first = TestPki.server(ca, "first").write(dir, "live");
        TlsContext c = new TlsContext("tls", pem(first[0], first[1], ""));
        var before = c.current();
        TestPki.server(ca, "second").write(dir, "live");
        c.reload();
        assertEquals("CN=second", c.certificate().getSubjectX500Principal().getName());
        assertNotEquals(before, c.current());
        var good = c.current();
        Files.writeString(first[1], "-----BEGIN PRIVATE KEY-----\nhalf written");
        c.reload();
        assertEquals("CN=second", c.certificate().getSubjectX500Principal().getName());
        assertEquals(good, c.current());
    }
}
