package io.starling.persistence;

import java.util.Objects;

/**
 * One versioned change of one key: a value, or with {@code value == null} a removal that leaves a
 * tombstone. The store keeps a key's newest version whatever order changes reach it in, as the
 * replicated session store does (issue 9), so a late older write never undoes a newer one.
 */
public record Change(Family family, byte[] key, long version, byte[] value, byte[] rangeEnd) {
    public Change {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(key, "key");
    }

    public static Change put(Family family, byte[] key, long version, byte[] value) {
        return new Change(family, key, version, Objects.requireNonNull(value, "value"), null);
    }

    public static Change remove(Family family, byte[] key, long version) {
        return new Change(family, key, version, null, null);
    }

    /**
     * Deletes every key from {@code key} (inclusive) to {@code end} (exclusive) outright, whatever
     * their versions: a session's entries once the session ended (its record's tombstone, written
     * with the session's version, keeps a late older write from bringing the session back).
     */
    public static Change removeRange(Family family, byte[] key, byte[] end) {
        return new Change(family, key, 0, null, Objects.requireNonNull(end, "end"));
    }

    public boolean isRange() {
        return rangeEnd != null;
    }

    public boolean isRemoval() {
        return value == null;
    }
}
