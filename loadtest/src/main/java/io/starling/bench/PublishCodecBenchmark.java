package io.starling.bench;

import io.starling.protocol.Connect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketDecoder;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.Properties;
import io.starling.protocol.ProtocolViolation;
import io.starling.protocol.Publish;
import io.vertx.core.buffer.Buffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The MQTT codec on a PUBLISH: {@link PacketEncoder#encode} (once per subscriber on the way out)
 * and {@link PacketDecoder#feed} (once per PUBLISH on the way in).
 *
 * <p>Set-up: a PUBLISH on {@code devices/d4711/telemetry} (23 bytes), QoS {@code qos} (packet id
 * 4711 when 1), a {@code payloadBytes}-byte random payload, in MQTT {@code version} 3.1.1 or 5;
 * in 5 it carries what a typical JSON telemetry publisher sends: Payload Format Indicator 1,
 * Content Type {@code application/json} and one User Property ({@code "site", "berlin-7"}).
 * Decoding feeds the encoded bytes, as one buffer holding the whole packet (the common case: the
 * decoder reads in place), to one decoder that has already decoded the connection's CONNECT, so it
 * measures the steady state of a connection. Both return their result so that JMH consumes it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PublishCodecBenchmark {
    static final String TOPIC = "devices/d4711/telemetry";

    @Param({"3.1.1", "5"})
    public String version;

    @Param({"0", "1"})
    public int qos;

    @Param({"64", "1024"})
    public int payloadBytes;

    MqttVersion mqttVersion;
    Publish publish;
    Buffer encoded;
    private PacketDecoder decoder;
    private final Last last = new Last();

    @Setup
    public void setUp() throws ProtocolViolation {
        mqttVersion = version.equals("5") ? MqttVersion.V5 : MqttVersion.V3_1_1;
        byte[] payload = new byte[payloadBytes];
        new SplittableRandom(1).nextBytes(payload);
        publish = new Publish(qos, false, false, TOPIC, qos > 0 ? 4711 : 0, properties(mqttVersion), payload);
        encoded = PacketEncoder.encode(publish, mqttVersion);
        decoder = new PacketDecoder(1 << 20);
        Connect connect = new Connect(mqttVersion, "bench", true, 60, Properties.EMPTY, null, null, null);
        decoder.feed(PacketEncoder.encode(connect, mqttVersion), last);
    }

    static Properties properties(MqttVersion version) {
        if (!version.isV5()) {
            return Properties.EMPTY;
        }
        Properties p = new Properties();
        p.payloadFormatIndicator = 1;
        p.contentType = "application/json";
        p.addUserProperty("site", "berlin-7");
        return p;
    }

    /** @return the packet's bytes, as they would be written to the socket */
    @Benchmark
    public Buffer encode() {
        return PacketEncoder.encode(publish, mqttVersion);
    }

    /** @return the decoded PUBLISH */
    @Benchmark
    public Packet decode() throws ProtocolViolation {
        decoder.feed(encoded, last);
        return last.packet;
    }

    /** Keeps the last decoded packet; a field rather than a lambda so that decoding allocates no capture. */
    private static final class Last implements Consumer<Packet> {
        Packet packet;

        @Override
        public void accept(Packet p) {
            packet = p;
        }
    }
}
