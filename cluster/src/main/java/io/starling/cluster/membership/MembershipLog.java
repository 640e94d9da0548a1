package io.starling.cluster.membership;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every member that joins or leaves with the resulting cluster size. Operators and the
 * multi-process tests read these lines, so their wording is stable: "cluster: member joined
 * ADDRESS, now N members" and "cluster: member left ADDRESS, now N members". The logger is
 * {@link ClusterMember}'s so that one logger name carries everything about membership.
 */
final class MembershipLog implements MembershipListener {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterMember.class);

    @Override
    public void memberAdded(MembershipEvent event) {
        // A listener registered through the configuration also hears of the local member itself
        // while it starts; ClusterMember.start logs that once, as "joined as".
        if (event.getMember().localMember()) {
            return;
        }
        LOG.info("cluster: member joined {}, now {} members", event.getMember().getAddress(), event.getMembers().size());
    }

    @Override
    public void memberRemoved(MembershipEvent event) {
        LOG.info("cluster: member left {}, now {} members", event.getMember().getAddress(), event.getMembers().size());
    }
}
