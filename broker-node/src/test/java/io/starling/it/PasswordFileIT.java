package io.starling.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.ReasonCode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A password file as a Mosquitto user has it: made by Debian's mosquitto_passwd ($7$ and $6$),
 * with one user added by starling-passwd (Argon2id), given to a node as {@code auth.password-file};
 * checked with mosquitto_pub and Paho v3 and v5 over real sockets. Skipped without mosquitto_passwd
 * and mosquitto_pub (.ci/run installs them).
 */
class PasswordFileIT {
    static Path dir;
    static Path pw;
    static BrokerFixture broker;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(MosquittoClientsIT.onPath("mosquitto_passwd") && MosquittoClientsIT.onPath("mosquitto_pub"),
                "mosquitto_passwd / mosquitto_pub not on the PATH (apt-get install mosquitto mosquitto-clients)");
        dir = Files.createTempDirectory("starling-pw");
        pw = dir.resolve("passwd");
        run("mosquitto_passwd", "-c", "-b", pw.toString(), "sensor-1", "s3cret");
        run("mosquitto_passwd", "-H", "sha512", "-b", pw.toString(), "legacy", "old-pw");
        int code = io.starling.auth.PasswdCommandTestAccess.run("-b", pw.toString(), "gateway", "gw-pw");
        assertEquals(0, code, "starling-passwd -b");
        broker = new BrokerFixture().with("auth.password-file", pw);
        broker.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) {
            broker.stop();
        }
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), String.join(" ", cmd));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    /** mosquitto_pub with these credentials; returns its exit code and output. */
    static Object[] mosquittoPub(String version, String user, String password) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(broker.port()),
                "-V", version, "-t", "pw/test", "-m", "hi", "-q", "1"));
        if (user != null) {
            cmd.addAll(List.of("-u", user));
        }
        if (password != null) {
            cmd.addAll(List.of("-P", password));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "mosquitto_pub did not finish");
        return new Object[] {p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)};
    }

    @ParameterizedTest(name = "mosquitto_pub -V {0}")
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void mosquittoPubGetsInWithItsPasswordAndHearsWhyNotWithAWrongOne(String version) throws Exception {
        assertEquals(0, mosquittoPub(version, "sensor-1", "s3cret")[0]);
        assertEquals(0, mosquittoPub(version, "legacy", "old-pw")[0], "a $6$ line of Mosquitto 1.6");
        assertEquals(0, mosquittoPub(version, "gateway", "gw-pw")[0], "an argon2id line of starling-passwd");
        double before = broker.metric("starling_auth_failures_total{reason=\"bad_user_name_or_password\"}");
        Object[] wrong = mosquittoPub(version, "sensor-1", "s3cret!");
        assertNotEquals(0, wrong[0]);
        assertTrue(wrong[1].toString().toLowerCase().contains("bad user name or password"), wrong[1].toString());
        Object[] unknown = mosquittoPub(version, "nobody", "s3cret");
        assertTrue(unknown[1].toString().toLowerCase().contains("bad user name or password"), unknown[1].toString());
        assertEquals(before + 2, broker.metric("starling_auth_failures_total{reason=\"bad_user_name_or_password\"}"));
        Object[] anonymous = mosquittoPub(version, null, null);
        assertNotEquals(0, anonymous[0]);
        assertTrue(anonymous[1].toString().toLowerCase().contains("not authori"), anonymous[1].toString());
    }

    @Test
    void pahoV5SeesTheReasonCodes() throws Exception {
        String uri = "tcp://127.0.0.1:" + broker.port();
        try (PahoV5Client ok = PahoV5Client.connect(uri, "pw-v5-ok", o -> {
            o.setUserName("sensor-1");
            o.setPassword("s3cret".getBytes(StandardCharsets.UTF_8));
        })) {
            assertTrue(ok.client.isConnected());
        }
        MqttException bad = assertThrows(MqttException.class, () -> PahoV5Client.connect(uri, "pw-v5-bad", o -> {
            o.setUserName("sensor-1");
            o.setPassword("S3cret".getBytes(StandardCharsets.UTF_8));
        }));
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, bad.getReasonCode());
        MqttException anonymous = assertThrows(MqttException.class, () -> PahoV5Client.connect(uri, "pw-v5-anon", null));
        assertEquals(ReasonCode.NOT_AUTHORIZED, anonymous.getReasonCode());
    }

    @Test
    void thePasswordIsTheBytesBeforeTheFirstNulAsInMosquitto() throws Exception {
        String uri = "tcp://127.0.0.1:" + broker.port();
        byte[] withTail = "s3cret\0anything".getBytes(StandardCharsets.UTF_8);
        try (PahoV5Client ok = PahoV5Client.connect(uri, "pw-v5-nul", o -> {
            o.setUserName("sensor-1");
            o.setPassword(withTail);
        })) {
            assertTrue(ok.client.isConnected());
        }
    }

    /** Tries to connect as {@code user} until it works or 15 s pass (the file is looked at every 2 s). */
    static PahoV5Client connectWhenAllowed(String uri, String user, String password) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        while (true) {
            try {
                return PahoV5Client.connect(uri, "pw-reload-" + user, o -> {
                    o.setUserName(user);
                    o.setPassword(password.getBytes(StandardCharsets.UTF_8));
                });
            } catch (MqttException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    @Test
    void theFileIsReloadedWhileRunningAndARemovedUserIsDisconnected() throws Exception {
        String uri = "tcp://127.0.0.1:" + broker.port();
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, assertThrows(MqttException.class,
                () -> PahoV5Client.connect(uri, "pw-reload-early", o -> {
                    o.setUserName("visitor");
                    o.setPassword("v-pw".getBytes(StandardCharsets.UTF_8));
                })).getReasonCode());
        run("mosquitto_passwd", "-b", pw.toString(), "visitor", "v-pw"); // added while the node runs
        try (PahoV5Client visitor = connectWhenAllowed(uri, "visitor", "v-pw");
             PahoV5Client stays = PahoV5Client.connect(uri, "pw-reload-stays", o -> {
                 o.setUserName("sensor-1");
                 o.setPassword("s3cret".getBytes(StandardCharsets.UTF_8));
             })) {
            double before = broker.metric("starling_auth_failures_total{reason=\"not_authorized\"}");
            run("mosquitto_passwd", "-D", pw.toString(), "visitor");
            org.eclipse.paho.mqttv5.client.MqttDisconnectResponse d = visitor.disconnects.poll(15, TimeUnit.SECONDS);
            assertTrue(d != null, "the removed user's client was not disconnected within 15 s");
            assertEquals(ReasonCode.NOT_AUTHORIZED, d.getReturnCode());
            assertEquals(before + 1, broker.metric("starling_auth_failures_total{reason=\"not_authorized\"}"));
            assertTrue(stays.client.isConnected(), "a user whose line did not change stays connected");
        }
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, assertThrows(MqttException.class,
                () -> PahoV5Client.connect(uri, "pw-reload-late", o -> {
                    o.setUserName("visitor");
                    o.setPassword("v-pw".getBytes(StandardCharsets.UTF_8));
                })).getReasonCode());
    }

    @Test
    void pahoV3HearsReturnCodeFour() throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + broker.port(), "pw-v3", new MemoryPersistence());
        try {
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            o.setUserName("sensor-1");
            o.setPassword("wrong".toCharArray());
            org.eclipse.paho.client.mqttv3.MqttException e = assertThrows(org.eclipse.paho.client.mqttv3.MqttException.class,
                    () -> c.connect(o));
            assertEquals(org.eclipse.paho.client.mqttv3.MqttException.REASON_CODE_FAILED_AUTHENTICATION, e.getReasonCode());
            o.setPassword("s3cret".toCharArray());
            c.connect(o);
            assertTrue(c.isConnected());
            c.disconnect();
        } finally {
            c.close();
        }
    }
}
