package io.starling.session;

import io.starling.routing.Delivery;
import io.vertx.core.Future;

/**
 * What of one session must outlive its node (docs/adr/0006): its record (expiry, subscriptions,
 * pending will), each QoS 1/2 message queued or in flight towards it, and the QoS 2 packet
 * identifiers it received and has not released. Changes reach the store in the order the session
 * made them, whatever the store does in between (retries after a member left, migrations), so a
 * late write never undoes a later one (issue 9). Inactive while there is no other node: then
 * nothing is written and every future completes at once.
 */
interface SessionJournal {
    boolean active();

    Future<Void> record(SessionState meta);

    /** A message queued (packet identifier 0) or in flight with {@code packetId}, PUBREC'd if {@code released}. */
    Future<Void> keep(Delivery d, int packetId, boolean released);

    /**
     * The message with this sequence number is done (acknowledged, expired, dropped). Its id is
     * remembered a while, so that a node adopting the session can tell a copy of it that other
     * nodes republish from a new message.
     */
    void forget(long seq, long messageId);

    /** A QoS 2 PUBLISH received, with the id given to its message; {@code accepted} once its routing was. */
    Future<Void> keepInbound(int packetId, long messageId, boolean accepted);

    void forgetInbound(int packetId);

    /** The session ended: its record and messages go, after everything written before. */
    Future<Void> forgetSession();

    /** Completes once every change made so far is written (or failed). */
    Future<Void> flushed();
}
