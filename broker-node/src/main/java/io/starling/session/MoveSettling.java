package io.starling.session;

import io.starling.routing.Delivery;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A session that just moved to this node (a takeover, a leaving node's push, the adoption of a
 * dead node's session) while the move settles. Two paths bring it messages then: the path that
 * fills it in with what was on its way to the old home (the old owner's relay, or the messages
 * other nodes republish for a dead node), and this node's own routes. A publisher's newer
 * messages can come by the second path before its older ones by the first, so what the routes
 * bring is parked until every filling path has said it is done; then it is taken in order
 * (spec 4.6, issue 9). A message that comes both ways is taken once (QoS 2 allows no duplicate):
 * ids are remembered for a while after the move.
 *
 * <p>Parked QoS 1/2 deliveries hold their publishers' acknowledgements, so publishers' windows
 * bound them; parked QoS 0 is bounded here. Confined to the session's context.
 */
final class MoveSettling {
    enum Admission { TAKE, PARKED, DUPLICATE, DROPPED }

    private static final long DEDUPE_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int DEDUPE_MAX = 100_000;

    private final LinkedHashSet<Long> seen = new LinkedHashSet<>();
    private final ArrayDeque<Delivery> parked = new ArrayDeque<>(0);
    private final int qos0Bound;
    private int parkedQos0;
    private int pendingSources;
    private long dedupeUntilNanos;

    /** @param sources paths that must say they are done; {@code qos0Bound} parked QoS 0 messages at most */
    MoveSettling(int sources, int qos0Bound) {
        this.pendingSources = sources;
        this.qos0Bound = Math.max(1000, qos0Bound);
        this.dedupeUntilNanos = System.nanoTime() + DEDUPE_NANOS;
    }

    /** A message the session already has (queued or in flight when it moved). */
    void seen(long messageId) {
        remember(messageId);
    }

    /** Every filling path is done and the dedupe window has passed: the session is settled. */
    boolean over() {
        return pendingSources == 0 && System.nanoTime() - dedupeUntilNanos > 0;
    }

    Admission admit(Delivery d) {
        if (pendingSources > 0 && (d.via() == Delivery.ROUTED || d.via() == Delivery.ROUTED_AGAIN)) {
            if (d.qos() == 0 && parkedQos0 >= qos0Bound) {
                return Admission.DROPPED;
            }
            parked.add(d);
            if (d.qos() == 0) {
                parkedQos0++;
            }
            return Admission.PARKED;
        }
        return remember(d.message().id()) ? Admission.TAKE : Admission.DUPLICATE;
    }

    /** False for a message already taken during the move. */
    boolean isNew(Delivery d) {
        return remember(d.message().id());
    }

    private boolean remember(long id) {
        if (!seen.add(id)) {
            return false;
        }
        if (seen.size() > DEDUPE_MAX) {
            Iterator<Long> oldest = seen.iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }

    /** One filling path is done; once all are, the parked deliveries, in arrival order, to take now. */
    List<Delivery> sourceDone() {
        if (pendingSources == 0 || --pendingSources > 0) {
            return List.of();
        }
        dedupeUntilNanos = Math.max(dedupeUntilNanos, System.nanoTime() + DEDUPE_NANOS);
        return drain();
    }

    /** What is parked, in arrival order, leaving nothing parked. */
    List<Delivery> drain() {
        List<Delivery> out = new ArrayList<>(parked);
        parked.clear();
        parkedQos0 = 0;
        return out;
    }

    /** The latest {@code max} ids taken or seen, oldest first: they go with the session if it moves on. */
    List<Long> recentIds(int max) {
        List<Long> all = new ArrayList<>(seen);
        return all.size() <= max ? all : new ArrayList<>(all.subList(all.size() - max, all.size()));
    }

    int parkedCount() {
        return parked.size();
    }
}
