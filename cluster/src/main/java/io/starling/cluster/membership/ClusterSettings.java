package io.starling.cluster.membership;

import java.util.List;

/**
 * How this node joins (or does not join) a Hazelcast cluster.
 *
 * @param name     cluster name; members with another name never merge
 * @param bindHost address the member listens on for other members
 * @param port     first port to try; the next free one up to +100 is taken
 * @param members  static member list ("host:port"); empty means a one-member cluster that joins nothing
 * @param attributes member attributes other members read (node id, link port)
 */
public record ClusterSettings(String name, String bindHost, int port, List<String> members,
                              java.util.Map<String, String> attributes) {
}
