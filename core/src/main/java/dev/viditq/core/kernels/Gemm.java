package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.viditq.core.kernels.MicroKernel.L;
import static dev.viditq.core.kernels.MicroKernel.MR;
import static dev.viditq.core.kernels.MicroKernel.NR;
import static dev.viditq.core.kernels.MicroKernel.S;
import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * out[m, n] = x[m, k] · w[n, k]ᵀ (+ bias) on {@link MicroKernel} tiles.
 *
 * <p>Blocking: rows of x are copied to a heap block (at most {@link #X_BLOCK_FLOATS}); the threads share it and
 * take the weight's output columns in panels of NR. For each panel and each slice of {@link #KC} along k, the
 * weight slice is widened and transposed into a panel that stays in L2 while every MR-row tile of the block
 * streams past it; the output tile is accumulated in place in {@code out}. Each weight element is therefore
 * widened once per x block, and x is read from L2/L3 at a few bytes per FMA.
 */
final class Gemm {
    /**
     * Depth of a packed panel (1152 × NR floats = 144 KiB, in L2). Measured on Zen 4 at M=1024, K=1152 (with the
     * former 8 × 48 tile):
     * 128 (an L1-sized panel) reached 0.75-0.80 of the FMA peak, 384 0.88-0.92, 1152 0.91-0.93. What a deep
     * panel saves is re-reading and re-writing the output tile once per slice: its rows are 4.6-18 KiB apart,
     * one page each, and those loads and stores cost more than streaming the panel from L2. Overridable with
     * -Dviditq.gemm.kc for experiments.
     */
    static final int KC = Integer.getInteger("viditq.gemm.kc", 1152);
    /** Most floats of x copied to the heap at once (16 MiB); larger inputs are done in row blocks. */
    static final int X_BLOCK_FLOATS = 4 << 20;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Gemm() {}

    static void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        gemm(x, m, k, w, bias, out, X_BLOCK_FLOATS, KC);
    }

    /**
     * As above with x copied in blocks of at most {@code blockFloats} and panels {@code kc} deep (tests use small
     * values to cross every block boundary).
     */
    static void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out, int blockFloats,
                     int kc) {
        int n = check(x, m, k, w, bias, out);
        if (m == 0 || n == 0) return;
        if (m < MR) {
            SmallGemm.gemm(x, m, k, w, bias, out);
            return;
        }
        int blockRows = Math.max(MR, blockFloats / Math.max(1, k) / MR * MR);
        for (int row0 = 0; row0 < m; row0 += blockRows) {
            int rows = Math.min(blockRows, m - row0);
            int padded = roundUp(rows, MR);
            float[] xa = Scratch.floats(Scratch.Slot.X, (long) padded * k);
            copyRows(x, row0, rows, k, xa);
            Arrays.fill(xa, rows * k, padded * k, 0f);
            multiplyBlock(xa, rows, k, w, bias, out, row0, kc);
        }
    }

    /**
     * xa[0, rows·k) = rows [row0, row0 + rows) of x, in chunks of 256 KiB over the threads: a block is up to 16 MiB
     * (9 MiB for PixArt-XL's fc2 at 512 tokens), and copied by the calling thread alone it kept the others waiting.
     */
    private static void copyRows(MemorySegment x, int row0, int rows, int k, float[] xa) {
        int chunk = Math.max(1, (1 << 16) / Math.max(1, k));
        Parallel.forEach(Math.ceilDiv(rows, chunk), c -> {
            int r0 = c * chunk, r1 = Math.min(rows, r0 + chunk);
            MemorySegment.copy(x, F32_LE, (long) (row0 + r0) * k * Float.BYTES, xa, r0 * k, (r1 - r0) * k);
        });
    }

    /** Returns n after checking every size, so a wrong call fails with a message instead of reading garbage. */
    static int check(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        WeightRows.checkFloatWeight(w, "gemm weight");
        if (w.rank() != 2 || w.dim(1) != k) throw new IllegalArgumentException("gemm weight " + w + " does not take k=" + k);
        int n = w.size(0);
        need(x, (long) m * k, "gemm input x [" + m + ", " + k + "]");
        need(out, (long) m * n, "gemm output [" + m + ", " + n + "]");
        if (bias != null) need(bias, n, "gemm bias [" + n + "]");
        return n;
    }

    static void need(MemorySegment s, long floats, String what) {
        if (s.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(what + " needs " + floats * Float.BYTES + " bytes, segment has " + s.byteSize());
        }
    }

    static int roundUp(int v, int multiple) {
        return (v + multiple - 1) / multiple * multiple;
    }

    /**
     * out rows [outRow0, outRow0 + rows) = xa · wᵀ + bias, where xa holds {@code rows} rows of k floats followed
     * by zero rows up to a multiple of MR. Threads take column panels; k is done in slices of {@code depth}.
     */
    static void multiplyBlock(float[] xa, int rows, int k, Tensor w, MemorySegment bias, MemorySegment out, long outRow0,
                              int depth) {
        int n = w.size(0);
        int panels = (n + NR - 1) / NR;
        Parallel.forEach(panels, jp -> panel(xa, rows, k, w, bias, out, outRow0, depth, jp));
    }

    private static void panel(float[] xa, int rows, int k, Tensor w, MemorySegment bias, MemorySegment out,
                              long outRow0, int depth, int jp) {
        int n = w.size(0), j0 = jp * NR, nr = Math.min(NR, n - j0);
        int padded = roundUp(rows, MR);
        // Tiles that fit the destination are accumulated there; the rest (last columns, last rows) in a strip.
        int directRows = nr == NR ? rows / MR * MR : 0;
        int stripRows = padded - directRows;
        long outRowBytes = (long) n * Float.BYTES;
        float[] packed = Scratch.floats(Scratch.Slot.PANEL, (long) Math.min(depth, k) * NR);
        float[] widened = Scratch.floats(Scratch.Slot.ROW, (long) Math.min(depth, k) * NR);
        float[] strip = stripRows > 0 ? Scratch.floats(Scratch.Slot.STRIP, (long) stripRows * NR) : null;

        initDirect(out, outRow0, directRows, n, j0, bias);
        if (strip != null) initStrip(strip, stripRows, nr, j0, bias);
        for (int p0 = 0; p0 < k; p0 += depth) {
            int kc = Math.min(depth, k - p0);
            WeightRows.packPanel(w, j0, nr, p0, kc, packed, widened);
            for (int i = 0; i < directRows; i += MR) {
                MicroKernel.tileToSegment(xa, i * k + p0, k, packed, kc,
                        out, ((outRow0 + i) * n + j0) * Float.BYTES, outRowBytes);
            }
            for (int i = directRows; i < padded; i += MR) {
                MicroKernel.tileToArray(xa, i * k + p0, k, packed, kc, strip, (i - directRows) * NR, NR);
            }
        }
        for (int r = 0; r < rows - directRows; r++) {
            MemorySegment.copy(strip, r * NR, out, F32_LE, ((outRow0 + directRows + r) * n + j0) * Float.BYTES, nr);
        }
    }

    /** Starts the full tiles of a panel (NR = 2 vectors wide) at the bias (or zero). */
    private static void initDirect(MemorySegment out, long outRow0, int rows, int n, int j0, MemorySegment bias) {
        if (rows == 0) return;
        FloatVector b0 = VectorMath.zeros(), b1 = b0;
        if (bias != null) {
            long at = (long) j0 * Float.BYTES;
            b0 = FloatVector.fromMemorySegment(S, bias, at, LE);
            b1 = FloatVector.fromMemorySegment(S, bias, at + (long) L * Float.BYTES, LE);
        }
        for (int r = 0; r < rows; r++) {
            long at = ((outRow0 + r) * n + j0) * Float.BYTES;
            b0.intoMemorySegment(out, at, LE);
            b1.intoMemorySegment(out, at + (long) L * Float.BYTES, LE);
        }
    }

    private static void initStrip(float[] strip, int rows, int nr, int j0, MemorySegment bias) {
        for (int c = 0; c < NR; c++) strip[c] = bias != null && c < nr ? bias.getAtIndex(F32_LE, j0 + c) : 0f;
        for (int r = 1; r < rows; r++) System.arraycopy(strip, 0, strip, r * NR, NR);
    }
}
