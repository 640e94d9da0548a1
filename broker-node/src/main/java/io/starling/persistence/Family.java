package io.starling.persistence;

import java.nio.charset.StandardCharsets;

/** The kinds of record a node's store keeps, one RocksDB column family each (docs/adr/0016). */
public enum Family {
    /** A session's record (expiry, subscriptions, will), by client id. */
    SESSIONS("sessions"),
    /** A session's queued or in-flight QoS 1/2 messages and unreleased inbound QoS 2 ids, by (client id, sequence). */
    ENTRIES("entries"),
    /** Retained messages and their removals, by topic, with their stamps (docs/adr/0009). */
    RETAINED("retained"),
    /** The store's own facts: format version, the node's incarnation. */
    META("meta");

    final String columnFamily;

    Family(String columnFamily) {
        this.columnFamily = columnFamily;
    }

    byte[] familyName() {
        return columnFamily.getBytes(StandardCharsets.UTF_8);
    }
}
