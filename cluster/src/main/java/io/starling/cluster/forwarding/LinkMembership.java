package io.starling.cluster.forwarding;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@link NodeLinks} in step with Hazelcast membership: a member that joins is connected to at
 * the link port it advertises, a member that leaves is disconnected and {@code onLeft} runs (its
 * routes are purged). Each member advertises its node id and link port as member attributes
 * {@value #NODE} and {@value #LINK_PORT}; the host is the member's cluster address.
 */
public final class LinkMembership implements MembershipListener {
    private static final Logger log = LoggerFactory.getLogger(LinkMembership.class);
    public static final String NODE = "starling.node";
    public static final String LINK_PORT = "starling.link-port";

    private final NodeLinks links;
    private final Consumer<String> onJoined;
    private final Consumer<String> onLeft;

    private LinkMembership(NodeLinks links, Consumer<String> onJoined, Consumer<String> onLeft) {
        this.links = links;
        this.onJoined = onJoined;
        this.onLeft = onLeft;
    }

    /**
     * Starts following membership, connecting at once to the members already there. The callbacks
     * get the node id and run after the links are updated.
     */
    public static void follow(HazelcastInstance hazelcast, NodeLinks links, Consumer<String> onJoined,
                              Consumer<String> onLeft) {
        LinkMembership m = new LinkMembership(links, onJoined, onLeft);
        hazelcast.getCluster().addMembershipListener(m);
        for (Member member : hazelcast.getCluster().getMembers()) {
            if (!member.localMember()) {
                m.joined(member);
            }
        }
    }

    @Override
    public void memberAdded(MembershipEvent event) {
        joined(event.getMember());
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
        String node = event.getMember().getAttribute(NODE);
        if (node != null) {
            links.disconnect(node);
            onLeft.accept(node);
        }
    }

    private void joined(Member member) {
        String node = member.getAttribute(NODE);
        String port = member.getAttribute(LINK_PORT);
        if (node == null || port == null) {
            log.warn("member {} advertises no {} / {}: not a Starling node of this version; no link to it",
                    member.getAddress(), NODE, LINK_PORT);
            return;
        }
        links.connect(node, member.getAddress().getHost(), Integer.parseInt(port));
        onJoined.accept(node);
    }
}
