package io.starling.retain;

import io.starling.routing.Message;
import io.starling.routing.MessageCodec;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One topic's retained state, a last-writer-wins register: the newest write, which is either a
 * message or a tombstone ({@code message == null}: a retained PUBLISH with an empty payload
 * removed the topic's message, [MQTT-3.3.1-6], [MQTT-3.3.1-7]), with the stamp that orders it.
 * "The Server MUST store the Application Message ... and replace any existing retained message
 * for this topic" [MQTT-3.3.1-5]: which one is "existing" is decided by one total order on
 * stamps, the same on every node, in the map's write and in the map's merge policy, so that
 * every node keeps the same message whatever order it learns of the writes in (docs/adr/0009).
 *
 * @param time    the writer's {@link HybridClock} stamp
 * @param node    the writer's random node id, the tie-breaker for equal times
 * @param message the retained message, or null for a tombstone
 */
record Retained(long time, long node, Message message) {
    /** First byte of a stamped value; unstamped values (written before stamps existed) start with MessageCodec's format. */
    static final byte FORMAT = 0x52;
    private static final int HEADER = 1 + 8 + 8 + 1;

    boolean isTombstone() {
        return message == null;
    }

    /** Whether this write comes after {@code other} in the one order (a missing register is oldest). */
    boolean newerThan(Retained other) {
        return other == null || compare(time, node, other.time, other.node) > 0;
    }

    static int compare(long time1, long node1, long time2, long node2) {
        int c = Long.compare(time1, time2);
        return c != 0 ? c : Long.compare(node1, node2);
    }

    /**
     * Until when (wall-clock milliseconds) this register must be remembered, in the map and in
     * every node's index, or 0 for as long as it is current (a message that never expires). A
     * tombstone, or a message once it has expired (it then says "no retained message" just as a
     * tombstone does), must outlive every write older than itself that may still arrive: those
     * were made before it, so {@code lifetime} counted from its own write time bounds them.
     */
    long keepUntilMillis(long lifetime) {
        if (message != null && message.expiresAtMillis() == 0) {
            return 0;
        }
        long kept = HybridClock.millis(time) + lifetime;
        return message == null ? kept : Math.max(kept, message.expiresAtMillis());
    }

    byte[] encode() {
        byte[] body = message == null ? new byte[0] : MessageCodec.encode(message);
        ByteBuffer out = ByteBuffer.allocate(HEADER + body.length);
        out.put(FORMAT).putLong(time).putLong(node).put((byte) (message == null ? 0 : 1)).put(body);
        return out.array();
    }

    static Retained decode(byte[] value) {
        if (value.length == 0 || value[0] != FORMAT) {
            // Unstamped: the oldest of all, so that any stamped write replaces it.
            return new Retained(0, 0, MessageCodec.decode(value));
        }
        ByteBuffer in = ByteBuffer.wrap(value);
        in.get();
        long time = in.getLong();
        long node = in.getLong();
        boolean tombstone = in.get() == 0;
        return new Retained(time, node,
                tombstone ? null : MessageCodec.decode(Arrays.copyOfRange(value, HEADER, value.length)));
    }

    /**
     * Whether the stored value {@code incoming} replaces {@code existing} (null: nothing stored),
     * comparing their stamps without decoding the messages. The one rule of the map's writes
     * ({@link HazelcastRetainedMap.KeepNewer}) and of its merge after a healed partition
     * ({@link NewerStampMergePolicy}).
     */
    static boolean supersedes(byte[] incoming, byte[] existing) {
        if (existing == null) {
            return true;
        }
        return compare(timeOf(incoming), nodeOf(incoming), timeOf(existing), nodeOf(existing)) > 0;
    }

    private static long timeOf(byte[] value) {
        return value.length >= HEADER && value[0] == FORMAT ? ByteBuffer.wrap(value).getLong(1) : 0;
    }

    private static long nodeOf(byte[] value) {
        return value.length >= HEADER && value[0] == FORMAT ? ByteBuffer.wrap(value).getLong(9) : 0;
    }
}
