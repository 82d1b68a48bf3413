package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * Per-channel row operations of the adaLN blocks (modulation x·(1 + scale) + shift, gate-and-residual
 * r += g ⊙ y) and the positional-embedding add (r += table[index(r)]) over rows of F32 activations: the first two
 * vectorised and split over the kernel threads, the add, run once per forward pass, a plain loop on the calling thread
 * (see addTableRows).
 * They were scalar segment loops on one thread in the model code: ~5% of a W8A8 PixArt-XL step in a JFR profile.
 * The vectors are per-channel [dim] arrays, applied to every row in [rowFrom, rowTo). Results equal the obvious
 * scalar loop exactly (one FMA per element: {@code fma(x, mul, add)} rounds once, as {@code Math.fma} does).
 */
public final class RowKernels {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Elements per task (56 rows at H = 1152): enough work to pay for handing out a task at few threads. */
    private static final int MIN_ELEMENTS_PER_TASK = 1 << 16;
    /** Tasks per thread that the split keeps at least, rows permitting (see forRowRanges). */
    private static final int TASKS_PER_THREAD = 2;

    static {
        JitDirectives.c2Only(RowKernels.class, "affineRow", "gatedAddRow");
    }

    private RowKernels() {}

    /** In place: x[r, c] = fma(x[r, c], mul[c], add[c]) for rows [rowFrom, rowTo) of width {@code dim}. */
    public static void affineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        affineRows(x, rowFrom, rowTo, Math.max(1, rowTo - rowFrom), dim, new float[][]{mul}, new float[][]{add});
    }

    /**
     * {@link #affineRows} for a batch in one pool call: sample s's rows [s·rowsPerSample, (s+1)·rowsPerSample) with
     * mul[s] and add[s].
     */
    public static void affineRowsPerSample(MemorySegment x, int rowsPerSample, int dim, float[][] mul, float[][] add) {
        affineRows(x, 0, Math.multiplyExact(mul.length, rowsPerSample), rowsPerSample, dim, mul, add);
    }

    /** Rows [rowFrom, rowTo), row r with the vectors of index (r - rowFrom) / rowsPerVector. */
    private static void affineRows(MemorySegment x, int rowFrom, int rowTo, int rowsPerVector, int dim, float[][] mul,
                                   float[][] add) {
        checkVectors(mul, dim, rowFrom, rowTo, rowsPerVector, "affineRows: mul");
        checkVectors(add, dim, rowFrom, rowTo, rowsPerVector, "affineRows: add");
        Gemm.need(x, (long) rowTo * dim, "affineRows rows [" + rowTo + ", " + dim + "]");
        forRowRanges(rowFrom, rowTo, dim, r -> {
            int v = (r - rowFrom) / rowsPerVector;
            affineRow(x, (long) r * dim * Float.BYTES, dim, mul[v], add[v]);
        });
    }

    /** In place: residual[r, c] = fma(gate[c], y[r, c], residual[r, c]) for rows [rowFrom, rowTo). */
    public static void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        gatedAddRows(residual, y, rowFrom, rowTo, Math.max(1, rowTo - rowFrom), dim, new float[][]{gate});
    }

    /** {@link #gatedAddRows} for a batch in one pool call: sample s's rows with gate[s] (as {@link #affineRowsPerSample}). */
    public static void gatedAddRowsPerSample(MemorySegment residual, MemorySegment y, int rowsPerSample, int dim, float[][] gate) {
        gatedAddRows(residual, y, 0, Math.multiplyExact(gate.length, rowsPerSample), rowsPerSample, dim, gate);
    }

    private static void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int rowsPerVector,
                                     int dim, float[][] gate) {
        checkVectors(gate, dim, rowFrom, rowTo, rowsPerVector, "gatedAddRows: gate");
        Gemm.need(residual, (long) rowTo * dim, "gatedAddRows rows [" + rowTo + ", " + dim + "]");
        Gemm.need(y, (long) rowTo * dim, "gatedAddRows rows [" + rowTo + ", " + dim + "]");
        forRowRanges(rowFrom, rowTo, dim, r -> gatedAddRow(residual, y, (long) r * dim * Float.BYTES, dim, gate[(r - rowFrom) / rowsPerVector]));
    }

    /** Enough vectors of width {@code dim} for rows [rowFrom, rowTo) at {@code rowsPerVector} rows each. */
    static void checkVectors(float[][] vectors, int dim, int rowFrom, int rowTo, int rowsPerVector, String what) {
        if (rowsPerVector < 1) throw new IllegalArgumentException(what + ": " + rowsPerVector + " rows per vector");
        long needed = rowTo <= rowFrom ? 0 : Math.ceilDiv((long) rowTo - rowFrom, rowsPerVector);
        if (vectors.length < needed) throw new IllegalArgumentException(what + ": " + vectors.length + " vectors for " + needed + " samples");
        for (float[] v : vectors) {
            if (v.length != dim) throw new IllegalArgumentException(what + ": vector of " + v.length + " for width " + dim);
        }
    }

    /** In place: x[r, c] += table[index[r] · dim + c] for every row r < index.length of width {@code dim}. */
    public static void addIndexedRows(MemorySegment x, int dim, float[] table, int[] index) {
        Gemm.need(x, (long) index.length * dim, "addIndexedRows rows [" + index.length + ", " + dim + "]");
        for (int i : index) {
            if (i < 0 || (long) (i + 1) * dim > table.length) {
                throw new IllegalArgumentException("addIndexedRows: table row " + i + " outside a table of " + table.length / Math.max(1, dim) + " rows");
            }
        }
        addTableRows(x, dim, table, index);
    }

    /**
     * The rows of {@link #addIndexedRows}, all in one call, on the calling thread. A plain loop, not the Vector
     * API: a model adds its positional table once per forward pass, too rarely for C2 to compile the method early, and a
     * C2-only Vector API loop ran interpreted until its on-stack compile, about the fourth step (3-8 ms a step on the
     * project machine); this loop gets C1 code within its first call (and C2's later). Until it is compiled it runs in
     * the interpreter, and there 16 threads at once took 8-29 ms a step over a benchmark's first four to six steps on
     * the AMX host (0.3 ms at 2 threads): so one thread, and an array loop between bulk copies rather than a segment
     * access per element, which on the Zen 4 at 2 threads took 0.4-0.6 ms a step over four steps where the
     * per-element loop on one thread took 8-9 (docs/BENCHMARKS.md, "AMX host: the pool's caller waits for tasks, not
     * helpers"). Float additions, so the same bits either way.
     */
    private static void addTableRows(MemorySegment x, int dim, float[] table, int[] index) {
        float[] sum = new float[dim];
        for (int r = 0; r < index.length; r++) {
            long base = (long) r * dim * Float.BYTES;
            int row = index[r] * dim;
            MemorySegment.copy(x, F32_LE, base, sum, 0, dim);
            for (int c = 0; c < dim; c++) sum[c] += table[row + c];
            MemorySegment.copy(sum, 0, x, F32_LE, base, dim);
        }
    }

    private static void affineRow(MemorySegment x, long base, int dim, float[] mul, float[] add) {
        int c = 0;
        for (; c <= dim - L; c += L) {
            long at = base + (long) c * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, at, LE).fma(FloatVector.fromArray(S, mul, c), FloatVector.fromArray(S, add, c))
                    .intoMemorySegment(x, at, LE);
        }
        if (c < dim) {
            VectorMask<Float> m = S.indexInRange(c, dim);
            long at = base + (long) c * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, at, LE, m).fma(FloatVector.fromArray(S, mul, c, m), FloatVector.fromArray(S, add, c, m))
                    .intoMemorySegment(x, at, LE, m);
        }
    }

    private static void gatedAddRow(MemorySegment r, MemorySegment y, long base, int dim, float[] gate) {
        int c = 0;
        for (; c <= dim - L; c += L) {
            long at = base + (long) c * Float.BYTES;
            FloatVector.fromArray(S, gate, c).fma(FloatVector.fromMemorySegment(S, y, at, LE), FloatVector.fromMemorySegment(S, r, at, LE))
                    .intoMemorySegment(r, at, LE);
        }
        if (c < dim) {
            VectorMask<Float> m = S.indexInRange(c, dim);
            long at = base + (long) c * Float.BYTES;
            FloatVector.fromArray(S, gate, c, m).fma(FloatVector.fromMemorySegment(S, y, at, LE, m), FloatVector.fromMemorySegment(S, r, at, LE, m))
                    .intoMemorySegment(r, at, LE, m);
        }
    }

    /**
     * Splits rows [from, to) into tasks of whole rows on the kernel threads: tasks of {@link #MIN_ELEMENTS_PER_TASK}
     * elements, or smaller ones where that leaves fewer than {@link #TASKS_PER_THREAD} per thread, so that at many
     * threads the faster ones take more (at 16 threads on the AMX host, 37 tasks instead of 10 took the gated add of a
     * PixArt-XL/2 step from 5-6 to 4 ms; docs/BENCHMARKS.md, "AMX host: the pool's caller waits for tasks, not helpers").
     */
    private static void forRowRanges(int from, int to, int dim, java.util.function.IntConsumer row) {
        int rows = to - from;
        if (rows <= 0) return;
        int perTask = Math.max(1, Math.min(MIN_ELEMENTS_PER_TASK / Math.max(1, dim), Math.ceilDiv(rows, TASKS_PER_THREAD * Parallel.threads())));
        int tasks = (rows + perTask - 1) / perTask;
        Parallel.forEach(tasks, t -> {
            for (int r = from + t * perTask, end = Math.min(to, r + perTask); r < end; r++) row.accept(r);
        });
    }

    /** The scalar oracle of {@link #affineRows} (tests). */
    static void affineRowsScalar(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int c = 0; c < dim; c++) {
                long i = (long) r * dim + c;
                x.setAtIndex(F32_LE, i, Math.fma(x.getAtIndex(F32_LE, i), mul[c], add[c]));
            }
        }
    }

    /** The scalar oracle of {@link #addIndexedRows} (tests). */
    static void addIndexedRowsScalar(MemorySegment x, int dim, float[] table, int[] index) {
        for (int r = 0; r < index.length; r++) {
            for (int c = 0; c < dim; c++) {
                long i = (long) r * dim + c;
                x.setAtIndex(F32_LE, i, x.getAtIndex(F32_LE, i) + table[index[r] * dim + c]);
            }
        }
    }

    /** The scalar oracle of {@link #gatedAddRows} (tests). */
    static void gatedAddRowsScalar(MemorySegment res, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        for (int r = rowFrom; r < rowTo; r++) {
            for (int c = 0; c < dim; c++) {
                long i = (long) r * dim + c;
                res.setAtIndex(F32_LE, i, Math.fma(gate[c], y.getAtIndex(F32_LE, i), res.getAtIndex(F32_LE, i)));
            }
        }
    }
}
