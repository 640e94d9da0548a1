package io.starling.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class RecentCompletionsTest {
    @Test
    void keepsIdsForAWhileThenForgetsThem() {
        RecentCompletions r = new RecentCompletions();
        long t = 1_000_000_000L;
        r.completed(1, t);
        r.completed(2, t + 1);
        assertTrue(r.contains(1, t + RecentCompletions.KEEP_NANOS - 1));
        assertEquals(List.of(2L), r.recent(t + RecentCompletions.KEEP_NANOS + 1), "1 is older than the bound now");
        assertFalse(r.contains(1, t + RecentCompletions.KEEP_NANOS + 1));
    }

    @Test
    void keepsAtMostMaxTheNewest() {
        RecentCompletions r = new RecentCompletions();
        int n = RecentCompletions.MAX + 100;
        for (long id = 1; id <= n; id++) {
            r.completed(id, 5);
        }
        List<Long> recent = r.recent(5);
        assertEquals(LongStream.rangeClosed(101, n).boxed().toList(), recent, "oldest first, the first 100 gone");
        assertFalse(r.contains(100, 5));
        assertTrue(r.contains(n, 5));
    }
}
