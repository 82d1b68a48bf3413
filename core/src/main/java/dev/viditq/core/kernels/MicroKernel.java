package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The register tile every float matrix product runs on: 12 rows × 2 vectors of accumulators (24 registers, plus
 * 2 panel vectors and one broadcast: 27 of the 32 AVX-512 registers), {@code out += x · panel}.
 *
 * <p>Why 12 × 2: measured on Zen 4 (1 thread, panel in L2, x streamed from L3, K = 1152), tiles of 8 × 3 reached
 * 0.87 of the FMA peak, 12 × 2 0.95, 14 × 2 0.98, 4 × 6 and 6 × 4 0.94 (a step of 8 × 3 is 3 panel loads and
 * 8 broadcasts for 24 FMAs; 12 × 2 is 2 loads and 12 broadcasts for 24). 12 rather than 14 rows: 12 divides
 * the attention head size 72 and the 120 caption tokens, where 14 would pad 72 dimensions to 84.
 *
 * <p>Why it looks like this: C2 keeps Vector API values in registers only when every operation inlines into one
 * method of modest size and the element type is fixed, so the tile is written out by hand (no loops over
 * accumulators, no generic element type) and is never inlined into its callers. The x operand is a heap array
 * because scalar {@code MemorySegment} reads in this loop cost 3-4× the throughput (bounds and liveness checks
 * on every broadcast); the panel is a heap array packed by the caller as {@code panel[p·NR + column]}.
 * Written by MicroKernelGenerator (core test sources; MicroKernelGeneratorTest fails when this file is not its
 * output): edit and rerun that, not this. The variants differ only in where the tile lives and in how x is laid
 * out. The vector width is {@link VectorWidth}'s (narrower than the CPU's under test).
 */
final class MicroKernel {
    static final VectorSpecies<Float> S = VectorWidth.FLOATS;
    /** Float lanes per vector. */
    static final int L = S.length();
    /** Rows of a tile. */
    static final int MR = 12;
    /** Columns of a tile (two vectors). */
    static final int NR = 2 * L;
    private static final long VBYTES = (long) L * Float.BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MicroKernel() {}

