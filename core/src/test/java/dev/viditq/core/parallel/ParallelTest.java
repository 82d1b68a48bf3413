package dev.viditq.core.parallel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads : new int[]{1, 2, 5}) {
            Parallel.setThreads(threads);
            for (int n : new int[]{0, 1, 2, 7, 1000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, n));
                Parallel.forEach(n, seen::incrementAndGet);
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "index " + i + " of " + n);
            }
        }
    }

    @Test
    @Timeout(10)
    void nestedForEachRunsInlineWithoutDeadlock() {
        Parallel.setThreads(2);
        AtomicInteger count = new AtomicInteger();
        Parallel.forEach(8, i -> Parallel.forEach(8, j -> Parallel.forEach(3, k -> count.incrementAndGet())));
        assertEquals(8 * 8 * 3, count.get());
    }

    @Test
    @Timeout(10)
    void countedCallsAddUpTheirThreadsTime() throws Exception {
        Parallel.setThreads(3);
        Parallel.recordStats(true);
        try {
            PoolStats before = Parallel.stats();
            Parallel.forEach(3, i -> sleepMillis(20));   // one index per thread: each thread busy ~20 ms
            Parallel.forEach(1, i -> sleepMillis(5));    // inline: not counted
            PoolStats d = Parallel.stats().minus(before);
            assertEquals(1, d.calls());
            assertTrue(d.helperJoins() >= 1 && d.helperJoins() <= 2, "helpers that took part: " + d.helperJoins());
            assertTrue(d.wallNanos() >= 20_000_000L, "wall " + d.wallNanos());
            assertTrue(d.busyNanos() >= 20_000_000L * (1 + d.helperJoins()), "busy " + d.busyNanos());
            assertTrue(d.busyFraction() > 0 && d.busyFraction() <= 1.0, "busy fraction " + d.busyFraction());
            assertTrue(d.callerWaitNanos() >= 0 && d.callerWaitNanos() <= d.wallNanos());
        } finally {
            Parallel.recordStats(false);
        }
        PoolStats off = Parallel.stats();
        Parallel.forEach(3, i -> sleepMillis(1));
        assertEquals(off, Parallel.stats(), "nothing is counted once recording is off");
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aBodysExceptionReachesTheCaller() {
        Parallel.setThreads(3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
            if (i == 57) throw new IllegalStateException("boom at 57");
        }));
        assertEquals("boom at 57", rootMessage(e));
        // the pool still works afterwards
        AtomicInteger count = new AtomicInteger();
        Parallel.forEach(10, i -> count.incrementAndGet());
        assertEquals(10, count.get());
    }

    @Test
    @Timeout(20)
    void callersOnSeveralThreadsAtOnceEachGetEveryIndex() throws Exception {
        Parallel.setThreads(2);
        int callers = 3, calls = 2000, n = 5;
        AtomicInteger total = new AtomicInteger();
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            threads[c] = new Thread(() -> {
                for (int i = 0; i < calls; i++) Parallel.forEach(n, j -> total.incrementAndGet());
            });
            threads[c].start();
        }
        for (Thread t : threads) t.join();
        assertEquals(callers * calls * n, total.get());
    }

    @Test
    @Timeout(20)
    void helpersThatParkedWakeForTheNextCall() throws Exception {
        Parallel.setThreads(3);
        for (int round = 0; round < 3; round++) {
            Thread.sleep(5);   // far beyond the helpers' polling time: they park
            java.util.Set<String> names = java.util.concurrent.ConcurrentHashMap.newKeySet();
            AtomicInteger count = new AtomicInteger();
            long deadline = System.nanoTime() + 5_000_000_000L;
            Parallel.forEach(300, i -> {
                names.add(Thread.currentThread().getName());
                // hold every index until a second thread has joined in (or give up after 5 s: the assert says why)
                while (names.size() < 2 && System.nanoTime() < deadline) Thread.onSpinWait();
                count.incrementAndGet();
            });
            assertEquals(300, count.get());
            assertTrue(names.size() >= 2, "work ran on " + names);
        }
    }

    @Test
    @Timeout(20)
    void changingTheThreadCountWhileAnotherThreadLoopsLosesNoWork() throws Exception {
        AtomicInteger total = new AtomicInteger();
        Thread worker = new Thread(() -> {
            for (int i = 0; i < 3000; i++) Parallel.forEach(4, j -> total.incrementAndGet());
        });
        worker.start();
        for (int i = 0; i < 50 && worker.isAlive(); i++) Parallel.setThreads(2 + i % 2);
        worker.join();
        assertEquals(3000 * 4, total.get());
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getMessage() != null && !t.getMessage().startsWith("boom")) t = t.getCause();
        return t.getMessage();
    }
}
