package io.starling.metrics;

/**
 * Whether this node should get new clients, as {@code /health/ready} reports it to a load
 * balancer or Kubernetes: not while it starts (listeners not bound, cluster not joined), yes once
 * it serves, and never again once it leaves the cluster, so that traffic goes elsewhere while its
 * sessions are handed over. Any thread may read or change it.
 */
public final class Readiness {
    /** STARTING, then READY, then LEAVING; never backwards. */
    public enum State { STARTING, READY, LEAVING }

    private volatile State state = State.STARTING;

    /** The listeners are bound and the cluster joined. Ignored once leaving has begun. */
    public synchronized void ready() {
        if (state == State.STARTING) {
            state = State.READY;
        }
    }

    /** A graceful leave or a shutdown began. */
    public synchronized void leaving() {
        state = State.LEAVING;
    }

    public State state() {
        return state;
    }

    public boolean isReady() {
        return state == State.READY;
    }
}
