package dev.viditq.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The register tile every float matrix product runs on: 8 rows × 3 vectors of accumulators (24 registers, plus
 * 3 panel vectors and one broadcast: 28 of the 32 AVX-512 registers), {@code out += x · panel}.
 *
 * <p>Why it looks like this: C2 keeps Vector API values in registers only when every operation inlines into one
 * method of modest size and the element type is fixed, so the tile is written out by hand (no loops over
 * accumulators, no generic element type) and is never inlined into its callers. The x operand is a heap array
 * because scalar {@code MemorySegment} reads in this loop cost 3-4× the throughput (bounds and liveness checks
 * on every broadcast); the panel is a heap array packed by the caller as {@code panel[p·NR + column]}.
 * Generated once by a script, kept as plain source; the two variants differ only in where the tile lives.
 */
final class MicroKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Float lanes per vector. */
    static final int L = S.length();
    /** Rows of a tile. */
    static final int MR = 8;
    /** Columns of a tile (three vectors). */
    static final int NR = 3 * L;
    private static final long VBYTES = (long) L * Float.BYTES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private MicroKernel() {}

    /**
     * out[8 rows, NR cols] += x[8 rows, kc] · panel[kc, NR], writing into a native segment (row {@code r} of the
     * tile starts at byte {@code outOffset + r·outRowBytes}). Row {@code r}, step {@code p} of x is
     * {@code x[xOffset + r·xRow + p·xStep]}.
     */
    static void tileToSegment(float[] x, int xOffset, int xRow, int xStep, float[] panel, int kc,
            MemorySegment out, long outOffset, long outRowBytes) {
        long o0 = outOffset;
        long o1 = outOffset + 1 * outRowBytes;
        long o2 = outOffset + 2 * outRowBytes;
        long o3 = outOffset + 3 * outRowBytes;
        long o4 = outOffset + 4 * outRowBytes;
        long o5 = outOffset + 5 * outRowBytes;
        long o6 = outOffset + 6 * outRowBytes;
        long o7 = outOffset + 7 * outRowBytes;
        FloatVector c00 = FloatVector.fromMemorySegment(S, out, o0, LE), c01 = FloatVector.fromMemorySegment(S, out, o0 + 1 * VBYTES, LE), c02 = FloatVector.fromMemorySegment(S, out, o0 + 2 * VBYTES, LE);
        FloatVector c10 = FloatVector.fromMemorySegment(S, out, o1, LE), c11 = FloatVector.fromMemorySegment(S, out, o1 + 1 * VBYTES, LE), c12 = FloatVector.fromMemorySegment(S, out, o1 + 2 * VBYTES, LE);
        FloatVector c20 = FloatVector.fromMemorySegment(S, out, o2, LE), c21 = FloatVector.fromMemorySegment(S, out, o2 + 1 * VBYTES, LE), c22 = FloatVector.fromMemorySegment(S, out, o2 + 2 * VBYTES, LE);
        FloatVector c30 = FloatVector.fromMemorySegment(S, out, o3, LE), c31 = FloatVector.fromMemorySegment(S, out, o3 + 1 * VBYTES, LE), c32 = FloatVector.fromMemorySegment(S, out, o3 + 2 * VBYTES, LE);
        FloatVector c40 = FloatVector.fromMemorySegment(S, out, o4, LE), c41 = FloatVector.fromMemorySegment(S, out, o4 + 1 * VBYTES, LE), c42 = FloatVector.fromMemorySegment(S, out, o4 + 2 * VBYTES, LE);
        FloatVector c50 = FloatVector.fromMemorySegment(S, out, o5, LE), c51 = FloatVector.fromMemorySegment(S, out, o5 + 1 * VBYTES, LE), c52 = FloatVector.fromMemorySegment(S, out, o5 + 2 * VBYTES, LE);
        FloatVector c60 = FloatVector.fromMemorySegment(S, out, o6, LE), c61 = FloatVector.fromMemorySegment(S, out, o6 + 1 * VBYTES, LE), c62 = FloatVector.fromMemorySegment(S, out, o6 + 2 * VBYTES, LE);
        FloatVector c70 = FloatVector.fromMemorySegment(S, out, o7, LE), c71 = FloatVector.fromMemorySegment(S, out, o7 + 1 * VBYTES, LE), c72 = FloatVector.fromMemorySegment(S, out, o7 + 2 * VBYTES, LE);
        int x0 = xOffset;
        int x1 = xOffset + 1 * xRow;
        int x2 = xOffset + 2 * xRow;
        int x3 = xOffset + 3 * xRow;
        int x4 = xOffset + 4 * xRow;
        int x5 = xOffset + 5 * xRow;
        int x6 = xOffset + 6 * xRow;
        int x7 = xOffset + 7 * xRow;
        for (int p = 0; p < kc; p++) {
            int w = p * NR, xp = p * xStep;
            FloatVector b0 = FloatVector.fromArray(S, panel, w);
            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
            FloatVector b2 = FloatVector.fromArray(S, panel, w + 2 * L);
            FloatVector a;
            a = FloatVector.broadcast(S, x[x0 + xp]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01); c02 = b2.fma(a, c02);
            a = FloatVector.broadcast(S, x[x1 + xp]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11); c12 = b2.fma(a, c12);
            a = FloatVector.broadcast(S, x[x2 + xp]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21); c22 = b2.fma(a, c22);
            a = FloatVector.broadcast(S, x[x3 + xp]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31); c32 = b2.fma(a, c32);
            a = FloatVector.broadcast(S, x[x4 + xp]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41); c42 = b2.fma(a, c42);
            a = FloatVector.broadcast(S, x[x5 + xp]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51); c52 = b2.fma(a, c52);
            a = FloatVector.broadcast(S, x[x6 + xp]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61); c62 = b2.fma(a, c62);
            a = FloatVector.broadcast(S, x[x7 + xp]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71); c72 = b2.fma(a, c72);
        }
        c00.intoMemorySegment(out, o0, LE); c01.intoMemorySegment(out, o0 + 1 * VBYTES, LE); c02.intoMemorySegment(out, o0 + 2 * VBYTES, LE);
        c10.intoMemorySegment(out, o1, LE); c11.intoMemorySegment(out, o1 + 1 * VBYTES, LE); c12.intoMemorySegment(out, o1 + 2 * VBYTES, LE);
        c20.intoMemorySegment(out, o2, LE); c21.intoMemorySegment(out, o2 + 1 * VBYTES, LE); c22.intoMemorySegment(out, o2 + 2 * VBYTES, LE);
        c30.intoMemorySegment(out, o3, LE); c31.intoMemorySegment(out, o3 + 1 * VBYTES, LE); c32.intoMemorySegment(out, o3 + 2 * VBYTES, LE);
        c40.intoMemorySegment(out, o4, LE); c41.intoMemorySegment(out, o4 + 1 * VBYTES, LE); c42.intoMemorySegment(out, o4 + 2 * VBYTES, LE);
        c50.intoMemorySegment(out, o5, LE); c51.intoMemorySegment(out, o5 + 1 * VBYTES, LE); c52.intoMemorySegment(out, o5 + 2 * VBYTES, LE);
        c60.intoMemorySegment(out, o6, LE); c61.intoMemorySegment(out, o6 + 1 * VBYTES, LE); c62.intoMemorySegment(out, o6 + 2 * VBYTES, LE);
        c70.intoMemorySegment(out, o7, LE); c71.intoMemorySegment(out, o7 + 1 * VBYTES, LE); c72.intoMemorySegment(out, o7 + 2 * VBYTES, LE);
    }

    /** As {@link #tileToSegment}, accumulating into a heap array (row {@code r} starts at {@code outOffset + r·outRow}). */
    static void tileToArray(float[] x, int xOffset, int xRow, int xStep, float[] panel, int kc,
            float[] out, int outOffset, int outRow) {
        int o0 = outOffset;
        int o1 = outOffset + 1 * outRow;
        int o2 = outOffset + 2 * outRow;
        int o3 = outOffset + 3 * outRow;
        int o4 = outOffset + 4 * outRow;
        int o5 = outOffset + 5 * outRow;
        int o6 = outOffset + 6 * outRow;
        int o7 = outOffset + 7 * outRow;
        FloatVector c00 = FloatVector.fromArray(S, out, o0), c01 = FloatVector.fromArray(S, out, o0 + 1 * L), c02 = FloatVector.fromArray(S, out, o0 + 2 * L);
        FloatVector c10 = FloatVector.fromArray(S, out, o1), c11 = FloatVector.fromArray(S, out, o1 + 1 * L), c12 = FloatVector.fromArray(S, out, o1 + 2 * L);
        FloatVector c20 = FloatVector.fromArray(S, out, o2), c21 = FloatVector.fromArray(S, out, o2 + 1 * L), c22 = FloatVector.fromArray(S, out, o2 + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, out, o3), c31 = FloatVector.fromArray(S, out, o3 + 1 * L), c32 = FloatVector.fromArray(S, out, o3 + 2 * L);
        FloatVector c40 = FloatVector.fromArray(S, out, o4), c41 = FloatVector.fromArray(S, out, o4 + 1 * L), c42 = FloatVector.fromArray(S, out, o4 + 2 * L);
        FloatVector c50 = FloatVector.fromArray(S, out, o5), c51 = FloatVector.fromArray(S, out, o5 + 1 * L), c52 = FloatVector.fromArray(S, out, o5 + 2 * L);
        FloatVector c60 = FloatVector.fromArray(S, out, o6), c61 = FloatVector.fromArray(S, out, o6 + 1 * L), c62 = FloatVector.fromArray(S, out, o6 + 2 * L);
        FloatVector c70 = FloatVector.fromArray(S, out, o7), c71 = FloatVector.fromArray(S, out, o7 + 1 * L), c72 = FloatVector.fromArray(S, out, o7 + 2 * L);
        int x0 = xOffset;
        int x1 = xOffset + 1 * xRow;
        int x2 = xOffset + 2 * xRow;
        int x3 = xOffset + 3 * xRow;
        int x4 = xOffset + 4 * xRow;
        int x5 = xOffset + 5 * xRow;
        int x6 = xOffset + 6 * xRow;
        int x7 = xOffset + 7 * xRow;
        for (int p = 0; p < kc; p++) {
            int w = p * NR, xp = p * xStep;
            FloatVector b0 = FloatVector.fromArray(S, panel, w);
            FloatVector b1 = FloatVector.fromArray(S, panel, w + L);
            FloatVector b2 = FloatVector.fromArray(S, panel, w + 2 * L);
            FloatVector a;
            a = FloatVector.broadcast(S, x[x0 + xp]);
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01); c02 = b2.fma(a, c02);
            a = FloatVector.broadcast(S, x[x1 + xp]);
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11); c12 = b2.fma(a, c12);
            a = FloatVector.broadcast(S, x[x2 + xp]);
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21); c22 = b2.fma(a, c22);
            a = FloatVector.broadcast(S, x[x3 + xp]);
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31); c32 = b2.fma(a, c32);
            a = FloatVector.broadcast(S, x[x4 + xp]);
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41); c42 = b2.fma(a, c42);
            a = FloatVector.broadcast(S, x[x5 + xp]);
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51); c52 = b2.fma(a, c52);
            a = FloatVector.broadcast(S, x[x6 + xp]);
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61); c62 = b2.fma(a, c62);
            a = FloatVector.broadcast(S, x[x7 + xp]);
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71); c72 = b2.fma(a, c72);
        }
        c00.intoArray(out, o0); c01.intoArray(out, o0 + 1 * L); c02.intoArray(out, o0 + 2 * L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + 1 * L); c12.intoArray(out, o1 + 2 * L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + 1 * L); c22.intoArray(out, o2 + 2 * L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + 1 * L); c32.intoArray(out, o3 + 2 * L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + 1 * L); c42.intoArray(out, o4 + 2 * L);
        c50.intoArray(out, o5); c51.intoArray(out, o5 + 1 * L); c52.intoArray(out, o5 + 2 * L);
        c60.intoArray(out, o6); c61.intoArray(out, o6 + 1 * L); c62.intoArray(out, o6 + 2 * L);
        c70.intoArray(out, o7); c71.intoArray(out, o7 + 1 * L); c72.intoArray(out, o7 + 2 * L);
    }
}
