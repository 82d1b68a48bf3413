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
 * r += g ⊙ y) and the positional-embedding add (r += table[index(r)]) over rows of F32 activations, vectorised and
 * split over the kernel threads. They were scalar segment loops on one thread in the model code: ~5% of a W8A8
 * PixArt-XL step in a JFR profile.
 * The vectors are per-channel [dim] arrays, applied to every row in [rowFrom, rowTo). Results equal the obvious
 * scalar loop exactly (one FMA per element: {@code fma(x, mul, add)} rounds once, as {@code Math.fma} does).
 */
public final class RowKernels {
    private static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    private static final int L = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per task: enough work (~64 K elements at H = 1152) to pay for handing out a task. */
    private static final int MIN_ELEMENTS_PER_TASK = 1 << 16;

    static {
        JitDirectives.c2Only(RowKernels.class, "affineRow", "gatedAddRow", "addTableRows");
    }

    private RowKernels() {}

    /** In place: x[r, c] = fma(x[r, c], mul[c], add[c]) for rows [rowFrom, rowTo) of width {@code dim}. */
    public static void affineRows(MemorySegment x, int rowFrom, int rowTo, int dim, float[] mul, float[] add) {
        check(x, rowTo, dim, mul.length, "affineRows");
        if (add.length != dim) throw new IllegalArgumentException("affineRows: add of " + add.length + " for width " + dim);
        forRowRanges(rowFrom, rowTo, dim, r -> affineRow(x, (long) r * dim * Float.BYTES, dim, mul, add));
    }

    /** In place: residual[r, c] = fma(gate[c], y[r, c], residual[r, c]) for rows [rowFrom, rowTo). */
    public static void gatedAddRows(MemorySegment residual, MemorySegment y, int rowFrom, int rowTo, int dim, float[] gate) {
        check(residual, rowTo, dim, gate.length, "gatedAddRows");
        check(y, rowTo, dim, gate.length, "gatedAddRows");
        forRowRanges(rowFrom, rowTo, dim, r -> gatedAddRow(residual, y, (long) r * dim * Float.BYTES, dim, gate));
    }

    /** In place: x[r, c] += table[index[r] · dim + c] for every row r < index.length of width {@code dim}. */
    public static void addIndexedRows(MemorySegment x, int dim, float[] table, int[] index) {
        Gemm.need(x, (long) index.length * dim, "addIndexedRows rows [" + index.length + ", " + dim + "]");
        for (int i : index) {
            if (i < 0 || (long) (i + 1) * dim > table.length) {
                throw new IllegalArgumentException("addIndexedRows: table row " + i + " outside a table of " + table.length / Math.max(1, dim) + " rows");
            }
        }
        int rows = index.length, perTask = Math.max(1, MIN_ELEMENTS_PER_TASK / Math.max(1, dim));
        Parallel.forEach((rows + perTask - 1) / perTask, t -> addTableRows(x, dim, table, index, t * perTask, Math.min(rows, (t + 1) * perTask)));
    }

    /**
     * Rows [from, to) of {@link #addIndexedRows}, all in one call: a model adds its positional table once per forward
     * pass, so a per-row method would be called too rarely for C2 to take it early; this loop's back edges get it
     * compiled (on-stack) within the first call.
     */
    private static void addTableRows(MemorySegment x, int dim, float[] table, int[] index, int from, int to) {
        for (int r = from; r < to; r++) {
            long base = (long) r * dim * Float.BYTES;
            int row = index[r] * dim, c = 0;
            for (; c <= dim - L; c += L) {
                long at = base + (long) c * Float.BYTES;
                FloatVector.fromMemorySegment(S, x, at, LE).add(FloatVector.fromArray(S, table, row + c)).intoMemorySegment(x, at, LE);
            }
            if (c < dim) {
                VectorMask<Float> m = S.indexInRange(c, dim);
                long at = base + (long) c * Float.BYTES;
                FloatVector.fromMemorySegment(S, x, at, LE, m).add(FloatVector.fromArray(S, table, row + c, m))
                        .intoMemorySegment(x, at, LE, m);
            }
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

    private static void check(MemorySegment s, int rowTo, int dim, int vectorLength, String what) {
        if (vectorLength != dim) throw new IllegalArgumentException(what + ": vector of " + vectorLength + " for width " + dim);
        Gemm.need(s, (long) rowTo * dim, what + " rows [" + rowTo + ", " + dim + "]");
    }

    /** Splits rows [from, to) into tasks of whole rows on the kernel threads. */
    private static void forRowRanges(int from, int to, int dim, java.util.function.IntConsumer row) {
        int rows = to - from;
        if (rows <= 0) return;
        int perTask = Math.max(1, MIN_ELEMENTS_PER_TASK / Math.max(1, dim));
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
