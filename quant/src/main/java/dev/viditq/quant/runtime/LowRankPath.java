package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A layer's low-rank branch as it runs beside the integer (or simulated) GEMM: out += L₁·(L₂·x), a rank-r
 * down-projection and an up-projection added to the layer's output. The down-projection reads the activation the
 * layer has already prepared, so x is not read, balanced or rotated a second time:
 * <ul>
 *   <li>on steps with 8-bit activations, the quantized activations the integer GEMM multiplies (x' = (x ⊙ m)·Q,
 *       per-token int8): an int8 GEMM with L₂·Q (the stored factor taken to the rotated basis, one int8 scale per
 *       row, symmetric) — 8-bit activations and an 8-bit factor cost the branch ~0.5% of its own magnitude, far
 *       below the int4 weight's error it corrects. The simulated path multiplies the same dequantized values.</li>
 *   <li>on steps with fewer activation bits (A4, A6), where quantized activations would take SVDQuant's point away
 *       (the branch is there to carry what low-bit activations lose), the float input as it arrives, with
 *       L₂ ⊙ m (m multiplied in here, once, unless the model already applies it: folded balancing).</li>
 * </ul>
 * The up-projection is a float GEMM with L₁ (BF16, as stored) into a scratch buffer, added to the output.
 */
public final class LowRankPath {
    private final int n, k, rank;
    private final Tensor up;                 // [n, rank] BF16
    private final PackedInt8Weight downInt8; // L₂·Q [rank, k], int8 per row; null unless some step has A8
    private final Tensor downDequantized;    // the same values in F32, for the simulated path; null on the integer path
    private final Tensor downFloat;          // L₂ ⊙ m [rank, k] BF16; null unless some step has fewer activation bits

    /**
     * @param smooth       the balancing vector the input has not had yet (null when folded or absent)
     * @param rotation     the layer's rotation (null when it has none)
     * @param quantizedIn  some step runs with 8-bit activations (the int8 down-projection is needed)
     * @param floatIn      some step runs with fewer activation bits (the float down-projection is needed)
     * @param simulated    the layer runs simulated in float (no packed int8 factor, its dequantized values instead)
     */
    public LowRankPath(LowRankBranch branch, float[] smooth, HadamardRotation rotation, boolean quantizedIn, boolean floatIn,
                       boolean simulated) {
        this.n = branch.n();
        this.k = branch.k();
        this.rank = branch.rank();
        this.up = Tensor.of(branch.l1(), n, rank).to(DType.BF16);
        PackedInt8Weight packed = null;
        Tensor dequantized = null;
        if (quantizedIn) {
            Int8Rows down = int8Down(branch, rotation);
            if (simulated) dequantized = Tensor.of(down.dequantized(), rank, k);
            else packed = PackedInt8Weight.pack(down.values(), rank, k, down.scales(), null);
        }
        this.downInt8 = packed;
        this.downDequantized = dequantized;
        this.downFloat = floatIn ? Tensor.of(floatDown(branch, smooth), rank, k).to(DType.BF16) : null;
    }

    /**
     * Rows of int8 values, one symmetric scale per row.
     *
     * @param values [rows, cols] row-major
     */
    public record Int8Rows(int rows, int cols, byte[] values, float[] scales) {
        /** scale · value, the values the int8 GEMM multiplies, [rows, cols] row-major. */
        public float[] dequantized() {
            float[] out = new float[rows * cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = scales[r] * values[r * cols + c];
            return out;
        }
    }

    /**
     * The down-projection of steps with 8-bit activations: L₂·Q [rank, k] (L₂ taken to the rotated basis the quantized
     * activations live in; L₂ itself without a rotation), rounded to int8 per row, symmetric (absmax / 127).
     */
    public static Int8Rows int8Down(LowRankBranch branch, HadamardRotation rotation) {
        int rank = branch.rank(), k = branch.k();
        float[] rotated = branch.l2().clone();
        if (rotation != null) rotation.rotateRows(rotated, rank);
        byte[] q = new byte[rank * k];
        float[] scales = new float[rank];
        for (int c = 0; c < rank; c++) {
            float absmax = 0;
            for (int j = 0; j < k; j++) absmax = Math.max(absmax, Math.abs(rotated[c * k + j]));
            float s = absmax / 127f;
            scales[c] = s;
            for (int j = 0; j < k; j++) q[c * k + j] = s == 0 ? 0 : (byte) Math.clamp(Math.rint(rotated[c * k + j] / s), -127, 127);
        }
        return new Int8Rows(rank, k, q, scales);
    }

