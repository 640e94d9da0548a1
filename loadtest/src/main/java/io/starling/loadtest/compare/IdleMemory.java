package io.starling.loadtest.compare;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What an idle connected client costs a broker: its memory with N idle clients connected minus
 * its memory before they came, divided by N. Resident size for both brokers; for Starling also
 * heap after a full GC plus direct buffers, the figure issue 4's target is about.
 */
final class IdleMemory {
    private IdleMemory() {
    }

    static final int HOLD_SECONDS = 40;

    static List<String> args(List<String> endpoints, int clients, int holdSeconds) {
        return List.of("idle", "--hosts", String.join(",", endpoints), "--clients", String.valueOf(clients),
                "--connect-rate", "0", "--keep-alive", "300", "--duration", String.valueOf(holdSeconds),
                "--source-addresses", "127.0.0.1-127.0.0.8");
    }

    static Map<String, String> measure(Brokers.Broker broker, LoadRun load, int clients, Path workDir)
            throws IOException, InterruptedException {
        return measure(broker, args(broker.endpoints(), clients, HOLD_SECONDS), HOLD_SECONDS, HOLD_SECONDS - 15, clients,
                workDir, load);
    }

    /**
     * The generator runs {@code args} (an idle scenario against one endpoint, held for
     * {@code hold} seconds once connected); memory is taken once every client is connected, or
     * after {@code connectWait} seconds (then idleClientsConnected says how many were).
     */
    static Map<String, String> measure(Brokers.Broker broker, List<String> args, int hold, int connectWait, int clients,
            Path workDir, LoadRun load) throws IOException, InterruptedException {
        String endpoint = args.get(args.indexOf("--hosts") + 1);
        int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        // The full GC first (a JVM broker) so that both resident sizes are taken after one: heap
        // a previous scenario grew and a collection gives back would otherwise count against the clients.
        long jvmBefore = broker.heapAndDirectBytes();
        long rssBefore = broker.residentBytes();
        Path json = Files.createTempFile(workDir, "idle", ".json");
        Path log = Files.createTempFile(workDir, "idle", ".log");
        Process p = load.start(args, json, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(connectWait);
        int connected = 0;
        // TCP is established before TLS and MQTT are: wait for the generator's own word that its
        // connect phase is over (its progress line says "idle") as well.
        while (System.nanoTime() < deadline && ((connected = established(port)) < clients || !idlePhase(log))) {
            Thread.sleep(500);
        }
        Thread.sleep(2000); // CONNACKs written, buffers settled
        long jvmAfter = broker.heapAndDirectBytes();
        long rssAfter = broker.residentBytes();
        Map<String, String> result = new LinkedHashMap<>(load.finish(p, json, log, connectWait + hold + 120));
        result.put("idleClientsConnected", String.valueOf(connected));
        result.put("rssBytesPerClient", String.valueOf((rssAfter - rssBefore) / (double) clients));
        if (jvmBefore >= 0) {
            result.put("heapAndDirectBytesPerClient", String.valueOf((jvmAfter - jvmBefore) / (double) clients));
        }
        return result;
    }

    /** The generator's progress line names its phase; "idle" comes once every connect has ended. */
    static boolean idlePhase(Path generatorLog) throws IOException {
        return Files.readString(generatorLog).contains("] idle ");
    }

    /** Established TCP connections whose local port is the broker's, from the kernel's own table. */
    static int established(int port) throws IOException {
        String hexPort = String.format(":%04X ", port);
        int n = 0;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path path = Path.of(table);
            if (!Files.exists(path)) {
                continue;
            }
            for (String line : Files.readAllLines(path)) {
                String[] f = line.trim().split("\\s+");
                // local_address is field 1, state field 3; 01 = ESTABLISHED
                if (f.length > 3 && f[1].endsWith(hexPort.trim()) && f[3].equals("01")) {
                    n++;
                }
            }
        }
        return n;
    }
}
