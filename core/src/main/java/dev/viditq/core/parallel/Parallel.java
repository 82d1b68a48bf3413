package dev.viditq.core.parallel;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The one thread pool of the process. Kernels split work into coarse chunks (one per thread or a few) so that
 * the fork/join overhead stays far below the work. The thread count comes from {@code -Dviditq.threads}
 * (default: available processors) and can be changed for benchmarks.
 *
 * <p>The calling thread works too: {@code forEach} with t threads hands t-1 workers to the pool and runs the
 * last itself, so a kernel on a 2-core machine keeps exactly 2 threads busy. A {@code forEach} called from
 * inside another one's body runs inline on that thread: the outer loop already occupies every thread, and
 * nested tasks waiting on each other could otherwise starve the pool.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("viditq.threads",
            Runtime.getRuntime().availableProcessors()));

    private Parallel() {}

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Replaces the pool (benchmarks measure 1 and 2 threads in one run). */
    public static synchronized void setThreads(int threads) {
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    /**
     * Runs {@code body(i)} for i in [0, n), i.e. each index once, spread over the pool's threads; indices are
     * handed out dynamically so uneven chunks balance. Runs inline when n == 1, one thread is configured, or
     * the caller is itself one of the pool's workers (a nested forEach). The first exception thrown by a body
     * is rethrown after every thread has stopped; the others are attached to it as suppressed.
     */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        ForkJoinPool p = pool;
        int t = Math.min(p.getParallelism(), n);
        if (t == 1 || isWorkerOf(p) || inForEach.get()) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i; (i = next.getAndIncrement()) < n; ) body.accept(i);
        };
        ForkJoinTask<?>[] helpers = new ForkJoinTask<?>[t - 1];
        for (int i = 0; i < helpers.length; i++) helpers[i] = p.submit(worker);
        Throwable failure = null;
        inForEach.set(true);
        try {
            worker.run();
        } catch (Throwable e) {
            failure = e;
            next.set(n);   // stop handing out indices
        } finally {
            inForEach.set(false);
        }
        for (ForkJoinTask<?> h : helpers) {
            try {
                h.join();
            } catch (Throwable e) {
                if (failure == null) failure = e;
                else if (failure != e) failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException(failure);
    }

    /** True on the calling thread while it runs its share of a forEach (so nested calls run inline). */
    private static final ThreadLocal<Boolean> inForEach = ThreadLocal.withInitial(() -> false);

    private static boolean isWorkerOf(ForkJoinPool p) {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == p;
    }
}