    /**
     * The down-projection of steps with fewer activation bits, which reads the float input as it arrives: L₂ ⊙ m
     * [rank, k] (m the balancing the input has not had yet, null for none), every value rounded to BF16.
     */
    public static float[] floatDown(LowRankBranch branch, float[] smooth) {
        int rank = branch.rank(), k = branch.k();
        float[] d = branch.l2().clone();
        for (int c = 0; c < rank; c++) {
            for (int j = 0; j < k; j++) {
                float v = smooth == null ? d[c * k + j] : d[c * k + j] * smooth[j];
                d[c * k + j] = Tensor.bf16ToFloat(Tensor.floatToBf16(v));
            }
        }
        return d;
    }

    public long residentBytes() {
        return up.byteSize() + (downInt8 == null ? 0 : downInt8.byteSize())
                + (downDequantized == null ? 0 : downDequantized.byteSize()) + (downFloat == null ? 0 : downFloat.byteSize());
    }

    /** out[rows, n] += L₁·(L₂·x) from the layer's 8-bit quantized activations (integer path). */
    public void addFromQuantized(QuantizedActivations q, int rows, MemorySegment out) {
        if (downInt8 == null) throw new IllegalStateException("no int8 down-projection: the plan has no 8-bit activation step");
        Buffers b = buffers(rows);
        IntKernelBackend.get().gemmW8A8(q, downInt8, null, b.low);
        addUp(b, rows, out);
    }

    /** out[rows, n] += L₁·(L₂·x) from the dequantized 8-bit activations x' [rows, k] (simulated path). */
    public void addFromDequantized(MemorySegment xq, int rows, MemorySegment out) {
        if (downDequantized == null) throw new IllegalStateException("no simulated int8 down-projection");
        Buffers b = buffers(rows);
        KernelBackend.get().gemm(xq, rows, k, downDequantized, null, b.low);
        addUp(b, rows, out);
    }

    /** out[rows, n] += L₁·(L₂·(x ⊙ m)) from the layer's float input x [rows, k] (steps with fewer activation bits). */
    public void addFromInput(MemorySegment x, int rows, MemorySegment out) {
        if (downFloat == null) throw new IllegalStateException("no float down-projection: the plan has only 8-bit activation steps");
        Buffers b = buffers(rows);
        KernelBackend.get().gemm(x, rows, k, downFloat, null, b.low);
        addUp(b, rows, out);
    }

    private void addUp(Buffers b, int rows, MemorySegment out) {
        Kernels kernels = KernelBackend.get();
        kernels.gemm(b.low, rows, rank, up, null, b.high);
        kernels.add(out, b.high, out, (long) rows * n);
    }

    /** Scratch for one call, shared by the layers of a thread with the same (rank, n): it lives only inside a call. */
    private Buffers buffers(int rows) {
        Map<Long, Buffers> byShape = SCRATCH.get();
        long key = ((long) rank << 32) | n;
        Buffers b = byShape.get(key);
        if (b == null || b.rows < rows) {
            b = new Buffers(Math.max(rows, 16), rank, n);
            byShape.put(key, b);
        }
        return b;
    }

    private static final class Buffers {
        final int rows;
        final MemorySegment low, high;

        Buffers(int rows, int rank, int n) {
            this.rows = rows;
            // per-thread buffers kept across calls: no scope may take them back
            this.low = ActivationPool.unscoped(() -> Tensor.zeros(DType.F32, rows, rank).data());
            this.high = ActivationPool.unscoped(() -> Tensor.zeros(DType.F32, rows, n).data());
        }
    }

    private static final ThreadLocal<Map<Long, Buffers>> SCRATCH = ThreadLocal.withInitial(HashMap::new);
}
