package io.starling.loadtest;

import java.util.ArrayList;
import java.util.List;

/**
 * Who connects where and publishes or subscribes to what, derived from the options alone (no I/O),
 * so that the shape of every scenario can be read and tested in one place.
 *
 * <p>Topics live under {@code starling-lt/<runId>/}, and client identifiers carry the run id, so two
 * runs against one broker (or leftovers of a previous run) never see each other's messages.
 */
public record Plan(List<SubscriberSpec> subscribers, List<PublisherSpec> publishers, int plainClients,
                   boolean sharedGroup) {

    /**
     * @param reference in {@code cross-node}, a subscriber on its publisher's own node: its latency
     *     is recorded apart, as the same-node reference that the cross-node deliveries of the same
     *     messages, at the same moments, are compared with
     */
    public record SubscriberSpec(String clientId, Options.HostPort host, List<String> filters, int[] publishers,
                                 boolean reference) {
        public SubscriberSpec(String clientId, Options.HostPort host, List<String> filters, int[] publishers) {
            this(clientId, host, filters, publishers, false);
        }
    }

    public record PublisherSpec(int index, String clientId, Options.HostPort host, String topic, long cap) {
    }

    public static Plan of(Options o, String runId) {
        List<SubscriberSpec> subs = new ArrayList<>();
        List<PublisherSpec> pubs = new ArrayList<>();
        List<Options.HostPort> hosts = o.hosts;
        String base = "starling-lt/" + runId + "/" + o.scenario.cliName();
        String idBase = o.clientPrefix + "-" + runId + "-";
        Options.HostPort first = hosts.get(0);
        Options.HostPort last = hosts.get(hosts.size() - 1);
        switch (o.scenario) {
            case P2P, CROSS_NODE -> {
                boolean cross = o.scenario == Scenario.CROSS_NODE;
                for (int i = 0; i < o.publishers; i++) {
                    String topic = base + "/" + i;
                    subs.add(new SubscriberSpec(idBase + "s" + i, cross ? last : hosts.get(i % hosts.size()),
                            List.of(topic), new int[]{i}));
                    if (cross) {
                        subs.add(new SubscriberSpec(idBase + "r" + i, first, List.of(topic), new int[]{i}, true));
                    }
                    pubs.add(new PublisherSpec(i, idBase + "p" + i, cross ? first : hosts.get(i % hosts.size()),
                            topic, cap(o, i)));
                }
            }
            case FAN_IN -> {
                List<String> filters = new ArrayList<>();
                for (int t = 0; t < o.topics; t++) {
                    filters.add(base + "/" + t);
                }
                int[] all = range(o.publishers);
                subs.add(new SubscriberSpec(idBase + "s0", hosts.get(0), List.copyOf(filters), all));
                for (int i = 0; i < o.publishers; i++) {
                    pubs.add(new PublisherSpec(i, idBase + "p" + i, hosts.get(i % hosts.size()),
                            filters.get(i % o.topics), cap(o, i)));
                }
            }
            case FAN_OUT -> {
                for (int i = 0; i < o.clients; i++) {
                    subs.add(new SubscriberSpec(idBase + "s" + i, hosts.get(i % hosts.size()), List.of(base),
                            new int[]{0}));
                }
                pubs.add(new PublisherSpec(0, idBase + "p0", hosts.get(0), base, cap(o, 0)));
            }
            case SHARED -> {
                String filter = "$share/lt" + runId + "/" + base;
                int[] all = range(o.publishers);
                for (int i = 0; i < o.clients; i++) {
                    subs.add(new SubscriberSpec(idBase + "s" + i, hosts.get(i % hosts.size()), List.of(filter), all));
                }
                for (int i = 0; i < o.publishers; i++) {
                    pubs.add(new PublisherSpec(i, idBase + "p" + i, hosts.get(i % hosts.size()), base, cap(o, i)));
                }
            }
            case CONNECT_STORM, IDLE -> {
                return new Plan(List.of(), List.of(), o.clients, false);
            }
            default -> throw new IllegalStateException(o.scenario.toString());
        }
        return new Plan(List.copyOf(subs), List.copyOf(pubs), 0, o.scenario == Scenario.SHARED);
    }

    /** Publisher i's share of --messages (the remainder goes to the first ones), or no cap. */
    static long cap(Options o, int i) {
        if (o.messages == 0) {
            return Long.MAX_VALUE;
        }
        long share = o.messages / o.publishers;
        return share + (i < o.messages % o.publishers ? 1 : 0);
    }

    private static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }
}
