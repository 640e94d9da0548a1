package io.starling.cluster.membership;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.internal.util.ConcurrencyUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's embedded Hazelcast member. A single node is a one-member cluster: the same shared
 * state code runs for one node and for many (docs/adr/0003). Multicast, auto-detection and
 * phone-home are off; members find each other only through the configured member list or, in
 * Kubernetes, through the DNS records of a headless service.
 */
public final class ClusterMember implements AutoCloseable {
    /** Every map of ours is named like this, so one wildcard configuration covers them all. */
    static final String MAP_PREFIX = "starling.";

    /**
     * A member that stops answering (frozen, cut off, its machine gone) is dropped after this many
     * seconds without a heartbeat; Hazelcast's default is 60. A process that dies on a reachable
     * host is dropped within a second anyway: its refused connections tell the others at once.
     */
    static final int MAX_NO_HEARTBEAT_SECONDS = 10;
    static final int HEARTBEAT_INTERVAL_SECONDS = 1;

    /**
     * Seconds from start to the first search for another cluster to merge with (members of the
     * list that are not ours), and between searches. After a network partition heals, the smaller
     * side merges into the larger on the next search; Hazelcast's defaults (300 s, then 120 s) would
     * keep a healed cluster split for minutes. A search only tries the configured members: cheap.
     */
    static final int MERGE_DELAY_SECONDS = 5;

    private static final Logger LOG = LoggerFactory.getLogger(ClusterMember.class);

    private final HazelcastInstance hazelcast;

    private ClusterMember(HazelcastInstance hazelcast) {
        this.hazelcast = hazelcast;
    }

    /** Threads of {@link #ASYNC_POOL}: enough for callbacks that only hand a result on, never block. */
    static final int ASYNC_THREADS = 2;

    /**
     * Where Hazelcast runs the callbacks of its async operations (every claim of a client
     * identifier, every write to the session store) when the common pool cannot: see
     * {@link #useAsyncPool()}. Daemon threads, FIFO (async mode) like an event queue.
     */
    private static final ForkJoinPool ASYNC_POOL = new ForkJoinPool(ASYNC_THREADS, pool -> {
        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        t.setName("starling-hz-async-" + t.getPoolIndex());
        t.setDaemon(true);
        return t;
    }, null, true);

    /**
     * Hazelcast completes the futures of async operations on its default async executor, which is
     * the common pool only when that has a parallelism above 1. On a machine of 2 cores or fewer
     * (parallelism 1) it starts a new thread for every callback, from the partition threads, so
     * each CONNECT cost two thread starts and the claims queued behind them: a single node managed
     * ~750 connects/s with 125% of 200% CPU (issue 4). A small pool of our own does what the common
     * pool does on larger machines; there the default stays. Process-wide, as Hazelcast's is.
     */
    static synchronized void useAsyncPool() {
        if (ForkJoinPool.getCommonPoolParallelism() <= 1 && ConcurrencyUtil.getDefaultAsyncExecutor() != ASYNC_POOL) {
            ConcurrencyUtil.setDefaultAsyncExecutor(ASYNC_POOL);
        }
    }

    /** Starts the member and blocks until it has joined a cluster (or become a one-member cluster). */
    public static ClusterMember start(ClusterSettings settings) {
        return start(settings, config -> { });
    }

    /**
     * Starts the member with additions to its configuration made by the owners of particular maps
     * (such as the retained map's merge policy), which every member must share.
     */
    public static ClusterMember start(ClusterSettings settings, Consumer<Config> configure) {
        useAsyncPool();
        Config config = config(settings);
        configure.accept(config);
        ClusterMember member = new ClusterMember(Hazelcast.newHazelcastInstance(config));
        LOG.info("cluster: joined as {}, {} members", member.localMember().getAddress(), member.memberCount());
        return member;
    }

    static Config config(ClusterSettings settings) {
        String bindAddress = address(settings.bindHost());
        Config config = new Config();
        config.setClusterName(settings.name());
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.local.localAddress", bindAddress);
        config.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(HEARTBEAT_INTERVAL_SECONDS));
        config.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(MAX_NO_HEARTBEAT_SECONDS));
        config.setProperty("hazelcast.merge.first.run.delay.seconds", String.valueOf(MERGE_DELAY_SECONDS));
        config.setProperty("hazelcast.merge.next.run.delay.seconds", String.valueOf(MERGE_DELAY_SECONDS));
        settings.attributes().forEach(config.getMemberAttributeConfig()::setAttribute);
        // Registered before the join, so no membership change between join and start-up goes unlogged.
        config.addListenerConfig(new ListenerConfig(new MembershipLog()));
        config.addMapConfig(new MapConfig(MAP_PREFIX + "*")
                .setBackupCount(settings.backupCount())
                // Async backups would acknowledge a write before a copy exists; a node loss could lose it.
                .setAsyncBackupCount(0)
                // Creation, update and access times per entry: what merge policies that compare
                // entries of the two sides of a healed partition (latest update wins) look at.
                .setPerEntryStatsEnabled(true));

        NetworkConfig network = config.getNetworkConfig();
        network.setPort(settings.port()).setPortAutoIncrement(true).setPortCount(100);
        // The member listens on its bind address only. Not by Hazelcast's interfaces: with them
        // enabled its TCP joiner also drops every member given by a name whose address is not one
        // of this member's interfaces, that is every other member (compose's starling1:5701...).
        config.setProperty("hazelcast.socket.bind.any", "false");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        if (settings.discoversByKubernetesDns()) {
            // DNS lookup mode: needs only a headless service, no Kubernetes API access (RBAC).
            join.getTcpIpConfig().setEnabled(false);
            join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", settings.kubernetesServiceDns());
        } else {
            join.getTcpIpConfig().setEnabled(!settings.members().isEmpty()).setMembers(settings.members());
        }
        return config;
    }

    /**
     * The address a bind host names: Hazelcast would announce a name as the member's address, which
     * its peers do not recognise as that member. A name (a compose service's, say) is resolved
     * here, once, and one that does not resolve stops start-up saying so.
     */
    static String address(String bindHost) {
        try {
            return InetAddress.getByName(bindHost).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster.bind-host '" + bindHost + "' is neither an address nor a name "
                    + "that resolves here", e);
        }
    }

    public HazelcastInstance hazelcast() {
        return hazelcast;
    }

    public Member localMember() {
        return hazelcast.getCluster().getLocalMember();
    }

    public int memberCount() {
        return hazelcast.getCluster().getMembers().size();
    }

    @Override
    public void close() {
        hazelcast.shutdown();
    }
}
