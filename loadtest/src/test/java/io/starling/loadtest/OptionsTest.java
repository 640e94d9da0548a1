package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptionsTest {

    private static Options parse(String... args) throws Options.UsageException {
        return Options.parse(args);
    }

    private static String rejected(String... args) {
        return assertThrows(Options.UsageException.class, () -> Options.parse(args)).getMessage();
    }

    @Test
    void defaults() throws Exception {
        Options o = parse("p2p");
        assertEquals(Scenario.P2P, o.scenario);
        assertEquals(List.of(new Options.HostPort("127.0.0.1", 1883)), o.hosts);
        assertTrue(o.v5);
        assertEquals(0, o.qos);
        assertEquals(64, o.payload);
        assertEquals(10, o.publishers);
        assertEquals(10, o.subscriberCount());
        assertEquals(0, o.rate);
        assertEquals(32, o.inflight);
        assertEquals(10, o.durationSeconds);
        assertEquals(0, o.messages);
        assertEquals(0, o.warmupSeconds);
        assertEquals(60, o.keepAliveSeconds);
        assertEquals(0, o.connectRate);
        assertTrue(o.sourceAddresses.isEmpty());
    }

    @Test
    void everyOption() throws Exception {
        Options o = parse("fan-in", "--hosts", "10.0.0.1:1883,broker:1884", "--mqtt", "3.1.1", "--qos", "2",
                "--payload", "20", "--clients", "7", "--topics", "3", "--rate", "1500.5", "--inflight", "8",
                "--duration", "3600", "--messages", "1000", "--warmup=0", "--drain", "2",
                "--source-addresses", "127.0.0.1,127.0.0.2", "--connect-rate", "50", "--json", "out/r.json",
                "--client-prefix", "ab_1", "--keep-alive", "30");
        assertEquals(List.of(new Options.HostPort("10.0.0.1", 1883), new Options.HostPort("broker", 1884)), o.hosts);
        assertFalse(o.v5);
        assertEquals(2, o.qos);
        assertEquals(20, o.payload);
        assertEquals(7, o.publishers);
        assertEquals(1, o.subscriberCount());
        assertEquals(3, o.topics);
        assertEquals(1500.5, o.rate);
        assertEquals(8, o.inflight);
        assertEquals(3600, o.durationSeconds);
        assertEquals(1000, o.messages);
        assertEquals(2, o.drainSeconds);
        assertEquals(List.of("127.0.0.1", "127.0.0.2"), o.sourceAddresses);
        assertEquals(50, o.connectRate);
        assertEquals(Path.of("out/r.json"), o.json);
        assertEquals("ab_1", o.clientPrefix);
        assertEquals(30, o.keepAliveSeconds);
    }

    @Test
    void unboundedOrNonsensicalRunsAreRejected() {
        assertTrue(rejected("p2p", "--duration", "0").contains("--duration"));
        assertTrue(rejected("p2p", "--duration", "-5").contains("--duration"));
        assertTrue(rejected("p2p", "--duration", "3601").contains("--duration"));
        assertTrue(rejected("p2p", "--duration", "ten").contains("--duration"));
        assertTrue(rejected("p2p", "--duration", "3000", "--warmup", "601").contains("--warmup"));
        assertTrue(rejected("p2p", "--messages", "0").contains("--messages"));
        assertTrue(rejected("p2p", "--drain", "61").contains("--drain"));
        assertTrue(rejected("p2p", "--rate", "-1").contains("--rate"));
        assertTrue(rejected("p2p", "--rate", "NaN").contains("--rate"));
    }

    @Test
    void badValuesAreRejected() {
        rejected();
        rejected("nonsense");
        rejected("p2p", "--bogus", "1");
        rejected("p2p", "--qos");
        rejected("p2p", "--qos", "3");
        rejected("p2p", "--mqtt", "3.1");
        rejected("p2p", "--payload", "19"); // smaller than the header
        rejected("p2p", "--hosts", "localhost");
        rejected("p2p", "--hosts", "localhost:0");
        rejected("p2p", "--clients", "0");
        rejected("p2p", "--inflight", "65536");
        rejected("p2p", "--qos", "1", "--qos", "2");
        rejected("p2p", "--client-prefix", "much-too-long");
        rejected("p2p", "--source-addresses", "127.0.0.9-127.0.0.1");
    }

    @Test
    void countsPerScenario() throws Exception {
        assertEquals(5, parse("p2p", "--publishers", "5").subscriberCount());
        rejected("p2p", "--clients", "4", "--publishers", "5");
        Options fanOut = parse("fan-out", "--clients", "1000");
        assertEquals(1, fanOut.publishers);
        assertEquals(1000, fanOut.subscriberCount());
        rejected("fan-out", "--publishers", "2");
        Options shared = parse("shared", "--clients", "6", "--publishers", "3");
        assertEquals(3, shared.publishers);
        assertEquals(6, shared.subscriberCount());
        Options storm = parse("connect-storm", "--clients", "5000");
        assertEquals(5000, storm.clients);
        assertEquals(0, storm.subscriberCount());
        rejected("idle", "--publishers", "1");
        rejected("p2p", "--topics", "2");
        rejected("fan-in", "--clients", "2", "--topics", "3");
    }

    @Test
    void crossNodeNeedsTwoHosts() throws Exception {
        rejected("cross-node");
        Options o = parse("cross-node", "--hosts", "a:1,b:2", "--clients", "3");
        assertEquals(3, o.publishers);
    }

    @Test
    void sourceAddressRange() throws Exception {
        Options o = parse("connect-storm", "--source-addresses", "127.0.0.254-127.0.1.1");
        assertEquals(List.of("127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"), o.sourceAddresses);
        assertEquals(16, parse("idle", "--source-addresses", "127.0.0.1-127.0.0.16").sourceAddresses.size());
    }

    @Test
    void tlsIsOffUntilACaFileIsGivenAndThenDoesFullHandshakes() throws Exception {
        Options plain = parse("idle");
        assertEquals(null, plain.caFile);
        assertEquals("off", plain.tlsText());
        Path ca = java.nio.file.Files.createTempFile("ca", ".crt");
        try {
            Options tls = parse("connect-storm", "--cafile", ca.toString(), "--tls-provider", "openssl");
            assertEquals(ca, tls.caFile);
            assertEquals("openssl", tls.tlsProvider);
            assertFalse(tls.tlsResumption, "full handshakes unless asked");
            assertTrue(tls.tlsText().contains("full handshakes"), tls.tlsText());
            assertTrue(parse("idle", "--cafile", ca.toString(), "--tls-resumption", "on").tlsResumption);
            assertTrue(rejected("idle", "--tls-provider", "openssl").contains("--cafile"));
            assertTrue(rejected("idle", "--cafile", ca.toString(), "--tls-provider", "gnutls").contains("jdk or openssl"));
            assertTrue(rejected("idle", "--cafile", ca.toString(), "--tls-resumption", "yes").contains("on or off"));
            assertTrue(rejected("idle", "--cafile", ca + ".missing").contains("cannot be read"));
        } finally {
            java.nio.file.Files.delete(ca);
        }
    }
}
