package io.starling.routing;

/**
 * Where the router sends deliveries for one client identifier. Implemented by the session's
 * mailbox, which may be called from any thread.
 */
public interface Subscriber {
    String clientId();

    /** Hands a delivery over; never blocks, never fails. */
    void deliver(Delivery delivery);

    /** True while a network connection is attached; shared groups prefer such members. */
    boolean isOnline();

    /** The node that died and whose session this node adopted, or null. */
    default String adoptedFrom() {
        return null;
    }

    /**
     * The {@link Router#arrivalMark()} when this session came to this node from another (adopted
     * or taken over), or -1 when it was made here.
     */
    default long arrivedAt() {
        return -1;
    }
}
