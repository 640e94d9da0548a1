package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short real runs of the scenarios against one broker, given by the subclass. Loads are small
 * (a few clients, 2 s) because the build machine is shared; the point is correctness of the
 * generator's MQTT flows and accounting, not the broker's speed.
 */
abstract class ScenarioChecks {

    /** host:port of the broker under test. */
    abstract String hostPort();

    Result run(String... args) throws Exception {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--hosts";
        all[args.length + 1] = hostPort();
        Options o = Options.parse(all);
        Result r = new LoadRun(o, System.err).run();
        System.err.print(r.summary());
        return r;
    }

    static void assertExact(Result r) {
        assertFalse(r.setupFailed(), r.setupError());
        assertTrue(r.sent() > 0, "nothing was sent");
        assertEquals(r.expected(), r.received(), "received == expected");
        assertEquals(0, r.lost(), "lost");
        assertEquals(0, r.duplicates(), "duplicates");
        assertEquals(0, r.outOfOrder(), "out of order");
        assertEquals(0, r.errors(), "errors: " + r.errorsByKindText());
        assertTrue(r.latencyCount() > 0 && r.latencyP50Us() <= r.latencyMaxUs());
    }

    @Test
    void p2pQos1AsFastAsPossible() throws Exception {
        Result r = run("p2p", "--clients", "3", "--qos", "1", "--duration", "2");
        assertExact(r);
        assertEquals(r.sent(), r.expected(), "one subscriber per publisher");
    }

    @Test
    void p2pQos2AtFixedRateOverMqtt311() throws Exception {
        Result r = run("p2p", "--clients", "2", "--qos", "2", "--rate", "400", "--duration", "2", "--mqtt", "3.1.1");
        assertExact(r);
        // Open loop at 400 msg/s for 2 s: 800 messages, give or take the last tick.
        assertTrue(r.sent() >= 700 && r.sent() <= 802, "sent " + r.sent());
    }

    @Test
    void sharedGroupGetsEachMessageExactlyOnce() throws Exception {
        Result r = run("shared", "--clients", "3", "--publishers", "2", "--qos", "1", "--rate", "600",
                "--duration", "2");
        assertExact(r);
        assertEquals(r.sent(), r.expected(), "a shared group expects each message once");
    }

    @Test
    void fanOutReachesEverySubscriber() throws Exception {
        Result r = run("fan-out", "--clients", "5", "--qos", "1", "--rate", "300", "--duration", "2");
        assertExact(r);
        assertEquals(5 * r.sent(), r.expected());
    }

    @Test
    void fanInWithMessageCap() throws Exception {
        Result r = run("fan-in", "--clients", "4", "--topics", "2", "--qos", "1", "--messages", "2000",
                "--duration", "10");
        assertExact(r);
        assertEquals(2000, r.sent());
    }

    @Test
    void connectStormConnectsEveryClient() throws Exception {
        Result r = run("connect-storm", "--clients", "200", "--duration", "5");
        assertFalse(r.setupFailed());
        assertEquals(200, r.connectsAttempted());
        assertEquals(200, r.connectsSucceeded());
        assertEquals(0, r.connectsFailed());
        assertTrue(r.connectRate() > 0);
        assertEquals(0, r.errors(), r.errorsByKindText());
    }

    @Test
    void idleClientsStayConnected() throws Exception {
        Result r = run("idle", "--clients", "20", "--duration", "2", "--keep-alive", "1", "--connect-rate", "100");
        assertEquals(20, r.connectsSucceeded());
        assertEquals(0, r.errors(), r.errorsByKindText()); // keep-alive PINGs answered, nobody dropped
    }

    @Test
    void jsonResultHasTheDocumentedFields(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("result.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = Main.run(new String[]{"p2p", "--clients", "2", "--qos", "1", "--messages", "300", "--duration", "5",
                "--hosts", hostPort(), "--json", json.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err, false);
        assertEquals(0, code);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("lost 0, duplicates 0, out-of-order 0"));
        Map<String, String> fields = parseFlatJson(Files.readString(json));
        for (String f : List.of("scenario", "hosts", "mqtt", "qos", "payload", "clients", "publishers", "subscribers",
                "durationSeconds", "sent", "received", "expected", "sendRate", "receiveRate", "latencyP50Us",
                "latencyP90Us", "latencyP99Us", "latencyP999Us", "latencyMaxUs", "lost", "duplicates", "outOfOrder",
                "connectsAttempted", "connectsSucceeded", "connectsFailed", "connectRate", "errors")) {
            assertTrue(fields.containsKey(f), "missing field " + f + " in " + fields.keySet());
        }
        assertEquals("\"p2p\"", fields.get("scenario"));
        assertEquals("300", fields.get("sent"));
        assertEquals("300", fields.get("received"));
        assertEquals("0", fields.get("lost"));
        assertEquals("4", fields.get("connectsSucceeded"));
    }

    /** Just enough JSON for a flat object of scalars; fails on anything else. */
    static Map<String, String> parseFlatJson(String text) {
        String t = text.trim();
        assertTrue(t.startsWith("{") && t.endsWith("}"), "an object");
        Pattern field = Pattern.compile("\\s*\"([^\"\\\\]+)\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9.eE+-]+|true|false|null)\\s*(,|$)");
        Matcher m = field.matcher(t.substring(1, t.length() - 1));
        Map<String, String> out = new HashMap<>();
        int pos = 0;
        while (m.find() && m.start() == pos) {
            out.put(m.group(1), m.group(2));
            pos = m.end();
        }
        assertEquals(t.length() - 2, pos, "the whole object parsed as flat fields");
        return out;
    }
}
