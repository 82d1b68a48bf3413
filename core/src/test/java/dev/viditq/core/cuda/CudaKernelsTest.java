package dev.viditq.core.cuda;

import dev.viditq.core.kernels.AttentionBias;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Precision;
import dev.viditq.core.kernels.ScalarKernels;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.kernels.quant.ScalarIntKernels;
import dev.viditq.core.tensor.ActivationPool;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.SplittableRandom;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU kernels against the scalar oracles, on odd sizes, with inputs both in host memory (staged) and in the
 * pool's managed memory (used in place). Skipped, with the reason printed, where no GPU is usable (CI).
 */
class CudaKernelsTest {
    private static final Kernels ORACLE = new ScalarKernels();
    private static Kernels fp32, bf16;
    private static IntKernels ints;

    @BeforeAll
    static void openGpu() {
        Optional<String> reason = Cuda.unavailableReason();
        reason.ifPresent(r -> System.out.println("CudaKernelsTest skipped: " + r));
        assumeTrue(reason.isEmpty(), () -> "no usable GPU: " + reason.get());
        Cuda.install();
        fp32 = KernelBackend.withPrecision(Precision.FP32, KernelBackend::get);
        bf16 = KernelBackend.withPrecision(Precision.BF16, KernelBackend::get);
        ints = IntKernelBackend.get();
    }

    @AfterAll
    static void close() {
        Cuda.uninstall();
    }