    /**
     * out[12 rows, NR cols] += x[12 rows, kc] · panel[kc, NR], writing into a native segment (row {@code r} of the
     * tile starts at byte {@code outOffset + r·outRowBytes}). Row {@code r}, step {@code p} of x is
     * {@code x[xOffset + r·xRow + p]}.
     */
    static void tileToSegment(float[] x, int xOffset, int xRow, float[] panel, int kc,
            MemorySegment out, long outOffset, long outRowBytes) {
        long o0 = outOffset;
        long o1 = outOffset + 1 * outRowBytes;
        long o2 = outOffset + 2 * outRowBytes;
        long o3 = outOffset + 3 * outRowBytes;
        long o4 = outOffset + 4 * outRowBytes;
        long o5 = outOffset + 5 * outRowBytes;
        long o6 = outOffset + 6 * outRowBytes;
        long o7 = outOffset + 7 * outRowBytes;
        long o8 = outOffset + 8 * outRowBytes;
        long o9 = outOffset + 9 * outRowBytes;
        long o10 = outOffset + 10 * outRowBytes;
        long o11 = outOffset + 11 * outRowBytes;
        FloatVector c00 = FloatVector.fromMemorySegment(S, out, o0, LE), c01 = FloatVector.fromMemorySegment(S, out, o0 + VBYTES, LE);
        FloatVector c10 = FloatVector.fromMemorySegment(S, out, o1, LE), c11 = FloatVector.fromMemorySegment(S, out, o1 + VBYTES, LE);
        FloatVector c20 = FloatVector.fromMemorySegment(S, out, o2, LE), c21 = FloatVector.fromMemorySegment(S, out, o2 + VBYTES, LE);
        FloatVector c30 = FloatVector.fromMemorySegment(S, out, o3, LE), c31 = FloatVector.fromMemorySegment(S, out, o3 + VBYTES, LE);
        FloatVector c40 = FloatVector.fromMemorySegment(S, out, o4, LE), c41 = FloatVector.fromMemorySegment(S, out, o4 + VBYTES, LE);
        FloatVector c50 = FloatVector.fromMemorySegment(S, out, o5, LE), c51 = FloatVector.fromMemorySegment(S, out, o5 + VBYTES, LE);
        FloatVector c60 = FloatVector.fromMemorySegment(S, out, o6, LE), c61 = FloatVector.fromMemorySegment(S, out, o6 + VBYTES, LE);
        FloatVector c70 = FloatVector.fromMemorySegment(S, out, o7, LE), c71 = FloatVector.fromMemorySegment(S, out, o7 + VBYTES, LE);
        FloatVector c80 = FloatVector.fromMemorySegment(S, out, o8, LE), c81 = FloatVector.fromMemorySegment(S, out, o8 + VBYTES, LE);
        FloatVector c90 = FloatVector.fromMemorySegment(S, out, o9, LE), c91 = FloatVector.fromMemorySegment(S, out, o9 + VBYTES, LE);
        FloatVector c100 = FloatVector.fromMemorySegment(S, out, o10, LE), c101 = FloatVector.fromMemorySegment(S, out, o10 + VBYTES, LE);
        FloatVector c110 = FloatVector.fromMemorySegment(S, out, o11, LE), c111 = FloatVector.fromMemorySegment(S, out, o11 + VBYTES, LE);
        int x0 = xOffset;
        int x1 = xOffset + 1 * xRow;
        int x2 = xOffset + 2 * xRow;
        int x3 = xOffset + 3 * xRow;
        int x4 = xOffset + 4 * xRow;
        int x5 = xOffset + 5 * xRow;
        int x6 = xOffset + 6 * xRow;
        int x7 = xOffset + 7 * xRow;
        int x8 = xOffset + 8 * xRow;
        int x9 = xOffset + 9 * xRow;
        int x10 = xOffset + 10 * xRow;
        int x11 = xOffset + 11 * xRow;
        for (int p = 0; p < kc; p++) {
            int w = p * NR;
            FloatVector b0 = FloatVector.fromArray(S, panel, w);
            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
            FloatVector a;
            a = FloatVector.broadcast(S, x[x0 + p]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, x[x1 + p]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, x[x2 + p]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, x[x3 + p]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, x[x4 + p]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, x[x5 + p]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(S, x[x6 + p]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(S, x[x7 + p]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(S, x[x8 + p]);
            c80 = b0.fma(a, c80); c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(S, x[x9 + p]);
            c90 = b0.fma(a, c90); c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(S, x[x10 + p]);
            c100 = b0.fma(a, c100); c101 = b1.fma(a, c101);
            a = FloatVector.broadcast(S, x[x11 + p]);
            c110 = b0.fma(a, c110); c111 = b1.fma(a, c111);
        }
        c00.intoMemorySegment(out, o0, LE); c01.intoMemorySegment(out, o0 + VBYTES, LE);
        c10.intoMemorySegment(out, o1, LE); c11.intoMemorySegment(out, o1 + VBYTES, LE);
        c20.intoMemorySegment(out, o2, LE); c21.intoMemorySegment(out, o2 + VBYTES, LE);
        c30.intoMemorySegment(out, o3, LE); c31.intoMemorySegment(out, o3 + VBYTES, LE);
        c40.intoMemorySegment(out, o4, LE); c41.intoMemorySegment(out, o4 + VBYTES, LE);
        c50.intoMemorySegment(out, o5, LE); c51.intoMemorySegment(out, o5 + VBYTES, LE);
        c60.intoMemorySegment(out, o6, LE); c61.intoMemorySegment(out, o6 + VBYTES, LE);
        c70.intoMemorySegment(out, o7, LE); c71.intoMemorySegment(out, o7 + VBYTES, LE);
        c80.intoMemorySegment(out, o8, LE); c81.intoMemorySegment(out, o8 + VBYTES, LE);
        c90.intoMemorySegment(out, o9, LE); c91.intoMemorySegment(out, o9 + VBYTES, LE);
        c100.intoMemorySegment(out, o10, LE); c101.intoMemorySegment(out, o10 + VBYTES, LE);
        c110.intoMemorySegment(out, o11, LE); c111.intoMemorySegment(out, o11 + VBYTES, LE);
    }

    /** As {@link #tileToSegment}, accumulating into a heap array (row {@code r} starts at {@code outOffset + r·outRow}). */
    static void tileToArray(float[] x, int xOffset, int xRow, float[] panel, int kc,
            float[] out, int outOffset, int outRow) {
        int o0 = outOffset;
        int o1 = outOffset + 1 * outRow;
        int o2 = outOffset + 2 * outRow;
        int o3 = outOffset + 3 * outRow;
        int o4 = outOffset + 4 * outRow;
        int o5 = outOffset + 5 * outRow;
        int o6 = outOffset + 6 * outRow;
        int o7 = outOffset + 7 * outRow;
        int o8 = outOffset + 8 * outRow;
        int o9 = outOffset + 9 * outRow;
        int o10 = outOffset + 10 * outRow;
        int o11 = outOffset + 11 * outRow;
        FloatVector c00 = FloatVector.fromArray(S, out, o0), c01 = FloatVector.fromArray(S, out, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, out, o1), c11 = FloatVector.fromArray(S, out, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, out, o2), c21 = FloatVector.fromArray(S, out, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, out, o3), c31 = FloatVector.fromArray(S, out, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, out, o4), c41 = FloatVector.fromArray(S, out, o4 + L);
        FloatVector c50 = FloatVector.fromArray(S, out, o5), c51 = FloatVector.fromArray(S, out, o5 + L);
        FloatVector c60 = FloatVector.fromArray(S, out, o6), c61 = FloatVector.fromArray(S, out, o6 + L);
        FloatVector c70 = FloatVector.fromArray(S, out, o7), c71 = FloatVector.fromArray(S, out, o7 + L);
        FloatVector c80 = FloatVector.fromArray(S, out, o8), c81 = FloatVector.fromArray(S, out, o8 + L);
        FloatVector c90 = FloatVector.fromArray(S, out, o9), c91 = FloatVector.fromArray(S, out, o9 + L);
        FloatVector c100 = FloatVector.fromArray(S, out, o10), c101 = FloatVector.fromArray(S, out, o10 + L);
        FloatVector c110 = FloatVector.fromArray(S, out, o11), c111 = FloatVector.fromArray(S, out, o11 + L);
        int x0 = xOffset;
        int x1 = xOffset + 1 * xRow;
        int x2 = xOffset + 2 * xRow;
        int x3 = xOffset + 3 * xRow;
        int x4 = xOffset + 4 * xRow;
        int x5 = xOffset + 5 * xRow;
        int x6 = xOffset + 6 * xRow;
        int x7 = xOffset + 7 * xRow;
        int x8 = xOffset + 8 * xRow;
        int x9 = xOffset + 9 * xRow;
        int x10 = xOffset + 10 * xRow;
        int x11 = xOffset + 11 * xRow;
        for (int p = 0; p < kc; p++) {
            int w = p * NR;
            FloatVector b0 = FloatVector.fromArray(S, panel, w);
            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
            FloatVector a;
            a = FloatVector.broadcast(S, x[x0 + p]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, x[x1 + p]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, x[x2 + p]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, x[x3 + p]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, x[x4 + p]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, x[x5 + p]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(S, x[x6 + p]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(S, x[x7 + p]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(S, x[x8 + p]);
            c80 = b0.fma(a, c80); c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(S, x[x9 + p]);
            c90 = b0.fma(a, c90); c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(S, x[x10 + p]);
            c100 = b0.fma(a, c100); c101 = b1.fma(a, c101);
            a = FloatVector.broadcast(S, x[x11 + p]);
            c110 = b0.fma(a, c110); c111 = b1.fma(a, c111);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L);
        c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
        c60.intoArray(out, o6); c61.intoArray(out, o6 + L);
        c70.intoArray(out, o7); c71.intoArray(out, o7 + L);
        c80.intoArray(out, o8); c81.intoArray(out, o8 + L);
        c90.intoArray(out, o9); c91.intoArray(out, o9 + L);
        c100.intoArray(out, o10); c101.intoArray(out, o10 + L);
        c110.intoArray(out, o11); c111.intoArray(out, o11 + L);
    }

    /**
     * As {@link #tileToArray} for x read down columns: row {@code r}, step {@code p} of x is
     * {@code x[xOffset + r + p·xStep]} (the rows of a tile are adjacent elements, e.g. dimensions of a stored
     * vector, the steps are vectors {@code xStep} apart). Separate from the contiguous kernels because a variable
     * step in their index costs them ~3% (measured).
     */
    static void tileToArrayDown(float[] x, int xOffset, int xStep, float[] panel, int kc,
            float[] out, int outOffset, int outRow) {
        int o0 = outOffset;
        int o1 = outOffset + 1 * outRow;
        int o2 = outOffset + 2 * outRow;
        int o3 = outOffset + 3 * outRow;
        int o4 = outOffset + 4 * outRow;
        int o5 = outOffset + 5 * outRow;
        int o6 = outOffset + 6 * outRow;
        int o7 = outOffset + 7 * outRow;
        int o8 = outOffset + 8 * outRow;
        int o9 = outOffset + 9 * outRow;
        int o10 = outOffset + 10 * outRow;
        int o11 = outOffset + 11 * outRow;
        FloatVector c00 = FloatVector.fromArray(S, out, o0), c01 = FloatVector.fromArray(S, out, o0 + L);
        FloatVector c10 = FloatVector.fromArray(S, out, o1), c11 = FloatVector.fromArray(S, out, o1 + L);
        FloatVector c20 = FloatVector.fromArray(S, out, o2), c21 = FloatVector.fromArray(S, out, o2 + L);
        FloatVector c30 = FloatVector.fromArray(S, out, o3), c31 = FloatVector.fromArray(S, out, o3 + L);
        FloatVector c40 = FloatVector.fromArray(S, out, o4), c41 = FloatVector.fromArray(S, out, o4 + L);
        FloatVector c50 = FloatVector.fromArray(S, out, o5), c51 = FloatVector.fromArray(S, out, o5 + L);
        FloatVector c60 = FloatVector.fromArray(S, out, o6), c61 = FloatVector.fromArray(S, out, o6 + L);
        FloatVector c70 = FloatVector.fromArray(S, out, o7), c71 = FloatVector.fromArray(S, out, o7 + L);
        FloatVector c80 = FloatVector.fromArray(S, out, o8), c81 = FloatVector.fromArray(S, out, o8 + L);
        FloatVector c90 = FloatVector.fromArray(S, out, o9), c91 = FloatVector.fromArray(S, out, o9 + L);
        FloatVector c100 = FloatVector.fromArray(S, out, o10), c101 = FloatVector.fromArray(S, out, o10 + L);
        FloatVector c110 = FloatVector.fromArray(S, out, o11), c111 = FloatVector.fromArray(S, out, o11 + L);
        for (int p = 0; p < kc; p++) {
            int w = p * NR, xp = xOffset + p * xStep;
            FloatVector b0 = FloatVector.fromArray(S, panel, w);
            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
            FloatVector a;
            a = FloatVector.broadcast(S, x[xp]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, x[xp + 1]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, x[xp + 2]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, x[xp + 3]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, x[xp + 4]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, x[xp + 5]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(S, x[xp + 6]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(S, x[xp + 7]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
            a = FloatVector.broadcast(S, x[xp + 8]);
            c80 = b0.fma(a, c80); c81 = b1.fma(a, c81);
            a = FloatVector.broadcast(S, x[xp + 9]);
            c90 = b0.fma(a, c90); c91 = b1.fma(a, c91);
            a = FloatVector.broadcast(S, x[xp + 10]);
            c100 = b0.fma(a, c100); c101 = b1.fma(a, c101);
            a = FloatVector.broadcast(S, x[xp + 11]);
            c110 = b0.fma(a, c110); c111 = b1.fma(a, c111);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L);
        c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
        c60.intoArray(out, o6); c61.intoArray(out, o6 + L);
        c70.intoArray(out, o7); c71.intoArray(out, o7 + L);
        c80.intoArray(out, o8); c81.intoArray(out, o8 + L);
        c90.intoArray(out, o9); c91.intoArray(out, o9 + L);
        c100.intoArray(out, o10); c101.intoArray(out, o10 + L);
        c110.intoArray(out, o11); c111.intoArray(out, o11 + L);
    }
}
