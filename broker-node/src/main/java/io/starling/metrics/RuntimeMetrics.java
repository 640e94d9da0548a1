package io.starling.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyEventExecutorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.lang.management.ManagementFactory;

/**
 * The JVM, process and Netty meters of micrometer-core, bound to the node's registry: memory, GC,
 * threads, class loading, CPU, uptime, file descriptors, Netty's buffer allocator and the pending
 * tasks of each Vert.x event loop. Closing it detaches the GC listeners (several nodes may share
 * one JVM in tests).
 */
public final class RuntimeMetrics implements AutoCloseable {
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private RuntimeMetrics() {
    }

    /**
     * A Prometheus registry whose output passes {@code promtool check metrics}: a few of
     * micrometer-core's binders break Prometheus' conventions, which these filters mend. Filters
     * must be in place before any meter is registered.
     */
    public static PrometheusMeterRegistry newRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config()
                // In nanoseconds, not the base unit: process_cpu_seconds_total below replaces it.
                .meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"))
                .meterFilter(new MeterFilter() {
                    @Override
                    public Meter.Id map(Meter.Id id) {
                        // A gauge must not end in _count (that suffix belongs to histograms and summaries).
                        if (id.getName().equals("system.cpu.count")) {
                            return id.withName("system.cpu.cores");
                        }
                        // Netty's meters come without help text, which Prometheus' linter requires.
                        if (id.getDescription() == null && id.getName().startsWith("netty.")) {
                            return new Meter.Id(id.getName(), Tags.of(id.getTags()), id.getBaseUnit(),
                                    "Netty " + id.getName().substring("netty.".length()).replace('.', ' '), id.getType());
                        }
                        return id;
                    }
                });
        return registry;
    }

    public static RuntimeMetrics bind(MeterRegistry registry, Vertx vertx) {
        RuntimeMetrics m = new RuntimeMetrics();
        new JvmMemoryMetrics().bindTo(registry);
        m.gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
                    .description("CPU time used by this process").register(registry);
        }
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        // Vert.x allocates its socket buffers from Netty's default allocator (pooled or adaptive).
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            new NettyAllocatorMetrics(provider).bindTo(registry);
        }
        // Tasks waiting on each event loop: a loop that falls behind shows here before clients notice.
        new NettyEventExecutorMetrics(((VertxInternal) vertx).nettyEventLoopGroup()).bindTo(registry);
        return m;
    }

    @Override
    public void close() {
        gc.close();
    }
}
