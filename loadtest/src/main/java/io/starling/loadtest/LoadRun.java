package io.starling.loadtest;

import io.starling.protocol.Publish;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One run of a scenario, start to end: connect subscribers and wait for their SUBACKs, connect
 * publishers, publish for the warm-up plus the duration (or up to the message cap), drain, verify,
 * disconnect. The main thread orchestrates and only waits with deadlines; all network work happens
 * on one Vert.x instance's event loops, one per core, with connections spread over them.
 *
 * <p>Bounds: each connect finishes within {@link #CONNECT_TIMEOUT_MS} plus the CONNACK timeout; a
 * connect phase launches nothing after {@link #SETUP_LIMIT_SECONDS} (connect-storm: after
 * --duration); publishing ends at warm-up + duration; the drain lasts at most --drain; the
 * disconnect at most {@link #CLOSE_LIMIT_MS}.
 */
public final class LoadRun {
    /** Connects in progress at most (TCP + CONNACK), so "as fast as possible" does not mean "all at once". */
    static final int MAX_CONNECTS_IN_PROGRESS = 500;
    static final int CONNECT_TIMEOUT_MS = 10_000;
    static final int SETUP_LIMIT_SECONDS = 300;
    static final long CLOSE_LIMIT_MS = 10_000;

    private final Options o;
    private final PrintStream progressOut;
    private final Stats stats = new Stats();
    private final String runId = String.format("%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    private final long runStartNanos = System.nanoTime();
    private volatile String phase = "start";

    private Vertx vertx;
    private Pacer pacer;
    private final List<Context> contexts = new CopyOnWriteArrayList<>();
    private final List<NetClient> netClients = new ArrayList<>();
    private final List<MqttClient> allClients = new ArrayList<>();
    private int nextClient;

    /** @param progressOut where the once-a-second progress line goes, or null for none */
    public LoadRun(Options options, PrintStream progressOut) {
        this.o = options;
        this.progressOut = progressOut;
    }

    public Stats stats() {
        return stats;
    }

    public Result run() throws InterruptedException {
        int cores = Runtime.getRuntime().availableProcessors();
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(cores));
        pacer = new Pacer();
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "loadtest-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            startContexts(cores);
            createNetClients();
            if (progressOut != null) {
                progress.scheduleAtFixedRate(new ProgressLine(), 1, 1, TimeUnit.SECONDS);
            }
            return o.scenario.publishes() ? runMessaging() : runConnections();
        } finally {
            progress.shutdownNow();
            pacer.close();
            disconnectAll();
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(CLOSE_LIMIT_MS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // Nothing is left to measure; the process exits anyway.
            }
        }
    }

    /**
     * One event-loop context per core. A plain thread that calls into Vert.x gets one sticky
     * context, so connections created from main would all share one event loop; verticle instances
     * are the public way to get a context on each.
     */
    private void startContexts(int n) {
        await(vertx.deployVerticle(() -> new VerticleBase() {
            @Override
            public Future<?> start() {
                contexts.add(context);
                return Future.succeededFuture();
            }
        }, new DeploymentOptions().setInstances(n)), 10_000);
    }

    /** One NetClient per source address (the local address is a client option), or one default. */
    private void createNetClients() {
        List<String> sources = o.sourceAddresses.isEmpty() ? java.util.Collections.singletonList(null) : o.sourceAddresses;
        for (String source : sources) {
            NetClientOptions opts = new NetClientOptions()
                    .setConnectTimeout(CONNECT_TIMEOUT_MS)
                    .setTcpNoDelay(true);
            if (source != null) {
                opts.setLocalAddress(source);
            }
            if (o.caFile != null) {
                ClientTls.apply(opts, o.caFile, o.tlsProvider, o.tlsResumption);
            }
            netClients.add(vertx.createNetClient(opts));
        }
    }

    private MqttClient newClient(String clientId, Options.HostPort host) {
        return newClient(clientId, host, stats);
    }

    private MqttClient newClient(String clientId, Options.HostPort host, Stats counters) {
        int i = nextClient++;
        MqttClient c = new MqttClient(vertx, contexts.get(i % contexts.size()), netClients.get(i % netClients.size()),
                host, clientId, o, counters);
        if (o.credentials > 0) {
            int k = i % o.credentials;
            c.credentials("u" + k, ("p" + k).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        allClients.add(c);
        return c;
    }

    // ------------------------------------------------------------------------------ messaging scenarios

    private Result runMessaging() throws InterruptedException {
        Plan plan = Plan.of(o, runId);
        int publisherCount = plan.publishers().size();
        DeliveryVerifier verifier = plan.sharedGroup()
                ? DeliveryVerifier.sharedGroup(publisherCount) : DeliveryVerifier.independent(publisherCount);

        List<MqttClient> subs = new ArrayList<>();
        for (Plan.SubscriberSpec spec : plan.subscribers()) {
            MqttClient c = newClient(spec.clientId(), spec.host());
            c.listener(new ReceivingListener(verifier.addReceiver(spec.publishers()), spec.reference()));
            subs.add(c);
        }
        List<Publisher> pubs = new ArrayList<>();
        double share = o.rate / Math.max(1, publisherCount);
        for (Plan.PublisherSpec spec : plan.publishers()) {
            MqttClient c = newClient(spec.clientId(), spec.host());
            // Spread the publishers' first messages over one interval instead of sending them together.
            long offset = share > 0 ? (long) (1e9 / share * spec.index() / publisherCount) : 0;
            pubs.add(new Publisher(pacer, c, spec.index(), spec.topic(), o, share, spec.cap(), offset, stats));
        }

        phase = "connect";
        long setupDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETUP_LIMIT_SECONDS);
        int failedSubs = connectAll(subs, setupDeadline);
        if (failedSubs > 0) {
            return result(null, 0, 0, 0, failedSubs + " of " + subs.size() + " subscribers could not connect");
        }
        phase = "subscribe";
        int failedSubscribes = subscribeAll(subs, plan.subscribers());
        if (failedSubscribes > 0) {
            return result(null, 0, 0, 0, failedSubscribes + " of " + subs.size() + " subscriptions failed");
        }
        List<MqttClient> pubClients = new ArrayList<>();
        pubs.forEach(p -> pubClients.add(p.client()));
        int failedPubs = connectAll(pubClients, setupDeadline);
        if (failedPubs > 0) {
            return result(null, 0, 0, 0, failedPubs + " of " + pubs.size() + " publishers could not connect");
        }

        phase = o.warmupSeconds > 0 ? "warmup" : "publish";
        long start = System.nanoTime() + 20_000_000; // a moment for the start to reach every event loop
        long measureFrom = start + TimeUnit.SECONDS.toNanos(o.warmupSeconds);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(o.durationSeconds);
        stats.measureFromEpochNanos = EpochClock.toEpochNanos(measureFrom);
        for (Publisher p : pubs) {
            p.start(start, end);
        }
        while (System.nanoTime() < end && !allFinished(pubs)) {
            if (o.warmupSeconds > 0 && System.nanoTime() >= measureFrom) {
                phase = "publish";
            }
            sleepUntil(Math.min(end, System.nanoTime() + 20_000_000));
        }
        long publishEnd = Math.min(System.nanoTime(), end);
        List<Future<Void>> stops = new ArrayList<>();
        for (Publisher p : pubs) {
            stops.add(p.stop());
        }
        awaitAll(stops, 5_000);

        phase = "drain";
        long[] sent = new long[publisherCount];
        for (int i = 0; i < publisherCount; i++) {
            sent[i] = pubs.get(i).sent(); // final: each stop() ran on the publisher's event loop
        }
        long drainEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.drainSeconds);
        while (System.nanoTime() < drainEnd && !(stats.inflight.get() == 0 && verifier.complete(sent))) {
            sleepUntil(Math.min(drainEnd, System.nanoTime() + 10_000_000));
        }
        return result(verifier.totals(sent), measureFrom, publishEnd, subs.size(), null);
    }

    private static boolean allFinished(List<Publisher> pubs) {
        for (Publisher p : pubs) {
            if (!p.finished()) {
                return false;
            }
        }
        return true;
    }

    /** Checks each delivery against the verifier and records its latency. */
    private final class ReceivingListener implements MqttClient.Listener {
        private final DeliveryVerifier.Receiver receiver;
        private final boolean reference;

        ReceivingListener(DeliveryVerifier.Receiver receiver, boolean reference) {
            this.receiver = receiver;
            this.reference = reference;
        }

        @Override
        public void onMessage(Publish publish, long nowNanos) {
            PayloadHeader h = PayloadHeader.read(publish.payload());
            if (h == null || receiver.onMessage(h.publisher(), h.sequence()) == DeliveryVerifier.Outcome.FOREIGN) {
                stats.error("foreign-message");
                return;
            }
            stats.messageReceived(h.sentEpochNanos(), nowNanos, reference);
        }
    }

    private int subscribeAll(List<MqttClient> subs, List<Plan.SubscriberSpec> specs) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(subs.size());
        AtomicInteger failed = new AtomicInteger();
        for (int i = 0; i < subs.size(); i++) {
            MqttClient c = subs.get(i);
            List<String> filters = specs.get(i).filters();
            c.context().runOnContext(v -> c.subscribe(filters, o.qos).onComplete(ar -> {
                if (ar.failed()) {
                    failed.incrementAndGet();
                }
                done.countDown();
            }));
        }
        if (!done.await(MqttClient.SUBACK_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS)) {
            return (int) Math.max(failed.get(), done.getCount());
        }
        return failed.get();
    }

    // ---------------------------------------------------------------------------- connection scenarios

    private Result runConnections() throws InterruptedException {
        boolean storm = o.scenario == Scenario.CONNECT_STORM;
        if (storm && o.warmupSeconds > 0) {
            warmUpStorm();
        }
        List<MqttClient> clients = new ArrayList<>();
        String idBase = o.clientPrefix + "-" + runId + "-c";
        for (int i = 0; i < o.clients; i++) {
            clients.add(newClient(idBase + i, o.hosts.get(i % o.hosts.size())));
        }
        phase = "connect";
        long t0 = System.nanoTime();
        long launchDeadline = t0 + TimeUnit.SECONDS.toNanos(storm ? o.durationSeconds : SETUP_LIMIT_SECONDS);
        connectAll(clients, launchDeadline, stats);
        long connected = System.nanoTime();
        String setupError = stats.connectsSucceeded.sum() == 0 ? "no client could connect" : null;
        if (!storm && setupError == null) {
            phase = "idle";
            // Idle: hold the connections for --duration; only keep-alive PINGREQs go over them.
            long idleEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.durationSeconds);
            sleepUntil(idleEnd);
            return result(null, connected, idleEnd, 0, null);
        }
        return result(null, t0, connected, 0, setupError);
    }

    /**
     * An unmeasured storm of as many clients (other identifiers), launched for at most --warmup
     * seconds and then disconnected, before the measured one. Every run is a fresh generator JVM,
     * and without it the storm measured mostly the generator compiling its own connect path: for
     * 5,000 connects it used 2.3 s of CPU, JVM start included, against the broker's 0.37 s on the
     * same two cores. Its counters are its own, so nothing of it reaches the result.
     */
    private void warmUpStorm() throws InterruptedException {
        phase = "warmup";
        Stats warmupStats = new Stats();
        List<MqttClient> warm = new ArrayList<>();
        String idBase = o.clientPrefix + "-" + runId + "-w";
        for (int i = 0; i < o.clients; i++) {
            warm.add(newClient(idBase + i, o.hosts.get(i % o.hosts.size()), warmupStats));
        }
        connectAll(warm, System.nanoTime() + TimeUnit.SECONDS.toNanos(o.warmupSeconds), warmupStats);
        disconnect(warm);
        allClients.removeAll(warm);
    }

    // --------------------------------------------------------------------------------------- plumbing

    /**
     * Connects the clients, at --connect-rate if set, never more than {@link #MAX_CONNECTS_IN_PROGRESS}
     * at once, launching none after the deadline; returns how many did not connect.
     */
    private int connectAll(List<MqttClient> clients, long launchDeadline) throws InterruptedException {
        return connectAll(clients, launchDeadline, stats);
    }

    private int connectAll(List<MqttClient> clients, long launchDeadline, Stats counters) throws InterruptedException {
        Semaphore slots = new Semaphore(MAX_CONNECTS_IN_PROGRESS);
        CountDownLatch done = new CountDownLatch(clients.size());
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        int launched = 0;
        for (MqttClient c : clients) {
            if (o.connectRate > 0) {
                sleepUntil(Math.min(launchDeadline, start + (long) (launched * 1e9 / o.connectRate)));
            }
            long left = launchDeadline - System.nanoTime();
            if (left <= 0 || !slots.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break;
            }
            c.context().runOnContext(v -> c.connect().onComplete(ar -> {
                if (ar.failed()) {
                    failed.incrementAndGet();
                }
                slots.release();
                done.countDown();
            }));
            launched++;
        }
        int notLaunched = clients.size() - launched;
        for (int i = 0; i < notLaunched; i++) {
            counters.error("connect-not-attempted-deadline");
            done.countDown();
        }
        // Every launched connect ends by itself: TCP connect timeout, then CONNACK timeout.
        long bound = CONNECT_TIMEOUT_MS + MqttClient.CONNACK_TIMEOUT_MS + 5_000;
        if (!done.await(bound, TimeUnit.MILLISECONDS)) {
            return (int) Math.max(failed.get() + notLaunched, done.getCount() + notLaunched);
        }
        return failed.get() + notLaunched;
    }

    private void disconnectAll() {
        if (allClients.isEmpty()) {
            return;
        }
        String before = phase;
        phase = "disconnect";
        disconnect(allClients);
        phase = before + " done";
    }

    private void disconnect(List<MqttClient> clients) {
        List<Future<Void>> closes = new ArrayList<>();
        for (MqttClient c : clients) {
            Promise<Void> p = Promise.promise();
            c.context().runOnContext(v -> c.disconnect().onComplete(ar -> p.tryComplete()));
            closes.add(p.future());
        }
        awaitAll(closes, CLOSE_LIMIT_MS);
    }

    private Result result(DeliveryVerifier.Totals totals, long measureFrom, long measureEnd, int subscribers,
                          String setupError) {
        boolean messaging = o.scenario.publishes();
        double measured = measureEnd > measureFrom ? (measureEnd - measureFrom) / 1e9 : 0;
        long sentMeasured = stats.sentMeasured.sum();
        long receivedMeasured = stats.receivedMeasured.sum();
        double receiveWindow = 0;
        if (messaging && measured > 0) {
            // Deliveries of the measured messages may trail publishing (queues in the broker);
            // their rate is over the time until the last of them arrived.
            long lastReceive = Math.max(measureEnd, stats.lastMeasuredReceiveNanos());
            receiveWindow = (lastReceive - measureFrom) / 1e9;
        }
        Histogram lat = stats.latency();
        Histogram ref = stats.referenceLatency();
        Histogram con = stats.connectLatency();
        DeliveryVerifier.Totals t = totals != null ? totals : new DeliveryVerifier.Totals(0, 0, 0, 0, 0, 0);
        int publishers = messaging ? o.publishers : 0;
        return new Result(o.scenario.cliName(), joinHosts(), o.mqttName(), o.qos, o.payload,
                messaging ? publishers + o.subscriberCount() : o.clients, publishers,
                messaging ? o.subscriberCount() : 0, o.rate, o.durationSeconds, o.warmupSeconds, measured,
                stats.sent.sum(), stats.received.sum(), t.expected(), sentMeasured, receivedMeasured,
                measured > 0 ? sentMeasured / measured : 0, receiveWindow > 0 ? receivedMeasured / receiveWindow : 0,
                lat.getTotalCount(), pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 99.9), lat.getMaxValue(),
                ref.getTotalCount(), pct(ref, 50), pct(ref, 99),
                t.lost(), t.duplicates(), t.outOfOrder(),
                stats.connectsAttempted.sum(), stats.connectsSucceeded.sum(), stats.connectsFailed.sum(),
                stats.connectRate(), pct(con, 50), pct(con, 99), con.getMaxValue(),
                stats.errorCount(), stats.errorsByKind(), setupError != null, setupError,
                o.caFile == null ? "off" : o.tlsText() + "; " + stats.tlsSession());
    }

    private static long pct(Histogram h, double p) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(p);
    }

    private String joinHosts() {
        StringBuilder sb = new StringBuilder();
        for (Options.HostPort h : o.hosts) {
            sb.append(sb.length() == 0 ? "" : ",").append(h);
        }
        return sb.toString();
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(Math.min(left, 100_000_000));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private static void awaitAll(List<Future<Void>> futures, long limitMs) {
        try {
            Future.join(futures).toCompletionStage().toCompletableFuture().get(limitMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Bounded wait: whatever did not finish in time is left to vertx.close().
        }
    }

    private static <T> T await(Future<T> f, long limitMs) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(limitMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("Vert.x did not start", e);
        }
    }

    /** Once a second: what happened in the last second, and the gauges now. */
    private final class ProgressLine implements Runnable {
        private long lastSent;
        private long lastReceived;
        private long lastNanos = System.nanoTime();

        @Override
        public void run() {
            long now = System.nanoTime();
            long s = stats.sent.sum();
            long r = stats.received.sum();
            double secs = Math.max(1e-3, (now - lastNanos) / 1e9);
            progressOut.printf(Locale.ROOT, "[%6.1fs] %-10s sent/s %9.0f  recv/s %9.0f  inflight %6d  connections %6d  "
                            + "connects %d/%d  errors %d%n",
                    (now - runStartNanos) / 1e9, phase, (s - lastSent) / secs, (r - lastReceived) / secs,
                    stats.inflight.get(), stats.openConnections.get(), stats.connectsSucceeded.sum(),
                    stats.connectsAttempted.sum(), stats.errorCount());
            lastSent = s;
            lastReceived = r;
            lastNanos = now;
        }
    }
}
