package dev.viditq.core.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The one thread pool of the process. Kernels split work into coarse chunks (one per thread or a few) so that
 * the hand-off overhead stays far below the work. The thread count comes from {@code -Dviditq.threads}
 * (default: available processors) and can be changed for benchmarks.
 *
 * <p>The calling thread works too: {@code forEach} with t threads wakes t-1 helper threads and runs the last share
 * itself, so a kernel on a 2-core machine keeps exactly 2 threads busy. A {@code forEach} called from inside
 * another one's body runs inline on that thread: the outer loop already occupies every thread.
 *
 * <p>Why not a ForkJoinPool: handing a task to a parked pool worker and joining it cost 30-60 µs per call on the
 * 2-vCPU machine of docs/BENCHMARKS.md (measured: {@code forEach(2, trivial)} back to back 31-44 µs, after 50 µs
 * of serial work 56-68 µs), and a sampling step of PixArt-XL makes about 30 such calls per block (GEMMs, quantizers,
 * attention, norms), some 800 over its 28 blocks. Here helpers poll for the next job for {@link #SPIN_NANOS} after each job
 * before they park, so the calls of one forward pass, microseconds apart, start without a wake-up; an idle pool
 * parks and costs nothing.
 */
public final class Parallel {
    /** How long an idle helper polls for the next job before parking ({@code -Dviditq.pool.spinNanos} for experiments). */
    static final long SPIN_NANOS = Long.getLong("viditq.pool.spinNanos", 200_000);

    /** Whether calls are counted into {@link #STATS} (benchmarks turn it on; the counting costs a few clock reads per call). */
    private static volatile boolean recording;
    private static final PoolStats.Counters STATS = new PoolStats.Counters();

    private static volatile Pool pool = new Pool(Math.max(1, Integer.getInteger("viditq.threads",
            Runtime.getRuntime().availableProcessors())));

    /**
     * A pool of the calling thread's own, set by {@link #useOwnPool}: several jobs sharing one process (the task threads
     * of a Spark executor) then each use their share of the cores instead of one taking the process pool and the others
     * running single-threaded.
     */
    private static final ThreadLocal<Pool> ownPool = new ThreadLocal<>();

    private Parallel() {}

    public static int threads() {
        return current().threads;
    }

    private static Pool current() {
        Pool own = ownPool.get();
        return own != null ? own : pool;
    }

    /**
     * Kernels called from this thread from now on use a pool of {@code threads} threads of their own (kept for the
     * thread's next calls; its helpers park when idle); 0 returns the thread to the process pool.
     */
    public static void useOwnPool(int threads) {
        Pool own = ownPool.get();
        if (threads <= 0) {
            if (own != null) own.shutdown();
            ownPool.remove();
            return;
        }
        if (own != null && own.threads == threads) return;
        if (own != null) own.shutdown();
        ownPool.set(new Pool(threads));
    }

    /** Replaces the pool (benchmarks measure 1 and 2 threads in one run). */
    public static synchronized void setThreads(int threads) {
        int t = Math.max(1, threads);
        if (t == pool.threads) return;
        Pool old = pool;
        pool = new Pool(t);
        old.shutdown();   // waits for a forEach running on it
    }

    /** Starts or stops counting what the pool's calls cost (see {@link PoolStats}); counting starts from the totals so far. */
    public static void recordStats(boolean on) {
        recording = on;
    }

    /** The totals counted so far while {@link #recordStats} was on; subtract two for an interval. */
    public static PoolStats stats() {
        return STATS.snapshot();
    }

    /**
     * Runs {@code body(i)} for i in [0, n), i.e. each index once, spread over the pool's threads; indices are
     * handed out dynamically so uneven chunks balance. Runs inline when n == 1, one thread is configured, the
     * caller is inside another forEach (a nested call), or another thread is using the pool at the moment. Returns
     * once every body call has returned; a helper woken too late to take an index may still be on its way and takes
     * none. The first exception thrown by a body is rethrown then, the others attached to it as suppressed, and the
     * indices not yet started when it was thrown are skipped.
     */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) return;
        Pool p = current();
        if (p.threads == 1 || n == 1 || inForEach.get() || !p.lock.tryLock()) {
            runInline(n, body);
            return;
        }
        try {
            if (p.isShutdown()) runInline(n, body);   // replaced by setThreads after this caller read it: no helpers
            else p.run(n, body);
        } finally {
            p.lock.unlock();
        }
    }

    private static void runInline(int n, IntConsumer body) {
        for (int i = 0; i < n; i++) body.accept(i);
    }

    /** True on a thread while it runs its share of a forEach (so nested calls run inline). */
    private static final ThreadLocal<Boolean> inForEach = ThreadLocal.withInitial(() -> false);

    /**
     * One forEach: the helpers that may join it (those with index below {@code helpers}), indices handed out by
     * {@code next}, how many indices are done, the first failure.
     */
    private static final class Job {
        final int n;
        final IntConsumer body;
        final int helpers;
        final AtomicInteger next = new AtomicInteger();
        /**
         * Indices whose body has returned (or was skipped after a failure). The caller waits for all n of them, not
         * for every woken helper to check in: a helper that wakes after the others have taken every index has
         * nothing to do, and waiting for it cost the caller 120-150 µs a call at 16 threads on the AMX host, where
         * vCPUs wake at unequal speeds; waiting for the indices only, 40-55 µs (docs/BENCHMARKS.md, "AMX host: the
         * pool's caller waits for tasks, not helpers").
         */
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;
        /** When the job was published (System.nanoTime) if it is counted, else 0; then the helpers' part of the count. */
        final long published;
        final PoolStats.JobCounters counters;

        Job(int n, IntConsumer body, int helpers, boolean counted) {
            this.n = n;
            this.body = body;
            this.helpers = helpers;
            this.published = counted ? System.nanoTime() : 0;
            this.counters = counted ? new PoolStats.JobCounters() : null;
        }

        /** {@link #work} on a helper, counting when it started after publication and how long it worked. */
        void helperWork() {
            if (counters == null) {
                work();
                return;
            }
            long start = System.nanoTime();
            work();
            counters.helperWorked(start - published, System.nanoTime() - start);
        }

        /**
         * Takes indices until none are left and counts them done. After a failure the indices still taken are only
         * counted, so that the caller's wait ends; the failure is kept for it to rethrow.
         */
        void work() {
            inForEach.set(true);
            int finished = 0;
            try {
                for (int i; (i = next.getAndIncrement()) < n; finished++) {
                    if (failure != null) continue;
                    try {
                        body.accept(i);
                    } catch (Throwable e) {
                        recordFailure(e);
                    }
                }
            } finally {
                inForEach.set(false);
                if (finished > 0) done.addAndGet(finished);
            }
        }

        private synchronized void recordFailure(Throwable e) {
            if (failure == null) failure = e;
            else if (failure != e) failure.addSuppressed(e);
        }

        /** Spins until every index is done (its body returned on whichever thread took it). */
        void awaitDone() {
            while (done.get() < n) Thread.onSpinWait();
        }
    }

    /** t-1 helper threads that take the published job, and the lock that admits one caller at a time. */
    private static final class Pool {
        final int threads;
        final ReentrantLock lock = new ReentrantLock();
        private final Helper[] helpers;
        /** The latest job; helpers notice a new one by reference. */
        private volatile Job job;
        private volatile boolean shutdown;

        Pool(int threads) {
            this.threads = threads;
            helpers = new Helper[threads - 1];
            for (int i = 0; i < helpers.length; i++) {
                helpers[i] = new Helper(i);
                helpers[i].start();
            }
        }

        /** Publishes a job for min(n, threads) - 1 helpers, works on it, waits for its indices and rethrows a failure. */
        void run(int n, IntConsumer body) {
            int active = Math.min(n, threads) - 1;
            Job j = new Job(n, body, active, recording);
            job = j;
            int wakes = 0;
            for (int i = 0; i < active; i++) if (helpers[i].wake()) wakes++;
            long callerStart = j.counters == null ? 0 : System.nanoTime();
            j.work();
            long callerDone = j.counters == null ? 0 : System.nanoTime();
            j.awaitDone();
            if (j.counters != null) STATS.add(j.counters, active + 1, wakes, j.published, callerStart, callerDone, System.nanoTime());
            Throwable failure = j.failure;
            if (failure instanceof RuntimeException r) throw r;
            if (failure instanceof Error err) throw err;
            if (failure != null) throw new IllegalStateException(failure);
        }

        /** Stops the helpers once no forEach is running on this pool (it takes the lock, as forEach does). */
        void shutdown() {
            lock.lock();
            try {
                shutdown = true;
                for (Helper h : helpers) LockSupport.unpark(h);
            } finally {
                lock.unlock();
            }
        }

        boolean isShutdown() {
            return shutdown;
        }

        private final class Helper extends Thread {
            private final int index;
            private volatile boolean parked;

            Helper(int index) {
                super("viditq-kernel-" + (index + 1));
                this.index = index;
                setDaemon(true);
            }

            /** Unparks the helper if it is parked; true if it was. */
            boolean wake() {
                if (!parked) return false;
                LockSupport.unpark(this);
                return true;
            }

            @Override
            public void run() {
                Job seen = null;   // not the current job: the thread may start after the first job was published
                while (!shutdown) {
                    Job j = awaitNext(seen);
                    if (j == seen) continue;
                    seen = j;
                    if (index >= j.helpers) continue;   // a job with fewer indices than threads
                    j.helperWork();
                }
            }

            /** The job once it differs from {@code seen} (polling, then parked), or {@code seen} on shutdown. */
            private Job awaitNext(Job seen) {
                long deadline = System.nanoTime() + SPIN_NANOS;
                while (job == seen && !shutdown) {
                    if (System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (job == seen && !shutdown) LockSupport.park(this);
                        parked = false;
                    }
                }
                return shutdown ? seen : job;
            }
        }
    }
}
