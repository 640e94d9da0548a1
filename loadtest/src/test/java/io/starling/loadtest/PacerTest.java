package io.starling.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PacerTest {

    @Test
    void runsEveryTaskNoEarlierThanItsInstantAndInTimeOrder() throws InterruptedException {
        int n = 200;
        long base = System.nanoTime() + 20_000_000;
        List<Integer> ran = Collections.synchronizedList(new ArrayList<>());
        List<Long> earlyBy = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(n);
        try (Pacer pacer = new Pacer()) {
            // Added out of order: i-th task is due at base + i * 0.5 ms.
            for (int k = 0; k < n; k++) {
                int i = (k * 7919) % n;
                long at = base + i * 500_000L;
                pacer.at(at, () -> {
                    long now = System.nanoTime();
                    if (now < at - 20_000) { // the documented slack: at most 20 µs early
                        earlyBy.add(at - now);
                    }
                    ran.add(i);
                    done.countDown();
                });
            }
            assertTrue(done.await(10, TimeUnit.SECONDS), "all tasks ran");
        }
        assertEquals(List.of(), earlyBy, "no task ran before its instant");
        List<Integer> sorted = new ArrayList<>(ran);
        Collections.sort(sorted);
        assertEquals(sorted, ran, "tasks ran in the order of their instants");
    }

    @Test
    void aTaskAddedWhileThePacerSleepsLongerRunsAtItsOwnInstant() throws InterruptedException {
        CountDownLatch early = new CountDownLatch(1);
        try (Pacer pacer = new Pacer()) {
            pacer.at(System.nanoTime() + TimeUnit.SECONDS.toNanos(30), () -> { });
            Thread.sleep(50); // the pacer now parks until the 30 s task
            pacer.at(System.nanoTime() + 1_000_000, early::countDown);
            assertTrue(early.await(5, TimeUnit.SECONDS), "the new, earlier task woke the pacer");
        }
    }
}
