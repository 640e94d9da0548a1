package io.starling.loadtest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.starling.loadtest.compare.Brokers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The scenarios against Mosquitto, as a process on a free loopback port: the generator must work
 * with any broker. Skipped (reported as skipped, not passed) where /usr/sbin/mosquitto is absent.
 * Started the way the benchmark starts it, with a queue raised so that bursts are not dropped.
 */
class MosquittoScenariosIT extends ScenarioChecks {
    static final Path MOSQUITTO = Path.of("/usr/sbin/mosquitto");
    private static Brokers.Mosquitto mosquitto;

    @BeforeAll
    static void startMosquitto() throws Exception {
        assumeTrue(Files.isExecutable(MOSQUITTO), "mosquitto is not installed at " + MOSQUITTO);
        mosquitto = new Brokers.Mosquitto(MOSQUITTO.toString(), Files.createTempDirectory("loadtest-mosquitto"),
                100_000);
    }

    @AfterAll
    static void stopMosquitto() {
        if (mosquitto != null) {
            mosquitto.close();
        }
    }

    @Override
    String hostPort() {
        return mosquitto.endpoints().get(0);
    }
}
