package io.starling.cluster.forwarding;

/** A request to a peer whose outcome is unknown: the peer left or the connection broke. */
public final class LinkLostException extends RuntimeException {
    private final String node;

    public LinkLostException(String node, String why) {
        super("link to " + node + ": " + why, null, false, false);
        this.node = node;
    }

    public String node() {
        return node;
    }
}
