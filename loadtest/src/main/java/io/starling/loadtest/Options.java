package io.starling.loadtest;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The command line, parsed and validated once. Every run is bounded: duration, warm-up, drain and
 * the message cap have upper limits, so the process always ends by itself. Invalid input throws
 * {@link UsageException} with a message meant for the user; nothing is silently corrected.
 */
public final class Options {

    /** A host and port of one broker node. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /** Thrown for any invalid command line; Main prints the message with the usage and exits 2. */
    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }

    public static final int MAX_DURATION_SECONDS = 3600;
    public static final int MAX_DRAIN_SECONDS = 60;
    /** More connections than this in one process would run out of file descriptors long before. */
    public static final int MAX_CLIENTS = 1_000_000;

    public static final String USAGE = String.join("\n",
            "usage: java -jar starling-loadtest.jar <scenario> [options]",
            "scenarios: p2p, fan-in, fan-out, shared, connect-storm, idle, cross-node",
            "options: --hosts host:port[,host:port...]  --mqtt 3.1.1|5  --qos 0|1|2  --payload BYTES",
            "         --clients N  --publishers N  --topics N  --rate MSGS_PER_S  --inflight N",
            "         --duration SECONDS  --messages N  --warmup SECONDS  --drain SECONDS",
            "         --source-addresses A-B|A,B,...  --connect-rate N  --json FILE",
            "         --client-prefix STR  --keep-alive SECONDS",
            "         --cafile PEM  --tls-provider jdk|openssl  --tls-resumption on|off  --credentials N",
            "see loadtest/README.md for what each one means");

    public Scenario scenario;
    public List<HostPort> hosts = List.of(new HostPort("127.0.0.1", 1883));
    public boolean v5 = true;
    public int qos = 0;
    public int payload = 64;
    /** Resolved per scenario by {@link #parse}: see the README for what N means in each. */
    public int clients;
    public int publishers;
    public int topics = 1;
    public double rate = 0;
    public int inflight = 32;
    public int durationSeconds = 10;
    /** Total cap on messages published; 0 means no cap (the duration still bounds the run). */
    public long messages = 0;
    public int warmupSeconds = 0;
    public int drainSeconds = 5;
    public List<String> sourceAddresses = List.of();
    public double connectRate = 0;
    public Path json;
    public String clientPrefix = "lt";
    public int keepAliveSeconds = 60;
    /** TLS towards the broker, trusting this CA (PEM); null: plain TCP. */
    public Path caFile;
    /** The client's TLS implementation: jdk or openssl (netty-tcnative). */
    public String tlsProvider = "jdk";
    /** Whether a connection may resume an earlier TLS session; off: every handshake is a full one. */
    public boolean tlsResumption = false;
    /**
     * Clients give a username and password: the k-th client made (from 0, warm-up storms
     * included) is user {@code u<k mod N>} with password {@code p<k mod N>}; 0: none.
     */
    public int credentials = 0;

    public static Options parse(String... args) throws UsageException {
        if (args.length == 0) {
            throw new UsageException("no scenario given");
        }
        Options o = new Options();
        o.scenario = Scenario.byName(args[0]);
        if (o.scenario == null) {
            throw new UsageException("unknown scenario '" + args[0] + "'");
        }
        Integer clients = null;
        Integer publishers = null;
        Integer topics = null;
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            String value;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else {
                if (i + 1 >= args.length) {
                    throw new UsageException("option " + name + " needs a value");
                }
                value = args[++i];
            }
            if (!seen.add(name)) {
                throw new UsageException("option " + name + " given twice");
            }
            switch (name) {
                case "--hosts" -> o.hosts = parseHosts(value);
                case "--mqtt" -> {
                    if (value.equals("5") || value.equals("5.0")) {
                        o.v5 = true;
                    } else if (value.equals("3.1.1") || value.equals("4")) {
                        o.v5 = false;
                    } else {
                        throw new UsageException("--mqtt must be 3.1.1 or 5, not '" + value + "'");
                    }
                }
                case "--qos" -> o.qos = intIn(name, value, 0, 2);
                case "--payload" -> o.payload = intIn(name, value, PayloadHeader.SIZE, 256 * 1024 * 1024 - 1024);
                case "--clients" -> clients = intIn(name, value, 1, MAX_CLIENTS);
                case "--publishers" -> publishers = intIn(name, value, 1, MAX_CLIENTS);
                case "--topics" -> topics = intIn(name, value, 1, 100_000);
                case "--rate" -> o.rate = doubleIn(name, value, 0, 100_000_000);
                case "--inflight" -> o.inflight = intIn(name, value, 1, 65_535);
                case "--duration" -> o.durationSeconds = intIn(name, value, 1, MAX_DURATION_SECONDS);
                case "--messages" -> o.messages = longIn(name, value, 1, 10_000_000_000L);
                case "--warmup" -> o.warmupSeconds = intIn(name, value, 0, MAX_DURATION_SECONDS);
                case "--drain" -> o.drainSeconds = intIn(name, value, 0, MAX_DRAIN_SECONDS);
                case "--source-addresses" -> o.sourceAddresses = parseSourceAddresses(value);
                case "--connect-rate" -> o.connectRate = doubleIn(name, value, 0, 1_000_000);
                case "--json" -> o.json = Path.of(value);
                case "--client-prefix" -> {
                    if (value.isEmpty() || value.length() > 8 || !value.matches("[A-Za-z0-9_-]+")) {
                        // Kept short and plain so that client identifiers stay within the 23 characters
                        // every 3.1.1 server must accept (MQTT-3.1.3-5).
                        throw new UsageException("--client-prefix must be 1 to 8 of [A-Za-z0-9_-]");
                    }
                    o.clientPrefix = value;
                }
                case "--keep-alive" -> o.keepAliveSeconds = intIn(name, value, 0, 65_535);
                case "--cafile" -> {
                    o.caFile = Path.of(value);
                    if (!java.nio.file.Files.isReadable(o.caFile)) {
                        throw new UsageException("--cafile " + value + " cannot be read");
                    }
                }
                case "--tls-provider" -> {
                    if (!value.equals("jdk") && !value.equals("openssl")) {
                        throw new UsageException("--tls-provider must be jdk or openssl, not '" + value + "'");
                    }
                    o.tlsProvider = value;
                }
                case "--tls-resumption" -> {
                    if (!value.equals("on") && !value.equals("off")) {
                        throw new UsageException("--tls-resumption must be on or off, not '" + value + "'");
                    }
                    o.tlsResumption = value.equals("on");
                }
                case "--credentials" -> o.credentials = intIn(name, value, 1, MAX_CLIENTS);
                default -> throw new UsageException("unknown option '" + name + "'");
            }
        }
        o.resolveCounts(clients, publishers, topics);
        if (o.caFile == null && (seen.contains("--tls-provider") || seen.contains("--tls-resumption"))) {
            throw new UsageException("--tls-provider and --tls-resumption need --cafile (TLS is off without it)");
        }
        if (o.scenario == Scenario.CROSS_NODE && o.hosts.size() < 2) {
            throw new UsageException("cross-node needs at least two --hosts (publishers use the first, subscribers the last)");
        }
        if (o.warmupSeconds + o.durationSeconds > MAX_DURATION_SECONDS) {
            throw new UsageException("--warmup plus --duration must be at most " + MAX_DURATION_SECONDS + " s");
        }
        return o;
    }

    /** What --clients and --publishers mean depends on the scenario; defaults keep a run small. */
    private void resolveCounts(Integer clientsArg, Integer publishersArg, Integer topicsArg) throws UsageException {
        switch (scenario) {
            case P2P, CROSS_NODE -> {
                // N pairs; --publishers is accepted as the same number since each pair has one.
                if (clientsArg != null && publishersArg != null && !clientsArg.equals(publishersArg)) {
                    throw new UsageException(scenario.cliName() + ": --clients and --publishers both count pairs; give one");
                }
                int n = clientsArg != null ? clientsArg : publishersArg != null ? publishersArg : 10;
                clients = n;
                publishers = n;
                rejectTopics(topicsArg);
            }
            case FAN_IN -> {
                if (clientsArg != null && publishersArg != null && !clientsArg.equals(publishersArg)) {
                    throw new UsageException("fan-in: --clients and --publishers both count publishers; give one");
                }
                publishers = clientsArg != null ? clientsArg : publishersArg != null ? publishersArg : 10;
                clients = publishers;
                topics = topicsArg != null ? topicsArg : 1;
                if (topics > publishers) {
                    throw new UsageException("fan-in: --topics cannot exceed the number of publishers");
                }
            }
            case FAN_OUT -> {
                if (publishersArg != null && publishersArg != 1) {
                    throw new UsageException("fan-out has exactly one publisher; --clients sets the subscribers");
                }
                clients = clientsArg != null ? clientsArg : 10;
                publishers = 1;
                rejectTopics(topicsArg);
            }
            case SHARED -> {
                clients = clientsArg != null ? clientsArg : 4;
                publishers = publishersArg != null ? publishersArg : 1;
                rejectTopics(topicsArg);
            }
            case CONNECT_STORM, IDLE -> {
                if (publishersArg != null) {
                    throw new UsageException(scenario.cliName() + " has no publishers; --clients sets the connections");
                }
                clients = clientsArg != null ? clientsArg : 100;
                publishers = 0;
                rejectTopics(topicsArg);
            }
            default -> throw new IllegalStateException(scenario.toString());
        }
    }

    private void rejectTopics(Integer topicsArg) throws UsageException {
        if (topicsArg != null) {
            throw new UsageException("--topics applies to fan-in only (p2p has one topic per pair by definition)");
        }
    }

    static List<HostPort> parseHosts(String value) throws UsageException {
        List<HostPort> out = new ArrayList<>();
        for (String part : value.split(",")) {
            String s = part.trim();
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new UsageException("--hosts entries are host:port, not '" + s + "'");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(new HostPort(host, intIn("--hosts port", s.substring(colon + 1), 1, 65_535)));
        }
        return List.copyOf(out);
    }

    /** "10.0.0.1-10.0.0.16" (an IPv4 range, last octets vary) or "a,b,c" (any addresses). */
    static List<String> parseSourceAddresses(String value) throws UsageException {
        List<String> out = new ArrayList<>();
        if (value.contains("-") && !value.contains(",")) {
            String[] ends = value.split("-", 2);
            long from = ipv4(ends[0].trim());
            long to = ipv4(ends[1].trim());
            if (to < from || to - from >= 65_536) {
                throw new UsageException("--source-addresses range must go upwards and hold at most 65536 addresses");
            }
            for (long a = from; a <= to; a++) {
                out.add(((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255));
            }
        } else {
            for (String part : value.split(",")) {
                String s = part.trim();
                if (s.isEmpty()) {
                    throw new UsageException("--source-addresses has an empty entry");
                }
                try {
                    // Literal addresses only: a host name here would resolve (and maybe block) per connection.
                    InetAddress.getByName(s);
                } catch (UnknownHostException e) {
                    throw new UsageException("--source-addresses: not an address: " + s);
                }
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    private static long ipv4(String s) throws UsageException {
        String[] parts = s.split("\\.");
        if (parts.length != 4) {
            throw new UsageException("--source-addresses range ends must be IPv4 addresses, not '" + s + "'");
        }
        long v = 0;
        for (String p : parts) {
            v = (v << 8) | intIn("--source-addresses octet", p, 0, 255);
        }
        return v;
    }

    private static int intIn(String name, String value, int min, int max) throws UsageException {
        long v = longIn(name, value, min, max);
        return (int) v;
    }

    private static long longIn(String name, String value, long min, long max) throws UsageException {
        long v;
        try {
            v = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a whole number, not '" + value + "'");
        }
        if (v < min || v > max) {
            throw new UsageException(name + " must be between " + min + " and " + max + ", not " + v);
        }
        return v;
    }

    private static double doubleIn(String name, String value, double min, double max) throws UsageException {
        double v;
        try {
            v = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a number, not '" + value + "'");
        }
        if (!(v >= min && v <= max)) { // also rejects NaN
            throw new UsageException(name + " must be between " + min + " and " + max + ", not " + value);
        }
        return v;
    }

    /** "off", or the client's provider and whether it resumes sessions, e.g. "openssl, full handshakes". */
    public String tlsText() {
        if (caFile == null) {
            return "off";
        }
        return tlsProvider + (tlsResumption ? ", resumption on" : ", full handshakes (no resumption)");
    }

    public String mqttName() {
        return v5 ? "5" : "3.1.1";
    }

    /** Subscriber connections the scenario opens. */
    public int subscriberCount() {
        switch (scenario) {
            case CROSS_NODE:
                return 2 * clients; // one on the other node, one on the publisher's (the reference)
            case P2P:
            case FAN_OUT:
            case SHARED:
                return clients;
            case FAN_IN:
                return 1;
            default:
                return 0;
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "%s hosts=%s mqtt=%s qos=%d payload=%d publishers=%d subscribers=%d clients=%d topics=%d rate=%s "
                        + "inflight=%d duration=%ds warmup=%ds messages=%s tls=%s",
                scenario.cliName(), hosts, mqttName(), qos, payload, publishers, subscriberCount(), clients, topics,
                rate == 0 ? "max" : String.valueOf(rate), inflight, durationSeconds, warmupSeconds,
                messages == 0 ? "unbounded" : String.valueOf(messages), tlsText());
    }
}
