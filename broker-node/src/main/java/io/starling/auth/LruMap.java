package io.starling.auth;

import java.util.LinkedHashMap;
import java.util.Map;

/** A map of at most {@code max} entries that drops the least recently used: the shape of every answer cache here. Not thread-safe. */
final class LruMap<K, V> extends LinkedHashMap<K, V> {
    private final int max;

    LruMap(int max) {
        super(16, 0.75f, true);
        this.max = max;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > max;
    }
}
