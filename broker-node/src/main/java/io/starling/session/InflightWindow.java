package io.starling.session;

import io.starling.routing.Delivery;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * QoS 1 and 2 messages sent to a client and not yet acknowledged, in the order they were sent,
 * so that a resumed session resends them in that order [MQTT-4.4.0-1], [MQTT-4.6.0-1]. The window
 * holds at most the client's Receive Maximum [MQTT-3.3.4-9]. Not thread-safe: owned by the
 * session's context.
 */
public final class InflightWindow {

    /** One message in flight; {@code released} once PUBREC arrived and PUBREL was sent (QoS 2). */
    public static final class Entry {
        final int packetId;
        Delivery delivery; // replaced only to add its store sequence number
        boolean released;
        /** False until the PUBLISH went out once (a resend then carries DUP). */
        boolean sent = true;
        /** False while a QoS 2 message's packet identifier is being journaled: it is sent only after. */
        boolean stored = true;
        /** Released, its PUBREL held back behind an earlier resent QoS 2 PUBLISH (see Session#attach). */
        boolean releaseDeferred;

        Entry(int packetId, Delivery delivery) {
            this.packetId = packetId;
            this.delivery = delivery;
        }

        public int packetId() {
            return packetId;
        }

        public Delivery delivery() {
            return delivery;
        }

        public boolean released() {
            return released;
        }
    }

    private final Map<Integer, Entry> entries = new LinkedHashMap<>();
    private int capacity;

    public InflightWindow(int capacity) {
        this.capacity = capacity;
    }

    /** The limit may change when a client reconnects with another Receive Maximum. */
    public void setCapacity(int capacity) {
        this.capacity = capacity;
    }

    public boolean hasRoom() {
        return entries.size() < capacity;
    }

    public void add(int packetId, Delivery delivery) {
        entries.put(packetId, new Entry(packetId, delivery));
    }

    public Entry get(int packetId) {
        return entries.get(packetId);
    }

    public Entry remove(int packetId) {
        return entries.remove(packetId);
    }

    public Collection<Entry> inOrder() {
        return entries.values();
    }

    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public void clear() {
        entries.clear();
    }
}
