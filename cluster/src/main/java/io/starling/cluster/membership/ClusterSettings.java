package io.starling.cluster.membership;

import java.util.List;
import java.util.Map;

/**
 * How this node joins (or does not join) a Hazelcast cluster.
 *
 * @param name                 cluster name; members with another name never merge
 * @param bindHost             address the member listens on for other members
 * @param port                 first port to try; the next free one up to +100 is taken
 * @param members              static member list ("host:port"); empty (and no Kubernetes DNS) means a
 *                             one-member cluster that joins nothing
 * @param kubernetesServiceDns DNS name of a headless Kubernetes service whose addresses are the
 *                             members; when non-empty it replaces {@code members}
 * @param backupCount          synchronous backups of every {@code starling.*} map, kept on other members
 * @param attributes           member attributes other members can read, e.g. this node's forwarding port
 */
public record ClusterSettings(String name, String bindHost, int port, List<String> members,
        String kubernetesServiceDns, int backupCount, Map<String, String> attributes) {

    public ClusterSettings {
        members = List.copyOf(members);
        kubernetesServiceDns = kubernetesServiceDns == null ? "" : kubernetesServiceDns.trim();
        attributes = Map.copyOf(attributes);
        if (!kubernetesServiceDns.isEmpty() && !members.isEmpty()) {
            // The configuration loader refuses this too; here it guards callers that build settings by hand.
            throw new IllegalArgumentException("either a member list or a Kubernetes service DNS name, not both");
        }
    }

    /** Joins by Kubernetes DNS lookup rather than by the static member list. */
    public boolean discoversByKubernetesDns() {
        return !kubernetesServiceDns.isEmpty();
    }
}
