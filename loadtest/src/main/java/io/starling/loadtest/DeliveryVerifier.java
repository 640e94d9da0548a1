package io.starling.loadtest;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks what the receivers got against what the publishers sent: per (publisher, receiver)
 * stream, messages lost (sent but never received), duplicated and out of order (a sequence lower
 * than one already seen on that stream, and not a duplicate). For a shared subscription the
 * group is one receiver as far as loss and duplication go (each message must reach exactly one
 * member), while order is checked per member, since the broker spreads the stream over them.
 *
 * <p>One {@link Receiver} per subscribing connection, used from that connection's event loop.
 */
public final class DeliveryVerifier {

    /** What a receiver made of one delivery. */
    public enum Outcome { NEW, OUT_OF_ORDER, DUPLICATE, FOREIGN }

    /** The totals at the end of a run. */
    public record Totals(long expected, long received, long lost, long duplicates, long outOfOrder, long foreign) {
    }

    private final int publishers;
    private final List<Receiver> receivers = new ArrayList<>();
    /** Shared mode only: one tracker per publisher for the whole group. */
    private final StreamTracker[] groupTrackers;

    private DeliveryVerifier(int publishers, boolean shared) {
        this.publishers = publishers;
        if (shared) {
            groupTrackers = new StreamTracker[publishers];
            for (int p = 0; p < publishers; p++) {
                groupTrackers[p] = new StreamTracker();
            }
        } else {
            groupTrackers = null;
        }
    }

    /** Each receiver gets its own streams: every message of its publishers must reach it once. */
    public static DeliveryVerifier independent(int publishers) {
        return new DeliveryVerifier(publishers, false);
    }

    /** The receivers form one shared-subscription group over all publishers. */
    public static DeliveryVerifier sharedGroup(int publishers) {
        return new DeliveryVerifier(publishers, true);
    }

    /**
     * Adds a receiver expecting the messages of these publishers (ascending indexes). In shared
     * mode the list must be all publishers.
     */
    public synchronized Receiver addReceiver(int... expectedPublishers) {
        for (int i = 0; i < expectedPublishers.length; i++) {
            int p = expectedPublishers[i];
            if (p < 0 || p >= publishers || (i > 0 && expectedPublishers[i - 1] >= p)) {
                throw new IllegalArgumentException("publisher indexes must be ascending and below " + publishers);
            }
        }
        if (groupTrackers != null && expectedPublishers.length != publishers) {
            throw new IllegalArgumentException("a shared group member receives from every publisher");
        }
        Receiver r = new Receiver(expectedPublishers.clone());
        receivers.add(r);
        return r;
    }

    /** The receiving side of one connection. */
    public final class Receiver {
        private final int[] expected;
        private final StreamTracker[] trackers;
        /** Highest sequence this receiver saw per expected publisher; -1 before the first. */
        private final long[] highest;
        private long received;
        private long outOfOrder;
        private long foreign;

        private Receiver(int[] expected) {
            this.expected = expected;
            this.trackers = new StreamTracker[expected.length];
            this.highest = new long[expected.length];
            for (int i = 0; i < expected.length; i++) {
                trackers[i] = groupTrackers != null ? groupTrackers[expected[i]] : new StreamTracker();
                highest[i] = -1;
            }
        }

        /** Records one delivery carrying this header. */
        public synchronized Outcome onMessage(int publisher, long sequence) {
            int i = indexOf(publisher);
            if (i < 0 || sequence < 0) {
                // Not from a publisher this receiver listens to: another run on the same broker, or a bug.
                foreign++;
                return Outcome.FOREIGN;
            }
            received++;
            if (!trackers[i].add(sequence)) {
                return Outcome.DUPLICATE;
            }
            if (sequence < highest[i]) {
                outOfOrder++;
                return Outcome.OUT_OF_ORDER;
            }
            highest[i] = sequence;
            return Outcome.NEW;
        }

        private int indexOf(int publisher) {
            if (expected.length == 1) {
                return expected[0] == publisher ? 0 : -1;
            }
            int i = java.util.Arrays.binarySearch(expected, publisher);
            return i >= 0 ? i : -1;
        }
    }

    /** True when every stream holds every sequence below its publisher's sent count. */
    public synchronized boolean complete(long[] sentByPublisher) {
        if (groupTrackers != null) {
            for (int p = 0; p < publishers; p++) {
                if (groupTrackers[p].distinct() < sentByPublisher[p]) {
                    return false;
                }
            }
            return true;
        }
        for (Receiver r : receivers) {
            for (int i = 0; i < r.expected.length; i++) {
                if (r.trackers[i].distinct() < sentByPublisher[r.expected[i]]) {
                    return false;
                }
            }
        }
        return true;
    }

    public synchronized Totals totals(long[] sentByPublisher) {
        long expectedTotal = 0;
        long received = 0;
        long lost = 0;
        long duplicates = 0;
        long outOfOrder = 0;
        long foreign = 0;
        for (Receiver r : receivers) {
            synchronized (r) {
                received += r.received;
                outOfOrder += r.outOfOrder;
                foreign += r.foreign;
                if (groupTrackers == null) {
                    for (int i = 0; i < r.expected.length; i++) {
                        long sent = sentByPublisher[r.expected[i]];
                        expectedTotal += sent;
                        lost += r.trackers[i].lost(sent);
                        duplicates += r.trackers[i].duplicates();
                    }
                }
            }
        }
        if (groupTrackers != null && !receivers.isEmpty()) {
            for (int p = 0; p < publishers; p++) {
                expectedTotal += sentByPublisher[p];
                lost += groupTrackers[p].lost(sentByPublisher[p]);
                duplicates += groupTrackers[p].duplicates();
            }
        }
        return new Totals(expectedTotal, received, lost, duplicates, outOfOrder, foreign);
    }
}
