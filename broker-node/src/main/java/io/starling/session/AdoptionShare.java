package io.starling.session;

import java.util.Collection;

/**
 * Which survivor adopts a dead node's session: rendezvous (highest random weight) hashing of the
 * client identifier over the nodes there are. Every node computes the same answer from the same
 * membership without asking anyone, each gets about an equal share, and when a survivor dies too
 * only its share moves. Two nodes whose views differ for a moment may both pass a session by; the
 * next round (every round covers every node that left) or the atomic claim settles it: a claim
 * succeeds only while the dead node still owns the identifier, so a session is never adopted twice.
 */
final class AdoptionShare {
    private AdoptionShare() {
    }

    /** The node of {@code nodes} that adopts {@code clientId}. */
    static String adopter(String clientId, Collection<String> nodes) {
        String best = null;
        long bestWeight = 0;
        int id = clientId.hashCode();
        for (String node : nodes) {
            long w = mix(((long) id << 32) ^ (node.hashCode() & 0xffffffffL));
            if (best == null || Long.compareUnsigned(w, bestWeight) > 0
                    || (w == bestWeight && node.compareTo(best) < 0)) {
                best = node;
                bestWeight = w;
            }
        }
        return best;
    }

    /** A 64-bit finalizer (MurmurHash3's fmix64): nearby inputs give unrelated weights. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
