package io.starling.cluster.forwarding;

/** A peer received a request and answered that it failed. */
public final class RemoteFailureException extends RuntimeException {
    public RemoteFailureException(String node, String reason) {
        super(node + ": " + reason, null, false, false);
    }
}
