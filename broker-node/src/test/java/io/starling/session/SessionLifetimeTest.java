package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.starling.protocol.Connect;
import io.starling.protocol.Properties;
import io.starling.session.SessionLifetime.Kind;
import io.starling.session.SessionLifetime.Plan;
import io.starling.session.SessionLifetime.Timer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionLifetimeTest {
    private static final long NEVER = SessionLifetime.NEVER_EXPIRES;

    static Connect.Will will(String topic, Long delaySeconds) {
        Properties p = new Properties();
        p.willDelayInterval = delaySeconds;
        return new Connect.Will(topic, new byte[0], 1, false, p);
    }

    /** Carries out plans the way {@link SessionRef} does, with timers that run on a fake clock. */
    static final class Node {
        record Armed(long dueMillis, Timer timer) {
        }

        final SessionLifetime lifetime = new SessionLifetime();
        final List<Armed> armed = new ArrayList<>();
        final List<String> published = new ArrayList<>();
        long now; // the fake clock, in ms
        boolean ended;

        Plan connect(boolean existing, boolean takeover, boolean cleanStart, Connect.Will w) {
            return apply(lifetime.connected(existing, takeover, cleanStart, w));
        }

        Plan lose(boolean publishWill, long expirySeconds) {
            return apply(lifetime.connectionLost(publishWill, expirySeconds));
        }

        /** Moves the clock on, firing the timers that fall due on the way in order. */
        void advance(long millis) {
            long until = now + millis;
            while (true) {
                Armed next = armed.stream().min(Comparator.comparingLong(Armed::dueMillis)).orElse(null);
                if (next == null || next.dueMillis() > until) {
                    break;
                }
                armed.remove(next);
                now = next.dueMillis();
                apply(lifetime.timerFired(next.timer()));
            }
            now = until;
        }

        private Plan apply(Plan p) {
            if (p.cancelTimers()) {
                armed.clear();
            }
            if (p.will() != null) {
                published.add(p.will().topic());
            }
            if (p.endSession()) {
                ended = true;
                armed.clear();
            }
            for (Timer t : new Timer[] {p.willTimer(), p.expiryTimer()}) {
                if (t != null) {
                    armed.add(new Armed(now + t.delayMillis(), t));
                }
            }
            return p;
        }
    }

    // ---- connection lost ----

    @Test
    void willWithoutDelayIsPublishedAsSoonAsTheConnectionIsLost() {
        Node n = new Node();
        n.connect(false, false, true, will("w/now", null));
        Plan p = n.lose(true, 60);
        assertEquals(List.of("w/now"), n.published, "[MQTT-3.1.2-8] no Will Delay Interval: the will goes at once");
        assertNull(p.willTimer());
        assertFalse(n.ended);
    }

    @Test
    void willIsPublishedWhenItsDelayHasElapsedNotBefore() {
        Node n = new Node();
        n.connect(false, false, true, will("w/delayed", 5L));
        Plan p = n.lose(true, 60);
        assertEquals(new Timer(Kind.WILL_DELAY, 5_000, 1), p.willTimer());
        n.advance(4_999);
        assertTrue(n.published.isEmpty(), "spec 3.1.3.2.2: the will waits for its Will Delay Interval");
        n.advance(1);
        assertEquals(List.of("w/delayed"), n.published, "[MQTT-3.1.2-8] published once the delay has elapsed");
        assertFalse(n.ended, "the session outlives its will");
        n.advance(55_000);
        assertTrue(n.ended);
        assertEquals(1, n.published.size(), "[MQTT-3.1.2-10] a published will is gone from the session");
    }

    @Test
    void willDelayIsCappedBySessionExpiry() {
        Node n = new Node();
        n.connect(false, false, true, will("w/capped", 30L));
        Plan p = n.lose(true, 10);
        assertEquals(10_000, p.willTimer().delayMillis(),
                "spec 3.1.3.2.2: the will goes at the delay or the end of the session, whichever comes first");
        assertEquals(new Timer(Kind.SESSION_EXPIRY, 10_000, 1), p.expiryTimer());
        n.advance(9_999);
        assertTrue(n.published.isEmpty());
        n.advance(1);
        assertEquals(List.of("w/capped"), n.published);
        assertTrue(n.ended);
    }

    @Test
    void sessionExpiringBeforeTheWillDelayPublishesTheWillThenEndsTheSession() {
        SessionLifetime l = new SessionLifetime();
        Connect.Will w = will("w/expiry", 30L);
        l.connected(false, false, true, w);
        Plan lost = l.connectionLost(true, 10);
        Plan expired = l.timerFired(lost.expiryTimer()); // the expiry timer runs before the will timer
        assertSame(w, expired.will(), "spec 3.1.3.2.2: the session ends first, so the will goes now");
        assertTrue(expired.endSession());
        assertTrue(expired.cancelTimers(), "the will timer is no longer needed");
        assertEquals(Plan.NOTHING, l.timerFired(lost.willTimer()), "the will is not published twice");
    }

    @Test
    void sessionExpiryIntervalZeroEndsTheSessionWithTheConnectionAndSendsTheWill() {
        Node n = new Node();
        n.connect(false, false, true, will("w/zero", 30L));
        Plan p = n.lose(true, 0);
        assertEquals(List.of("w/zero"), n.published, "spec 3.1.3.2.2: the session ends, so the will goes now");
        assertTrue(p.endSession(), "spec 3.1.2.11.2: expiry 0 ends the session when the connection closes");
        assertNull(p.willTimer());
        assertNull(p.expiryTimer());
    }

    @Test
    void sessionExpiresAfterItsInterval() {
        Node n = new Node();
        n.connect(false, false, true, null);
        Plan p = n.lose(true, 90);
        assertEquals(new Timer(Kind.SESSION_EXPIRY, 90_000, 1), p.expiryTimer());
        n.advance(89_999);
        assertFalse(n.ended, "spec 3.1.2.11.2: the session is kept for its Session Expiry Interval");
        n.advance(1);
        assertTrue(n.ended);
        assertTrue(n.published.isEmpty());
    }

    @Test
    void sessionExpiryIntervalFFFFFFFFNeverExpires() {
        Node n = new Node();
        n.connect(false, false, true, will("w/forever", 60L));
        Plan p = n.lose(true, NEVER);
        assertNull(p.expiryTimer(), "spec 3.1.2.11.2: 0xFFFFFFFF means the session does not expire");
        assertEquals(60_000, p.willTimer().delayMillis());
        n.advance(200L * 365 * 24 * 3600 * 1000);
        assertEquals(List.of("w/forever"), n.published);
        assertFalse(n.ended);
    }

    @Test
    void largestExpiringIntervalIsArmedWithoutOverflow() {
        SessionLifetime l = new SessionLifetime();
        l.connected(false, false, true, will("w/long", NEVER));
        Plan p = l.connectionLost(true, NEVER - 1);
        assertEquals((NEVER - 1) * 1000, p.expiryTimer().delayMillis());
        assertEquals((NEVER - 1) * 1000, p.willTimer().delayMillis());
    }

    @Test
    void normalDisconnectDiscardsTheWill() {
        Node n = new Node();
        n.connect(false, false, true, will("w/polite", null));
        Plan p = n.lose(false, 10);
        assertNull(p.will(), "[MQTT-3.1.2-10] DISCONNECT 0x00 removes the will");
        assertNull(p.willTimer());
        n.advance(10_000);
        assertTrue(n.ended);
        assertTrue(n.published.isEmpty(), "[MQTT-3.1.2-10] not even when the session ends");
    }

    // ---- a new connection ----

    @Test
    void reconnectWithinTheWillDelayCancelsTheWill() {
        Node n = new Node();
        n.connect(false, false, true, will("w/back", 5L));
        n.lose(true, 60);
        n.advance(2_000);
        Plan p = n.connect(true, false, false, null);
        assertTrue(p.cancelTimers());
        assertNull(p.will(), "[MQTT-3.1.3-9] a new connection before the Will Delay Interval: no will");
        assertFalse(p.endSession(), "the session is resumed");
        n.advance(120_000);
        assertTrue(n.published.isEmpty());
        assertFalse(n.ended, "the expiry clock stops while connected");
    }

    @Test
    void cleanStartOnAnOfflineSessionPublishesItsPendingWillAndEndsIt() {
        Node n = new Node();
        n.connect(false, false, true, will("w/old", 30L));
        n.lose(true, 60);
        n.advance(1_000);
        Plan p = n.connect(true, false, true, null);
        assertEquals(List.of("w/old"), n.published, "spec 3.1.3.2.2: the old session ends, so its will goes now");
        assertTrue(p.endSession(), "[MQTT-3.1.2-4] Clean Start discards the existing session");
        assertTrue(p.cancelTimers());
        n.advance(120_000);
        assertEquals(1, n.published.size());
    }

    @Test
    void cleanStartOnAFreshSessionHasNothingToEnd() {
        Plan p = new SessionLifetime().connected(false, false, true, will("w/new", 5L));
        assertNull(p.will());
        assertFalse(p.endSession());
    }

    @Test
    void takeoverPublishesTheOldWillWhenItHasNoDelay() {
        Node n = new Node();
        n.connect(false, false, true, will("w/old", null));
        Plan p = n.connect(true, true, false, null);
        assertEquals(List.of("w/old"), n.published, "[MQTT-3.1.4-3] the old connection is closed, spec 3.1.2.5");
        assertFalse(p.endSession());
    }

    @Test
    void takeoverResumingTheSessionWithinTheWillDelayKeepsTheOldWillBack() {
        Node n = new Node();
        n.connect(false, false, true, will("w/old", 5L));
        Plan p = n.connect(true, true, false, null);
        assertNull(p.will(), "[MQTT-3.1.3-9] the new connection comes before the Will Delay Interval");
        assertFalse(p.endSession());
        n.advance(60_000);
        assertTrue(n.published.isEmpty());
    }

    @Test
    void takeoverWithCleanStartPublishesTheOldWillDespiteItsDelayAndEndsTheSession() {
        Node n = new Node();
        n.connect(false, false, true, will("w/old", 5L));
        Plan p = n.connect(true, true, true, null);
        assertEquals(List.of("w/old"), n.published, "spec 3.1.2.5 / 3.1.3.2.2: the old session ends");
        assertTrue(p.endSession(), "[MQTT-3.1.2-4]");
    }

    @Test
    void afterATakeoverTheNewConnectionsWillIsTheOneThatCounts() {
        Node n = new Node();
        n.connect(false, false, true, will("w/old", 5L));
        n.connect(true, true, false, will("w/new", null));
        n.lose(true, 60);
        assertEquals(List.of("w/new"), n.published);
    }

    // ---- stale timers ----

    @Test
    void willTimerOfAnEarlierConnectionDoesNothing() {
        SessionLifetime l = new SessionLifetime();
        l.connected(false, false, true, will("w/first", 5L));
        Timer stale = l.connectionLost(true, 60).willTimer();
        l.connected(true, false, false, will("w/second", 5L)); // cancelled, but it may already have fired
        Plan lostAgain = l.connectionLost(true, 60);
        assertEquals(Plan.NOTHING, l.timerFired(stale),
                "[MQTT-3.1.3-9] the first delay was interrupted; the second will waits for its own timer");
        assertEquals("w/second", l.timerFired(lostAgain.willTimer()).will().topic());
    }

    @Test
    void expiryTimerOfAnEarlierConnectionDoesNotEndTheResumedSession() {
        SessionLifetime l = new SessionLifetime();
        l.connected(false, false, true, null);
        Timer stale = l.connectionLost(true, 1).expiryTimer();
        l.connected(true, false, false, null);
        assertEquals(Plan.NOTHING, l.timerFired(stale), "connected: the session does not expire");
        Plan lostAgain = l.connectionLost(true, 60);
        assertEquals(Plan.NOTHING, l.timerFired(stale), "the expiry clock restarted with the second loss");
        assertTrue(l.timerFired(lostAgain.expiryTimer()).endSession());
    }

    @Test
    void timersAfterTheSessionEndedDoNothing() {
        SessionLifetime l = new SessionLifetime();
        l.connected(false, false, true, will("w/once", 10L));
        Plan lost = l.connectionLost(true, 10);
        assertTrue(l.timerFired(lost.expiryTimer()).endSession());
        assertEquals(Plan.NOTHING, l.timerFired(lost.expiryTimer()));
        assertEquals(Plan.NOTHING, l.timerFired(lost.willTimer()));
    }
}
