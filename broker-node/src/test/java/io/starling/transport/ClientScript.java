package io.starling.transport;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import io.starling.protocol.Ack;
import io.starling.protocol.Auth;
import io.starling.protocol.Connect;
import io.starling.protocol.Disconnect;
import io.starling.protocol.MqttVersion;
import io.starling.protocol.Packet;
import io.starling.protocol.PacketEncoder;
import io.starling.protocol.PacketType;
import io.starling.protocol.PingReq;
import io.starling.protocol.Properties;
import io.starling.protocol.Publish;
import io.starling.protocol.Subscribe;
import io.starling.protocol.Unsubscribe;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What one fuzzed client does on one connection, read from the fuzzer's input: a CONNECT (its
 * version, client identifier, flags and 5.0 properties chosen by the input), then packets of any
 * type in any order with values from small ranges (so that packet identifiers, topic aliases and
 * client identifiers collide), or raw bytes, grouped into the reads the broker sees.
 *
 * <p>The values are drawn from small sets on purpose: the decoder's own fuzz target covers
 * arbitrary bytes; this one reaches the states behind a valid CONNECT (sessions present or not,
 * takeovers, QoS 2 flows, flow control, aliases, wills) and what a client does wrong there.
 */
record ClientScript(MqttVersion version, List<byte[]> reads) {
    static final int MAX_STEPS = 24;
    /** Few identifiers: connections of successive inputs find each other's sessions and take them over. */
    static final String[] CLIENT_IDS = {"", "c0", "c1", "c2", "c3"};
    static final String[] TOPIC_NAMES = {"a", "a/b", "x/y/z", "$SYS/fuzz", "", "a/+", "#", "a\u0000b"};
    static final String[] FILTERS = {"a", "a/#", "+/b", "#", "+", "$share/g/a", "$share/g/#", "$share//a",
            "a/#/b", "$SYS/#", "", "a/b"};
    static final int[] REASON_CODES = {0x00, 0x04, 0x10, 0x18, 0x80, 0x83, 0x8E, 0x92, 0x97, 0xFF};

    static ClientScript read(FuzzedDataProvider in) {
        MqttVersion version = MqttVersion.values()[in.consumeInt(0, 2)];
        Builder b = new Builder(in, version);
        List<byte[]> reads = new ArrayList<>();
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        if (in.consumeBoolean()) {
            b.append(read, b.connect());
        }
        int steps = in.consumeInt(0, MAX_STEPS);
        for (int i = 0; i < steps && in.remainingBytes() > 0; i++) {
            b.append(read, b.step());
            if (in.consumeBoolean() && read.size() > 0) { // the read ends here: pipelining or not
                reads.add(read.toByteArray());
                read.reset();
            }
        }
        if (read.size() > 0) {
            reads.add(read.toByteArray());
        }
        return new ClientScript(version, reads);
    }

    /** Turns input into packets of one version; remembers what the CONNECT told the server. */
    private static final class Builder {
        final FuzzedDataProvider in;
        final MqttVersion version;

        Builder(FuzzedDataProvider in, MqttVersion version) {
            this.in = in;
            this.version = version;
        }

        void append(ByteArrayOutputStream read, Object step) {
            if (step instanceof byte[] raw) {
                read.writeBytes(raw);
                return;
            }
            try {
                read.writeBytes(PacketEncoder.encode((Packet) step, version).getBytes());
            } catch (IllegalArgumentException notEncodable) {
                // A value the encoder refuses to write (it writes only what a broker sends): the
                // raw-bytes step covers packets that cannot be built.
            }
        }

        Object step() {
            return switch (in.consumeInt(0, 11)) {
                case 0, 1, 2 -> publish();
                case 3 -> ack(PacketType.PUBACK);
                case 4 -> ack(PacketType.PUBREC);
                case 5 -> ack(PacketType.PUBREL);
                case 6 -> ack(PacketType.PUBCOMP);
                case 7 -> subscribe();
                case 8 -> new Unsubscribe(packetId(), props(), in.consumeBoolean() ? List.of(filter())
                        : List.of(filter(), filter()));
                case 9 -> in.consumeBoolean() ? PingReq.INSTANCE : disconnect();
                case 10 -> in.consumeBoolean() ? connect() : new Auth(pick(REASON_CODES), authProps());
                default -> in.consumeBytes(in.consumeInt(0, 16));
            };
        }