    /** Host memory (a plain arena: staged by the kernels) or pooled (managed while the GPU backend is installed). */
    private static MemorySegment random(SplittableRandom r, long count, boolean managed) {
        MemorySegment s = managed ? ActivationPool.allocate(count * 4, false) : Arena.ofAuto().allocate(Math.max(1, count) * 4, 64);
        for (long i = 0; i < count; i++) s.setAtIndex(F32_LE, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    private static MemorySegment zeros(long count, boolean managed) {
        return managed ? ActivationPool.allocate(Math.max(1, count) * 4, true) : Arena.ofAuto().allocate(Math.max(1, count) * 4, 64);
    }

    private static MemorySegment copy(MemorySegment s) {
        MemorySegment c = Arena.ofAuto().allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    /** |got − want| ≤ tol·(|want| + rms(want)) everywhere. */
    private static void close(MemorySegment want, MemorySegment got, long n, double tol, String what) {
        double rms = 0;
        for (long i = 0; i < n; i++) rms += Math.pow(want.getAtIndex(F32_LE, i), 2);
        rms = Math.sqrt(rms / Math.max(1, n));
        for (long i = 0; i < n; i++) {
            float w = want.getAtIndex(F32_LE, i), g = got.getAtIndex(F32_LE, i);
            if (!(Math.abs(g - w) <= tol * (Math.abs(w) + rms))) fail(what + ": element " + i + " is " + g + ", expected " + w);
        }
    }

    private static Tensor weight(SplittableRandom r, DType dtype, int n, int k) {
        Tensor t = Tensor.zeros(dtype, n, k);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (r.nextDouble() * 2 - 1));
        return t;
    }

    @Test
    void gemmMatchesTheOracle() {
        SplittableRandom r = new SplittableRandom(1);
        int[][] shapes = {{1, 1, 1}, {7, 37, 19}, {64, 96, 130}};
        for (int[] s : shapes) {
            for (DType dt : new DType[]{DType.F32, DType.BF16, DType.F16}) {
                for (boolean managed : new boolean[]{false, true}) {
                    int m = s[0], k = s[1], n = s[2];
                    MemorySegment x = random(r, (long) m * k, managed), bias = random(r, n, false);
                    Tensor w = weight(r, dt, n, k);
                    MemorySegment want = zeros((long) m * n, false), got = zeros((long) m * n, managed);
                    ORACLE.gemm(x, m, k, w, bias, want);
                    fp32.gemm(x, m, k, w, bias, got);
                    close(want, got, (long) m * n, 1e-5, "fp32 gemm " + m + "x" + k + "x" + n + " " + dt);
                    MemorySegment gotBf16 = zeros((long) m * n, managed);
                    bf16.gemm(x, m, k, w, null, gotBf16);
                    ORACLE.gemm(x, m, k, w, null, want);
                    close(want, gotBf16, (long) m * n, 3e-2, "bf16 gemm " + m + "x" + k + "x" + n + " " + dt);
                }
            }
        }
    }

    @Test
    void rowKernelsMatchTheOracle() {
        SplittableRandom r = new SplittableRandom(2);
        for (boolean managed : new boolean[]{false, true}) {
            int rows = 5, dim = 1155;
            long n = (long) rows * dim;
            MemorySegment x = random(r, n, managed), gamma = random(r, dim, false), beta = random(r, dim, false);
            MemorySegment want = zeros(n, false), got = zeros(n, managed);
            ORACLE.layerNorm(x, rows, dim, gamma, beta, 1e-6f, want);
            fp32.layerNorm(x, rows, dim, gamma, beta, 1e-6f, got);
            close(want, got, n, 1e-5, "layerNorm");
            ORACLE.rmsNorm(x, rows, dim, gamma, 1e-6f, want);
            MemorySegment inPlace = copy(x);
            fp32.rmsNorm(inPlace, rows, dim, gamma, 1e-6f, inPlace);
            close(want, inPlace, n, 1e-5, "rmsNorm in place");
            for (int kind = 0; kind < 3; kind++) {
                MemorySegment a = copy(x), b = managed ? ActivationPool.allocate(n * 4, false) : copy(x);
                b.copyFrom(x);
                switch (kind) {
                    case 0 -> { ORACLE.geluTanh(a, n); fp32.geluTanh(b, n); }
                    case 1 -> { ORACLE.geluErf(a, n); fp32.geluErf(b, n); }
                    default -> { ORACLE.silu(a, n); fp32.silu(b, n); }
                }
                close(a, b, n, 1e-5, "activation " + kind);
            }
            MemorySegment y = random(r, n, managed);
            ORACLE.add(x, y, want, n);
            fp32.add(x, y, got, n);
            close(want, got, n, 0, "add");
            ORACLE.mul(x, y, want, n);
            MemorySegment alias = copy(x);
            fp32.mul(alias, y, alias, n);
            close(want, alias, n, 0, "mul into its input");
            MemorySegment s1 = copy(x), s2 = copy(x);
            ORACLE.softmax(s1, rows, dim);
            fp32.softmax(s2, rows, dim);
            close(s1, s2, n, 1e-5, "softmax");
            float[] mul = new float[dim], add = new float[dim], gate = new float[dim];
            for (int c = 0; c < dim; c++) { mul[c] = (float) r.nextDouble(); add[c] = (float) r.nextDouble(); gate[c] = (float) r.nextDouble(); }
            MemorySegment a1 = copy(x), a2 = managed ? ActivationPool.allocate(n * 4, false) : copy(x);
            a2.copyFrom(x);
            ORACLE.affineRows(a1, 1, 4, dim, mul, add);
            fp32.affineRows(a2, 1, 4, dim, mul, add);
            close(a1, a2, n, 1e-6, "affineRows");
            ORACLE.gatedAddRows(a1, y, 2, 5, dim, gate);
            fp32.gatedAddRows(a2, y, 2, 5, dim, gate);
            close(a1, a2, n, 1e-6, "gatedAddRows");
            float[] table = new float[3 * dim];
            for (int i = 0; i < table.length; i++) table[i] = (float) r.nextDouble();
            int[] index = {2, 0, 1, 1, 2};
            ORACLE.addIndexedRows(a1, dim, table, index);
            fp32.addIndexedRows(a2, dim, table, index);
            fp32.addIndexedRows(a2, dim, table, index); // the second call reads the table's resident copy
            ORACLE.addIndexedRows(a1, dim, table, index);
            close(a1, a2, n, 1e-6, "addIndexedRows");
        }
    }

    @Test
    void attentionMatchesTheOracle() {
        SplittableRandom r = new SplittableRandom(3);
        int heads = 3, headDim = 24, width = heads * headDim, lq = 13, lk = 29;
        for (boolean managed : new boolean[]{false, true}) {
            for (int biasKind = 0; biasKind < 3; biasKind++) {
                // q, k, v read in place from a fused [tokens, 3·width] buffer, as a qkv projection leaves them
                int stride = 3 * width;
                MemorySegment qkv = random(r, (long) Math.max(lq, lk) * stride, managed);
                MemorySegment q = qkv, k = qkv.asSlice(width * 4L), v = qkv.asSlice(2L * width * 4);
                AttentionBias bias = AttentionBias.NONE;
                if (biasKind == 1) {
                    MemorySegment perKey = random(r, lk, false);
                    perKey.setAtIndex(F32_LE, 3, Float.NEGATIVE_INFINITY);
                    bias = AttentionBias.perKey(perKey);
                } else if (biasKind == 2) {
                    bias = AttentionBias.perHead(random(r, (long) heads * lq * lk, false));
                }
                int oStride = width + 5;
                MemorySegment want = zeros((long) lq * oStride, false), got = zeros((long) lq * oStride, managed),
                        gotBf16 = zeros((long) lq * oStride, managed);
                ORACLE.attention(q, stride, k, stride, v, stride, want, oStride, lq, lk, heads, headDim, 0.2f, bias);
                fp32.attention(q, stride, k, stride, v, stride, got, oStride, lq, lk, heads, headDim, 0.2f, bias);
                close(want, got, (long) lq * oStride, 1e-5, "fp32 attention, bias " + biasKind);
                bf16.attention(q, stride, k, stride, v, stride, gotBf16, oStride, lq, lk, heads, headDim, 0.2f, bias);
                close(want, gotBf16, (long) lq * oStride, 3e-2, "bf16 attention, bias " + biasKind);
            }
        }
    }

    @Test
    void quantizationMatchesTheOracle() {
        SplittableRandom r = new SplittableRandom(4);
        int rows = 9, k = 96;
        float[] smooth = new float[k];
        for (int i = 0; i < k; i++) smooth[i] = 0.5f + (float) r.nextDouble();
        for (ActivationTransform t : new ActivationTransform[]{null, ActivationTransform.of(k, smooth, null),
                ActivationTransform.of(k, smooth, HadamardRotation.randomized(k, 32, 7))}) {
            for (boolean managed : new boolean[]{false, true}) {
                MemorySegment x = random(r, (long) rows * k, managed);
                QuantizedActivations want = QuantizedActivations.allocate(rows, k), got = QuantizedActivations.allocate(rows, k);
                new ScalarIntKernels().quantize(x, rows, k, t, want);
                ints.quantize(x, rows, k, t, got);
                int offByOne = 0;
                for (int row = 0; row < rows; row++) {
                    assertEquals(want.scale(row), got.scale(row), 1e-6 * Math.abs(want.scale(row)), "scale of row " + row + " " + t);
                    int sum = 0;
                    for (int c = 0; c < k; c++) {
                        int d = Math.abs(want.q(row, c) - got.q(row, c));
                        assertTrue(d <= 1, "q[" + row + ", " + c + "] " + got.q(row, c) + " vs " + want.q(row, c) + " " + t);
                        offByOne += d;
                        sum += got.q(row, c);
                    }
                    assertEquals(sum, got.rowSum(row), "row sum " + row);
                }
                // only values within an FP32 rounding of a .5 boundary may round the other way
                assertTrue(offByOne <= 2, offByOne + " values rounded differently " + t);
            }
        }
    }

    @Test
    void w8a8GemmMatchesTheOracle() {
        SplittableRandom r = new SplittableRandom(5);
        for (int[] s : new int[][]{{1, 40, 13}, {33, 96, 70}}) {
            int m = s[0], k = s[1], n = s[2];
            byte[] q = new byte[n * k];
            float[] scales = new float[n];
            int[] zeros = new int[n];
            for (int i = 0; i < q.length; i++) q[i] = (byte) (r.nextInt(256) - 128);
            for (int c = 0; c < n; c++) { scales[c] = 0.01f + (float) r.nextDouble() * 0.02f; zeros[c] = r.nextInt(21) - 10; }
            for (int[] z : new int[][]{null, zeros}) {
                PackedInt8Weight w = PackedInt8Weight.pack(q, n, k, scales, z);
                MemorySegment x = random(r, (long) m * k, true), bias = random(r, n, false);
                QuantizedActivations qa = QuantizedActivations.allocate(m, k);
                ints.quantize(x, m, k, null, qa);
                MemorySegment want = zeros((long) m * n, false), got = zeros((long) m * n, true);
                new ScalarIntKernels().gemmW8A8(qa, w, bias, want);
                ints.gemmW8A8(qa, w, bias, got);
                close(want, got, (long) m * n, 1e-5, "w8a8 " + m + "x" + k + "x" + n + (z == null ? "" : " asymmetric"));
            }
        }
    }
}
