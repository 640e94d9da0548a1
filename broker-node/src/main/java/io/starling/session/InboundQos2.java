package io.starling.session;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The QoS 2 PUBLISHes a session received from its client and has not released (spec 4.3.3, the
 * receiver's side): for each packet identifier, the id its message was given and how far its
 * routing got. They are journaled, so that a node adopting the session answers a resend without
 * routing it again [MQTT-4.3.3-10], or routes it again under the same id where the first routing
 * did not finish (and the nodes that have it take it once [MQTT-4.3.3-2]).
 */
final class InboundQos2 {
    /** One QoS 2 PUBLISH received: the id its message has, and how far its routing got. */
    static final class Flow {
        final long messageId;
        boolean accepted;
        /** This node's routing of it while that goes on, or null (done, or it came from the journal). */
        Future<Integer> routing;
        /** Written to the journal: its later changes go there too. */
        boolean journaled;

        Flow(long messageId, boolean accepted) {
            this.messageId = messageId;
            this.accepted = accepted;
        }
    }

    private final SessionJournal journal;
    private final Map<Integer, Flow> flows = new HashMap<>(0);

    InboundQos2(SessionJournal journal) {
        this.journal = journal;
    }

    /** The flow of a QoS 2 PUBLISH with this identifier that was received and not released, or null. */
    Flow get(int packetId) {
        return flows.get(packetId);
    }

    boolean pending(int packetId) {
        return flows.containsKey(packetId);
    }

    int count() {
        return flows.size();
    }

    /**
     * A QoS 2 PUBLISH with a new identifier: its message id is journaled (when {@code persistent})
     * before it is routed, so that if this node dies while routing it, the node that gets the
     * session routes the client's resend again under the same id.
     *
     * @return what the routing must wait for, or null when nothing is journaled
     */
    Future<Void> begin(int packetId, long messageId, boolean persistent) {
        Flow f = new Flow(messageId, false);
        flows.put(packetId, f);
        if (!persistent) {
            return null;
        }
        f.journaled = true;
        return journal.keepInbound(packetId, messageId, false);
    }

    /**
     * Its routing was accepted: journaled before the PUBREC, so that a resend after this node's loss
     * is answered without routing it again.
     *
     * @return what the PUBREC waits for, or null when nothing is journaled
     */
    Future<Void> accepted(int packetId) {
        Flow f = flows.get(packetId);
        if (f == null) {
            return null;
        }
        f.accepted = true;
        f.routing = null;
        return f.journaled ? journal.keepInbound(packetId, f.messageId, true) : null;
    }

    /** PUBREL, or a refusing PUBREC: the flow ends, and a resend is a new message. @return whether it was known */
    boolean release(int packetId) {
        Flow f = flows.remove(packetId);
        if (f != null && f.journaled) {
            journal.forgetInbound(packetId);
        }
        return f != null;
    }

    /** There is now somewhere to back up to: every flow is written. */
    void journalAll() {
        flows.forEach((id, f) -> {
            f.journaled = true;
            journal.keepInbound(id, f.messageId, f.accepted);
        });
    }

    /** Whether anything was written to the journal (so the session's end must remove it there). */
    boolean anyJournaled() {
        for (Flow f : flows.values()) {
            if (f.journaled) {
                return true;
            }
        }
        return false;
    }

    /** What a move to another node takes along. */
    List<SessionState.Inbound> state() {
        List<SessionState.Inbound> out = new ArrayList<>(flows.size());
        flows.forEach((id, f) -> out.add(new SessionState.Inbound(id, f.messageId, f.accepted)));
        return out;
    }

    /** Flows that came with a session from another node: they are in the journal already. */
    void load(List<SessionState.Inbound> state) {
        for (SessionState.Inbound i : state) {
            Flow f = new Flow(i.messageId(), i.accepted());
            f.journaled = true;
            flows.put(i.packetId(), f);
        }
    }

    void clear() {
        flows.clear();
    }
}
