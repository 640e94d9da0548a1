package io.starling.routing;

/**
 * Something a QoS 0 publisher's messages pile up in faster than it drains: a subscriber's
 * backlog, a link to another node. QoS 0 has no acknowledgement to hold back, so its publisher is
 * paused instead ({@link Congestion}) until the backlog wakes it.
 */
public interface Backlog {
    /** True while the backlog is too long for publishers to go on. */
    boolean congested();

    /** Whether publishers should still wait for it; one that stopped draining holds nobody back. */
    boolean holdsPublishers();

    /** Runs {@code resume} (any thread) when it is a paused publisher's turn to go on. */
    void whenDrained(Runnable resume);
}
