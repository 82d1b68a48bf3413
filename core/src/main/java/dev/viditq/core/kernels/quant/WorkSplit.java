package dev.viditq.core.kernels.quant;

import dev.viditq.core.parallel.Parallel;

/**
 * How one GEMM call is cut for the thread pool: by column panels when there are at least as many panels as
 * threads (each thread streams its own weights against all activations), else by row blocks of 8. Calls too
 * small to pay for a fork run on the caller's thread.
 */
record WorkSplit(int tasks, boolean byColumns, int rows, int panels) implements TaskSplit {
    /** Below this many multiply-adds a call runs on one thread. */
    static final long MIN_PARALLEL_MACS = 1L << 20;

    static WorkSplit of(int rows, int n, int k) {
        int panels = Math.ceilDiv(n, PackedLayout.NR);
        int threads = Parallel.threads();
        if (threads == 1 || (long) rows * n * k < MIN_PARALLEL_MACS) return new WorkSplit(1, true, rows, panels);
        if (panels >= threads) return new WorkSplit(threads, true, rows, panels);
        return new WorkSplit(Math.min(threads, Math.ceilDiv(rows, 8)), false, rows, panels);
    }

    /** First column of task i (a panel boundary); columns end at n. */
    @Override
    public int colStart(int i) {
        return byColumns ? (int) ((long) panels * i / tasks) * PackedLayout.NR : 0;
    }

    @Override
    public int colEnd(int i, int n) {
        return byColumns ? Math.min(n, (int) ((long) panels * (i + 1) / tasks) * PackedLayout.NR) : n;
    }

    @Override
    public int rowStart(int i) {
        return byColumns ? 0 : rowBoundary(i);
    }

    @Override
    public int rowEnd(int i) {
        return byColumns ? rows : rowBoundary(i + 1);
    }

    private int rowBoundary(int i) {
        if (i >= tasks) return rows;
        return Math.min(rows, (int) ((long) Math.ceilDiv(rows, 8) * i / tasks) * 8);
    }

    /** Row ranges per thread for the quantizer. */
    static final int QUANTIZE_TASKS_PER_THREAD = 4;

    /**
     * Row ranges for the quantizer (one task when small): up to {@link #QUANTIZE_TASKS_PER_THREAD} per thread, of at
     * least 4 rows, so that the threads that run faster take more of them. One range per thread waited on the
     * slowest: the AMX host's vCPUs run at unequal speeds, and there, at 16 threads, four ranges per thread took the
     * quantizer of a PixArt-XL/2 step from 0.029-0.032 to 0.024-0.027 s (docs/BENCHMARKS.md, "AMX host: the
     * pool's caller waits for tasks, not helpers").
     */
    static int quantizeTasks(int rows, int k) {
        if ((long) rows * k < (1 << 16)) return 1;
        return Math.min(QUANTIZE_TASKS_PER_THREAD * Parallel.threads(), Math.ceilDiv(rows, 4));
    }
}
