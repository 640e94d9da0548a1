package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The receiver's side of QoS 2 (spec 4.3.3): what is known of each packet identifier, and what is journaled. */
class InboundQos2Test {
    final SessionTest.Journal journal = new SessionTest.Journal();
    final InboundQos2 inbound = new InboundQos2(journal);

    @Test
    void aFlowOfAJournaledSessionIsWrittenAtEachStepAndForgottenAtItsEnd() {
        assertTrue(inbound.begin(7, 42L, true) != null, "routing waits for the write");
        assertTrue(inbound.pending(7));
        assertFalse(inbound.get(7).accepted);
        inbound.accepted(7);
        assertTrue(inbound.get(7).accepted, "[MQTT-4.3.3-10] a resend is answered without routing it");
        assertTrue(inbound.release(7));
        assertFalse(inbound.release(7), "a second PUBREL finds nothing (0x92)");
        assertEquals(List.of("inbound 7", "inbound 7 accepted", "forget inbound 7"), journal.ops);
    }

    @Test
    void aFlowBegunWithoutAJournalWritesNothingUntilEverythingIsWrittenOut() {
        assertNull(inbound.begin(1, 10L, false));
        assertNull(inbound.accepted(1));
        assertFalse(inbound.anyJournaled());
        assertEquals(List.of(), journal.ops);
        inbound.begin(2, 20L, false);
        inbound.journalAll(); // a node joined
        assertTrue(inbound.anyJournaled());
        assertEquals(2, journal.ops.size());
        assertTrue(journal.ops.containsAll(List.of("inbound 1 accepted", "inbound 2")));
        inbound.release(1);
        assertEquals("forget inbound 1", journal.ops.get(2), "written out, so forgotten there too");
    }

    @Test
    void flowsMoveWithTheSessionAndStayJournaled() {
        inbound.begin(3, 30L, true);
        inbound.accepted(3);
        List<SessionState.Inbound> state = inbound.state();
        assertEquals(List.of(new SessionState.Inbound(3, 30L, true)), state);

        SessionTest.Journal there = new SessionTest.Journal();
        InboundQos2 moved = new InboundQos2(there);
        moved.load(state);
        assertEquals(30L, moved.get(3).messageId);
        assertTrue(moved.get(3).accepted);
        assertEquals(1, moved.count());
        assertTrue(moved.release(3));
        assertEquals(List.of("forget inbound 3"), there.ops, "what came from the journal is removed from it");
    }
}