        Connect connect() {
            String clientId = CLIENT_IDS[in.consumeInt(0, CLIENT_IDS.length - 1)];
            Properties p = props();
            if (version.isV5()) {
                p.sessionExpiryInterval = switch (in.consumeInt(0, 3)) {
                    case 0 -> null;
                    case 1 -> 0L;
                    case 2 -> 2L;
                    // An assigned identifier is new each time: a session kept for ever would grow
                    // the broker by one session per input.
                    default -> clientId.isEmpty() ? 2L : 0xFFFF_FFFFL;
                };
                p.receiveMaximum = switch (in.consumeInt(0, 3)) {
                    case 0 -> null;
                    case 1 -> 0; // a Protocol Error (3.1.2.11.3)
                    case 2 -> 1;
                    default -> 2;
                };
                p.topicAliasMaximum = in.consumeBoolean() ? null : in.consumeInt(0, 2);
                if (in.consumeBoolean()) {
                    p.maximumPacketSize = (long) in.consumeInt(0, 300);
                }
                p.requestProblemInformation = in.consumeBoolean() ? null : in.consumeInt(0, 1);
                p.requestResponseInformation = in.consumeBoolean() ? null : in.consumeInt(0, 1);
                if (in.consumeInt(0, 7) == 0) {
                    p.authenticationMethod = "SCRAM-SHA-1";
                }
            }
            Connect.Will will = null;
            if (in.consumeBoolean()) {
                Properties wp = props();
                if (version.isV5()) {
                    wp.willDelayInterval = in.consumeBoolean() ? null : (long) in.consumeInt(0, 3);
                    wp.payloadFormatIndicator = in.consumeBoolean() ? null : in.consumeInt(0, 1);
                }
                will = new Connect.Will(topicName(), payload(), in.consumeInt(0, 2), in.consumeBoolean(), wp);
            }
            String username = in.consumeBoolean() ? null : "user";
            byte[] password = in.consumeBoolean() ? null : new byte[] {'p', 0, 'w'};
            return new Connect(version, clientId, in.consumeBoolean(), in.consumeInt(0, 3), p, will, username,
                    password);
        }

        Publish publish() {
            int qos = in.consumeInt(0, 2);
            Properties p = props();
            if (version.isV5()) {
                p.topicAlias = in.consumeBoolean() ? null : in.consumeInt(0, 3);
                p.messageExpiryInterval = in.consumeBoolean() ? null : (long) in.consumeInt(0, 1);
                p.payloadFormatIndicator = in.consumeBoolean() ? null : in.consumeInt(0, 1);
                p.responseTopic = in.consumeBoolean() ? null : topicName();
                if (in.consumeInt(0, 7) == 0) {
                    p.addSubscriptionIdentifier(1); // only a server sends it [MQTT-3.3.4-6]
                }
            }
            return new Publish(qos, in.consumeBoolean(), in.consumeBoolean(), topicName(),
                    qos == 0 ? 0 : packetId(), p, payload());
        }

        Ack ack(PacketType type) {
            return new Ack(type, packetId(), version.isV5() ? pick(REASON_CODES) : 0, props());
        }

        Subscribe subscribe() {
            Properties p = props();
            if (version.isV5() && in.consumeBoolean()) {
                p.addSubscriptionIdentifier(in.consumeInt(0, 3));
            }
            List<Subscribe.Request> requests = new ArrayList<>();
            int n = in.consumeInt(1, 3);
            for (int i = 0; i < n; i++) {
                requests.add(new Subscribe.Request(filter(), in.consumeInt(0, 2), in.consumeBoolean(),
                        in.consumeBoolean(), in.consumeInt(0, 2)));
            }
            return new Subscribe(packetId(), p, requests);
        }

        Disconnect disconnect() {
            Properties p = props();
            if (version.isV5() && in.consumeBoolean()) {
                p.sessionExpiryInterval = (long) in.consumeInt(0, 2);
            }
            return new Disconnect(pick(REASON_CODES), p);
        }

        Properties authProps() {
            Properties p = new Properties();
            p.authenticationMethod = "SCRAM-SHA-1";
            return p;
        }

        Properties props() {
            Properties p = new Properties();
            if (version.isV5() && in.consumeInt(0, 7) == 0) {
                p.addUserProperty("k", "v");
            }
            return p;
        }

        int packetId() {
            return in.consumeInt(0, 4); // 0 is a protocol error where an identifier is required
        }

        String topicName() {
            return in.consumeInt(0, 15) == 0 ? in.consumeString(12) : TOPIC_NAMES[in.consumeInt(0, TOPIC_NAMES.length - 1)];
        }

        String filter() {
            return in.consumeInt(0, 15) == 0 ? in.consumeString(12) : FILTERS[in.consumeInt(0, FILTERS.length - 1)];
        }

        byte[] payload() {
            return in.consumeBytes(in.consumeInt(0, 48));
        }

        int pick(int[] values) {
            return values[in.consumeInt(0, values.length - 1)];
        }
    }
}
