package io.starling.persistence;

import java.util.Objects;

/**
 * One versioned change of one key: a value, or with {@code value == null} a removal that leaves a
 * tombstone. The store keeps a key's newest version whatever order changes reach it in, as the
 * replicated session store does (issue 9), so a late older write never undoes a newer one.
 */
public record Change(Family family, byte[] key, long version, byte[] value) {
    public Change {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(key, "key");
    }

    public static Change put(Family family, byte[] key, long version, byte[] value) {
        return new Change(family, key, version, Objects.requireNonNull(value, "value"));
    }

    public static Change remove(Family family, byte[] key, long version) {
        return new Change(family, key, version, null);
    }

    public boolean isRemoval() {
        return value == null;
    }
}
