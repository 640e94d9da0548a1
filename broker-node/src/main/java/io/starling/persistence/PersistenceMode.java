package io.starling.persistence;

/** How durable a node's store is (persistence.mode, docs/adr/0016). */
public enum PersistenceMode {
    /** No store: state lives in memory and in the other nodes' backups only. */
    NONE,
    /** Written at once, the log synced to disk every persistence.interval-ms: a crash loses at most that. */
    INTERVAL,
    /** A change's future completes only after the batch that carries it is synced (group commit). */
    SYNC;

    public static PersistenceMode of(String name) {
        return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
    }
}
