package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StreamTrackerTest {

    @Test
    void inOrderStreamHasNothingMissing() {
        StreamTracker t = new StreamTracker();
        for (long s = 0; s < 100_000; s++) {
            assertTrue(t.add(s));
        }
        assertEquals(100_000, t.distinct());
        assertEquals(0, t.duplicates());
        assertEquals(0, t.lost(100_000));
        // Sent but never received: the tail.
        assertEquals(5, t.lost(100_005));
    }

    @Test
    void gapsAreLostAndRepeatsAreDuplicates() {
        StreamTracker t = new StreamTracker();
        for (long s = 0; s < 1000; s++) {
            if (s != 3 && s != 500 && s != 999) {
                t.add(s);
            }
        }
        assertEquals(3, t.lost(1000));
        assertFalse(t.add(0));   // below the compacted prefix
        assertFalse(t.add(998)); // inside the window
        assertEquals(2, t.duplicates());
        assertTrue(t.add(500));  // late, but new
        assertEquals(2, t.lost(1000));
        assertTrue(t.contains(500));
        assertFalse(t.contains(3));
    }

    @Test
    void closingAnEarlyGapReleasesTheWindow() {
        StreamTracker t = new StreamTracker();
        for (long s = 1; s < 50_000; s++) {
            t.add(s);
        }
        assertEquals(1, t.lost(50_000));
        assertTrue(t.add(0));
        assertEquals(0, t.lost(50_000));
        assertEquals(50_000, t.distinct());
        assertFalse(t.add(12_345));
        assertEquals(1, t.duplicates());
    }

    @Test
    void farAheadSequenceGrowsTheWindow() {
        StreamTracker t = new StreamTracker();
        assertTrue(t.add(1_000_000));
        assertEquals(1_000_000, t.lost(1_000_001));
        assertFalse(t.add(1_000_000));
    }
}
