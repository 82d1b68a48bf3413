package dev.viditq.core.kernels.quant;

import dev.viditq.core.kernels.VectorWidth;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Pure Java integer kernels (Vector API), the fallback when the native library is missing. They read the same
 * packed layout as the C kernels and evaluate the same float operations in the same order, so their results
 * equal the native ones bit for bit. The Vector API has no integer dot product (no vpdpbusd / vpmaddwd), so
 * int8 here runs at about FP32 speed: each int lane holds the 4 bytes of one column and k-step, the bytes are
 * extracted with shifts and masks and multiplied in 32-bit lanes. Tiles: 2 rows × one vector of columns (with
 * 4 rows C2 stops inlining the vector helpers and boxes every vector: 15× slower).
 */
public final class JavaIntKernels implements IntKernels {
    private static final VectorSpecies<Integer> IS = VectorWidth.INTS;
    private static final VectorSpecies<Float> FS = VectorWidth.FLOATS;
    private static final int L = IS.length();
    /** Bytes of one int vector after narrowing (at least 64 bits: the smallest vector shape). */
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, 8 * L)));
    private static final VectorMask<Byte> BYTE_LANES = BS.indexInRange(0, L);
    private static final ValueLayout.OfInt I32 = Tensor.I32_LE;
    private static final ValueLayout.OfLong I64 = Tensor.I64_LE;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static {
        if (FS.length() != L || PackedLayout.NR % L != 0) {
            throw new IllegalStateException("vector shape " + IS + " does not fit the packed panels of " + PackedLayout.NR);
        }
    }

    @Override
    public String name() {
        return "java";
    }

    // ------------------------------------------------------------------ quantizer

    @Override
    public void quantize(MemorySegment x, int rows, int k, ActivationTransform t, QuantizedActivations out) {
        IntKernelChecks.quantize(x, rows, k, t, out);
        out.setRows(rows);
        int tasks = WorkSplit.quantizeTasks(rows, k);
        Parallel.forEach(tasks, i -> quantizeRows(x, (int) ((long) rows * i / tasks), (int) ((long) rows * (i + 1) / tasks), k, t, out));
    }

    private static void quantizeRows(MemorySegment x, int r0, int r1, int k, ActivationTransform t, QuantizedActivations out) {
        boolean identity = t == null || t.isIdentity();
        float[] xs = new float[k], row = new float[k];
        float[] tmp = identity ? null : new float[RotationMath.scratchFloats(t.hadamardBlock())];
        byte[] q = new byte[out.ldq()];
        float post = identity ? 1f : t.post();
        for (int r = r0; r < r1; r++) {
            MemorySegment.copy(x, Tensor.F32_LE, (long) r * k * Float.BYTES, xs, 0, k);
            float[] y = xs;
            if (!identity) {
                RotationMath.transform(xs, 0, k, t.diag(), t.hadamardBlock(), t.hadamardM(), t.hadamardBase(), row, tmp);
                y = row;
            }
            quantizeRow(y, k, post, q, out, r);
        }
    }

    /** 1.5 · 2^23: (v + R) − R rounds |v| < 2^22 to an integer, half to even, like Math.rint. */
    private static final float ROUND = 12582912f;

    private static void quantizeRow(float[] y, int k, float post, byte[] q, QuantizedActivations out, int r) {
        float amax = absMax(y, k);
        float inv = amax > 0f ? 127f / amax : 0f;
        IntVector sums = IntVector.zero(IS);
        int i = 0;
        for (; i + L <= k; i += L) {
            FloatVector v = FloatVector.fromArray(FS, y, i).mul(inv).add(ROUND).sub(ROUND).max(-127f).min(127f);
            IntVector qi = (IntVector) v.convert(VectorOperators.F2I, 0);
            sums = sums.add(qi);
            ((ByteVector) qi.convertShape(VectorOperators.I2B, BS, 0)).intoArray(q, i, BYTE_LANES);
        }
        int sum = sums.reduceLanes(VectorOperators.ADD);
        for (; i < k; i++) {
            int v = (int) Math.max(-127.0, Math.min(127.0, Math.rint(y[i] * inv)));
            q[i] = (byte) v;
            sum += v;
        }
        MemorySegment.copy(q, 0, out.qSegment(), ValueLayout.JAVA_BYTE, (long) r * out.ldq(), out.ldq());
        out.scaleSegment().setAtIndex(Tensor.F32_LE, r, amax * post / 127f);
        out.rowSumSegment().setAtIndex(I32, r, sum);
    }

    private static float absMax(float[] y, int k) {
        FloatVector m = FloatVector.zero(FS);
        int i = 0;
        for (; i + L <= k; i += L) m = m.max(FloatVector.fromArray(FS, y, i).abs());
        float amax = m.reduceLanes(VectorOperators.MAX);
        for (; i < k; i++) amax = Math.max(amax, Math.abs(y[i]));
        return amax;
    }

    // ------------------------------------------------------------------ GEMMs

    /** The operands of one GEMM call, resolved once. */
    private record Call(MemorySegment q, long ldq, MemorySegment sx, MemorySegment qsum, int groups,
                        MemorySegment w, int kpad, int npad, int groupSize, MemorySegment ws, MemorySegment wz,
                        MemorySegment bias, int n, MemorySegment out) {
        long panelBytes(boolean int4) {
            return (long) PackedLayout.NR * (int4 ? kpad / 2 : kpad);
        }
    }

    @Override
    public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        Call c = new Call(x.qSegment(), x.ldq(), x.scaleSegment(), x.rowSumSegment(), 1, w.packedSegment(), w.kpad(),
                w.npad(), w.k(), w.scaleSegment(), w.zeroSegment(), bias, w.n(), out);
        run(c, x.rows(), false);
    }

    @Override
    public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
        IntKernelChecks.gemm(x, w, bias, out);
        MemorySegment qsum = w.groups() == 1 ? x.rowSumSegment() : groupSums(x, w.groupSize(), w.groups());
        Call c = new Call(x.qSegment(), x.ldq(), x.scaleSegment(), qsum, w.groups(), w.packedSegment(), w.kpad(),
                w.npad(), w.groupSize(), w.scaleSegment(), w.zeroSegment(), bias, w.n(), out);
        run(c, x.rows(), true);
    }

    static MemorySegment groupSums(QuantizedActivations x, int groupSize, int groups) {
        MemorySegment sums = x.groupSumScratch(groups);
        for (int r = 0; r < x.rows(); r++) {
            long base = (long) r * x.ldq();
            for (int g = 0; g < groups; g++) {
                int s = 0;
                for (int i = g * groupSize; i < Math.min(x.k(), (g + 1) * groupSize); i++) {
                    s += x.qSegment().get(ValueLayout.JAVA_BYTE, base + i);
                }
                sums.setAtIndex(I32, (long) r * groups + g, s);
            }
        }
        return sums;
    }

    private static void run(Call c, int rows, boolean int4) {
        WorkSplit split = WorkSplit.of(rows, c.n, c.kpad);
        Parallel.forEach(split.tasks(), i -> {
            for (int col = split.colStart(i); col < split.colEnd(i, c.n); col += PackedLayout.NR) {
                for (int v = 0; v < PackedLayout.NR && col + v < c.n; v += L) {
                    columnBlock(c, split.rowStart(i), split.rowEnd(i), col + v, int4);
                }
            }
        });
    }

    /** Rows [r0, r1) against the L columns starting at col. */
    private static void columnBlock(Call c, int r0, int r1, int col, boolean int4) {
        long wBase = (long) (col / PackedLayout.NR) * c.panelBytes(int4) + 4L * (col % PackedLayout.NR);
        int r = r0;
        for (; r + 2 <= r1; r += 2) {
            if (int4) w4Tile2(c, r, col, wBase); else w8Tile2(c, r, col, wBase);
        }
        for (; r < r1; r++) {
            if (int4) w4Tile1(c, r, col, wBase); else w8Tile1(c, r, col, wBase);
        }
    }

    /** The 4 weights of one k-step of the int8 layout, byte j of each lane as an int. */
    private static IntVector byteOf(IntVector w, int j) {
        return j == 3 ? w.lanewise(VectorOperators.LSHR, 24) : w.lanewise(VectorOperators.LSHR, 8 * j).and(0xFF);
    }

    /** Σ_j u8(w, j) · x_j for the 4 activations packed little-endian in {@code x}. */
    private static IntVector dot4(IntVector acc, IntVector b0, IntVector b1, IntVector b2, IntVector b3, int x) {
        return acc.add(b0.mul((byte) x)).add(b1.mul((byte) (x >> 8))).add(b2.mul((byte) (x >> 16))).add(b3.mul(x >> 24));
    }

    private static void w8Tile2(Call c, int r, int col, long wBase) {
        IntVector a0 = IntVector.zero(IS), a1 = a0;
        long q0 = r * c.ldq, q1 = q0 + c.ldq;
        int steps = c.kpad / 4;
        for (int s = 0; s < steps; s++) {
            IntVector w = IntVector.fromMemorySegment(IS, c.w, wBase + (long) s * PackedLayout.STEP_BYTES, LE);
            IntVector b0 = byteOf(w, 0), b1 = byteOf(w, 1), b2 = byteOf(w, 2), b3 = byteOf(w, 3);
            long o = 4L * s;
            a0 = dot4(a0, b0, b1, b2, b3, c.q.get(I32, q0 + o));
            a1 = dot4(a1, b0, b1, b2, b3, c.q.get(I32, q1 + o));
        }
        store(c, r, col, perChannel(c, a0, r, col, 0));
        store(c, r + 1, col, perChannel(c, a1, r + 1, col, 0));
    }

    private static void w8Tile1(Call c, int r, int col, long wBase) {
        IntVector a0 = IntVector.zero(IS);
        long q0 = r * c.ldq;
        int steps = c.kpad / 4;
        for (int s = 0; s < steps; s++) {
            IntVector w = IntVector.fromMemorySegment(IS, c.w, wBase + (long) s * PackedLayout.STEP_BYTES, LE);
            a0 = dot4(a0, byteOf(w, 0), byteOf(w, 1), byteOf(w, 2), byteOf(w, 3), c.q.get(I32, q0 + 4L * s));
        }
        store(c, r, col, perChannel(c, a0, r, col, 0));
    }

    /** Low nibbles of the int4 layout (k = j of the step) and high nibbles (k = 4 + j). */
    private static IntVector nibble(IntVector w, int shift) {
        return shift == 28 ? w.lanewise(VectorOperators.LSHR, 28) : w.lanewise(VectorOperators.LSHR, shift).and(0x0F);
    }

    /** One int4 k-step: the 8 weights of each lane (n0..n3 low nibbles, n4..n7 high) times 8 activations in x. */
    private static IntVector dot8(IntVector acc, IntVector n0, IntVector n1, IntVector n2, IntVector n3, IntVector n4,
                                  IntVector n5, IntVector n6, IntVector n7, long x) {
        return dot4(dot4(acc, n0, n1, n2, n3, (int) x), n4, n5, n6, n7, (int) (x >>> 32));
    }

    private static void w4Tile2(Call c, int r, int col, long wBase) {
        FloatVector f0 = FloatVector.zero(FS), f1 = f0;
        long q0 = r * c.ldq, q1 = q0 + c.ldq;
        int steps = c.kpad / 8, groupSteps = c.groups == 1 ? steps : c.groupSize / 8;
        for (int g = 0; g < c.groups; g++) {
            IntVector a0 = IntVector.zero(IS), a1 = a0;
            for (int s = g * groupSteps; s < Math.min(steps, (g + 1) * groupSteps); s++) {
                IntVector w = IntVector.fromMemorySegment(IS, c.w, wBase + (long) s * PackedLayout.STEP_BYTES, LE);
                IntVector n0 = nibble(w, 0), n1 = nibble(w, 8), n2 = nibble(w, 16), n3 = nibble(w, 24);
                IntVector n4 = nibble(w, 4), n5 = nibble(w, 12), n6 = nibble(w, 20), n7 = nibble(w, 28);
                long o = 8L * s;
                a0 = dot8(a0, n0, n1, n2, n3, n4, n5, n6, n7, c.q.get(I64, q0 + o));
                a1 = dot8(a1, n0, n1, n2, n3, n4, n5, n6, n7, c.q.get(I64, q1 + o));
            }
            f0 = addGroup(c, f0, a0, r, col, g);
            f1 = addGroup(c, f1, a1, r + 1, col, g);
        }
        store(c, r, col, f0);
        store(c, r + 1, col, f1);
    }

    private static void w4Tile1(Call c, int r, int col, long wBase) {
        FloatVector f0 = FloatVector.zero(FS);
        long q0 = r * c.ldq;
        int steps = c.kpad / 8, groupSteps = c.groups == 1 ? steps : c.groupSize / 8;
        for (int g = 0; g < c.groups; g++) {
            IntVector a0 = IntVector.zero(IS);
            for (int s = g * groupSteps; s < Math.min(steps, (g + 1) * groupSteps); s++) {
                IntVector w = IntVector.fromMemorySegment(IS, c.w, wBase + (long) s * PackedLayout.STEP_BYTES, LE);
                IntVector n0 = nibble(w, 0), n1 = nibble(w, 8), n2 = nibble(w, 16), n3 = nibble(w, 24);
                IntVector n4 = nibble(w, 4), n5 = nibble(w, 12), n6 = nibble(w, 20), n7 = nibble(w, 28);
                a0 = dot8(a0, n0, n1, n2, n3, n4, n5, n6, n7, c.q.get(I64, q0 + 8L * s));
            }
            f0 = addGroup(c, f0, a0, r, col, g);
        }
        store(c, r, col, f0);
    }

    /** (float)(acc − wz·qsum) · ws of group g: the value itself for one group, else fused into f. */
    private static FloatVector addGroup(Call c, FloatVector f, IntVector acc, int r, int col, int g) {
        return c.groups == 1 ? perChannel(c, acc, r, col, 0) : perChannel(c, acc, r, col, g, f);
    }

    private static FloatVector perChannel(Call c, IntVector acc, int r, int col, int g) {
        long o = ((long) g * c.npad + col) * Integer.BYTES;
        IntVector wz = IntVector.fromMemorySegment(IS, c.wz, o, LE);
        FloatVector ws = FloatVector.fromMemorySegment(FS, c.ws, o, LE);
        IntVector t = acc.sub(wz.mul(c.qsum.getAtIndex(I32, (long) r * c.groups + g)));
        return ((FloatVector) t.convert(VectorOperators.I2F, 0)).mul(ws);
    }

    private static FloatVector perChannel(Call c, IntVector acc, int r, int col, int g, FloatVector f) {
        long o = ((long) g * c.npad + col) * Integer.BYTES;
        IntVector wz = IntVector.fromMemorySegment(IS, c.wz, o, LE);
        FloatVector ws = FloatVector.fromMemorySegment(FS, c.ws, o, LE);
        IntVector t = acc.sub(wz.mul(c.qsum.getAtIndex(I32, (long) r * c.groups + g)));
        return ((FloatVector) t.convert(VectorOperators.I2F, 0)).fma(ws, f);
    }

    /** out[r, col ..] = f · sx[r] + bias, for the columns below n. */
    private static void store(Call c, int r, int col, FloatVector f) {
        VectorMask<Float> m = FS.indexInRange(col, c.n);
        FloatVector o = f.mul(c.sx.getAtIndex(Tensor.F32_LE, r));
        if (c.bias != null) o = o.add(FloatVector.fromMemorySegment(FS, c.bias, (long) col * Float.BYTES, LE, m));
        o.intoMemorySegment(c.out, ((long) r * c.n + col) * Float.BYTES, LE, m);
    }
}
