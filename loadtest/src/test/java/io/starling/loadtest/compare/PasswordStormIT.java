package io.starling.loadtest.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.loadtest.Options;
import io.starling.loadtest.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's password storm in small: a file of users made by Debian's mosquitto_passwd,
 * read by Mosquitto and by a Starling node, and the generator's --credentials that log each
 * client in as its own user (and without them, every client refused). Skipped where Mosquitto is
 * not installed.
 */
class PasswordStormIT {
    static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
    static final Path PASSWD = Path.of("/usr/bin/mosquitto_passwd");

    static Result storm(String hostPort, int clients, boolean credentials) throws Exception {
        var args = new java.util.ArrayList<>(java.util.List.of("connect-storm", "--hosts", hostPort, "--clients",
                String.valueOf(clients), "--duration", "10"));
        if (credentials) {
            args.addAll(java.util.List.of("--credentials", String.valueOf(clients)));
        }
        Result r = new io.starling.loadtest.LoadRun(Options.parse(args.toArray(String[]::new)), System.err).run();
        System.err.print(r.summary());
        return r;
    }

    static void assertEveryoneInThenNobodyWithout(String hostPort, int users) throws Exception {
        Result in = storm(hostPort, users, true);
        assertEquals(users, in.connectsSucceeded(), in.errorsByKindText());
        Result out = storm(hostPort, users, false);
        assertEquals(0, out.connectsSucceeded(), "without a password nobody gets in");
        assertTrue(out.errorsByKindText().contains("connack-refused"), out.errorsByKindText());
    }

    @Test
    void eachClientLogsInAsItsOwnUserOfAMosquittoPasswdFile() throws Exception {
        assumeTrue(Files.isExecutable(MOSQUITTO) && Files.isExecutable(PASSWD), "mosquitto / mosquitto_passwd not installed");
        Path dir = Files.createTempDirectory("password-storm-it");
        try {
            withFile(dir);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void withFile(Path dir) throws Exception {
        Path file = PasswordStorm.passwordFile(dir, 50, PASSWD.toString());
        assertTrue(Files.readAllLines(file).get(49).startsWith("u49:$7$"), "hashed by mosquitto_passwd -U");
        try (Brokers.Mosquitto m = new Brokers.Mosquitto(MOSQUITTO.toString(), dir, 1000, null, file)) {
            assertEveryoneInThenNobodyWithout(m.endpoints().get(0), 50);
        }
        Map<String, String> env = new HashMap<>();
        env.put("STARLING_LISTENER_HOST", "127.0.0.1");
        env.put("STARLING_LISTENER_PORT", "0");
        env.put("STARLING_SYS_INTERVAL", "0");
        env.put("STARLING_CLUSTER_NAME", "password-storm-it-" + ProcessHandle.current().pid());
        env.put("STARLING_AUTH_PASSWORD_FILE", file.toString());
        io.starling.Broker node = io.starling.Broker.start(io.starling.config.ConfigLoader.load(null, env))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        try {
            assertEveryoneInThenNobodyWithout("127.0.0.1:" + node.port(), 50);
        } finally {
            node.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
