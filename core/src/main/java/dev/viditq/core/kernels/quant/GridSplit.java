package dev.viditq.core.kernels.quant;

/**
 * How one GEMM call is cut for the thread pool when its kernel computes output blocks of 32 × 32 (the AMX
 * kernels): every task takes a few blocks of columns, and the rows are cut into as few ranges as keep the threads
 * evenly busy. Cutting columns only, as {@link WorkSplit} does, leaves threads idle at many threads: 1152 columns
 * are 36 blocks, and 16 threads then run 3 blocks where 2.25 would do (0.75 of them busy); cutting the rows in 4
 * makes 144 tasks, 9 per thread. Tasks are handed out dynamically by {@link dev.viditq.core.parallel.Parallel}.
 *
 * <p>A task reads all activation rows of its range once per block of columns it computes, so its width follows
 * from where those rows live: when they fit in L2 ({@link #L2_ACTIVATION_BYTES}) one block (32 columns: 64
 * operations per byte from L2); otherwise {@link #WIDE_BLOCKS} blocks, which the kernel runs against each L2-sized
 * sweep of rows in turn, so the rows come from L3 once per 128 columns (256 operations per byte: an AMX core at
 * ~7 TOP/s then needs ~28 GB/s of L3, which it gets).
 */
record GridSplit(int rowRanges, int colUnits, int rows, int n, int rowUnit, int colUnit) implements TaskSplit {
    /**
     * The least fraction of the threads' time a split must keep busy before more row ranges stop being added.
     * -Dviditq.amx.minBalance for experiments: at 0.9, 1152 columns in wide tasks are 9 tasks, and on 2 threads one
     * thread runs the last alone; 0.95 makes 18 (docs/BENCHMARKS.md, "AMX host: oneDNN beside ours": not yet told
     * apart from the host's noise).
     */
    static final double MIN_BALANCE = Double.parseDouble(System.getProperty("viditq.amx.minBalance", "0.9"));
    /** Rows and columns of the kernels' output block. */
    static final int BLOCK = 32;
    /** Activation bytes of a task's rows that L2 holds beside the weights of its blocks. */
    static final long L2_ACTIVATION_BYTES = 1L << 20;
    /** Column blocks per task when the rows do not fit L2; -Dviditq.amx.wideBlocks for experiments. */
    static final int WIDE_BLOCKS = Integer.getInteger("viditq.amx.wideBlocks", 4);

    /** The split for {@code rows} activation rows of {@code rowBytes} bytes each against n columns of depth k. */
    static GridSplit blocks(int rows, int n, int k, long rowBytes, int threads) {
        int colUnit = rows * rowBytes <= L2_ACTIVATION_BYTES ? BLOCK : WIDE_BLOCKS * BLOCK;
        return of(rows, n, k, BLOCK, colUnit, threads);
    }

    static GridSplit of(int rows, int n, int k, int rowUnit, int colUnit, int threads) {
        int colUnits = Math.ceilDiv(n, colUnit), rowUnits = Math.ceilDiv(rows, rowUnit);
        if (threads == 1 || (long) rows * n * k < WorkSplit.MIN_PARALLEL_MACS) return new GridSplit(1, 1, rows, n, rowUnit, n);
        int ranges = 1;
        while (ranges < rowUnits && balance((long) ranges * colUnits, threads) < MIN_BALANCE) ranges++;
        return new GridSplit(ranges, colUnits, rows, n, rowUnit, colUnit);
    }

    /** The fraction of thread time busy when {@code tasks} equal tasks run on {@code threads} threads. */
    static double balance(long tasks, int threads) {
        return (double) tasks / ((long) Math.ceilDiv(tasks, threads) * threads);
    }

    @Override
    public int tasks() {
        return rowRanges * colUnits;
    }

    @Override
    public int colStart(int task) {
        return Math.min(n, task % colUnits * colUnit);
    }

    @Override
    public int colEnd(int task, int columns) {
        return Math.min(n, colStart(task) + colUnit);
    }

    /** Row ranges start on unit boundaries, spread as evenly as the units allow. */
    @Override
    public int rowStart(int task) {
        return boundary(task / colUnits);
    }

    @Override
    public int rowEnd(int task) {
        return boundary(task / colUnits + 1);
    }

    private int boundary(int range) {
        int units = Math.ceilDiv(rows, rowUnit);
        return Math.min(rows, (int) ((long) units * range / rowRanges) * rowUnit);
    }
}
