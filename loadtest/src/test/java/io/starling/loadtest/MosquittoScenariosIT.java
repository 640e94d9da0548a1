package io.starling.loadtest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The scenarios against Mosquitto, as a process on a free loopback port: the generator must work
 * with any broker. Skipped (reported as skipped, not passed) where /usr/sbin/mosquitto is absent.
 */
class MosquittoScenariosIT extends ScenarioChecks {
    static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
    private static Process mosquitto;
    private static int port;
    private static Path dir;

    @BeforeAll
    static void startMosquitto() throws Exception {
        assumeTrue(Files.isExecutable(MOSQUITTO), "mosquitto is not installed at " + MOSQUITTO);
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        dir = Files.createTempDirectory("loadtest-mosquitto");
        Path conf = dir.resolve("mosquitto.conf");
        // Queues and inflight raised so that bursts are not dropped by the broker's defaults (1000 / 20).
        Files.writeString(conf, String.join("\n",
                "listener " + port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "max_queued_messages 100000",
                "max_inflight_messages 100",
                ""));
        mosquitto = new ProcessBuilder(MOSQUITTO.toString(), "-c", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                break;
            } catch (IOException e) {
                if (!mosquitto.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("mosquitto did not start; log: "
                            + Files.readString(dir.resolve("mosquitto.log")));
                }
                Thread.sleep(50);
            }
        }
    }

    @AfterAll
    static void stopMosquitto() throws Exception {
        if (mosquitto != null) {
            mosquitto.destroy();
            if (!mosquitto.waitFor(10, TimeUnit.SECONDS)) {
                mosquitto.destroyForcibly();
            }
        }
    }

    @Override
    String hostPort() {
        return "127.0.0.1:" + port;
    }
}
