package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.viditq.core.kernels.quant.Hadamard;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.LowRankPath;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;

/**
 * The quantized linears of a quant-module checkpoint as ONNX Runtime's integer operators, on exactly the stored
 * integer weights:
 * <ul>
 *   <li>the activation transform first, in float: x ⊙ (balancing ⊙ signs), then each Hadamard block b = m·P as
 *       its Kronecker factors H_m ⊗ H_P, two small MatMuls (ours fuses all of this into the quantizer; a dense
 *       [b, b] MatMul would cost as much as the layer itself);</li>
 *   <li>8-bit weights: {@code com.microsoft.DynamicQuantizeMatMul} (int8 weights [K, N], per-column scales and zero
 *       points, bias) — activations quantized per tensor (uint8), ORT's only dynamic int8 MatMul, where ViDiT-Q and
 *       our kernels quantize per token;</li>
 *   <li>4-bit weights: {@code com.microsoft.MatMulNBits} (bits 4, accuracy_level 4: int8 activations per block of
 *       K), per-channel scales repeated over the blocks (exact), zero points packed as uint4 (+8);</li>
 *   <li>a low-rank branch (SVDQuant) beside either: two float MatMuls whose result is added to the quantized
 *       GEMM's output ({@link #lowRank}).</li>
 * </ul>
 * An ONNX graph is static: a layer whose bit width changes over the steps (mixed precision) is exported with the
 * precision it has at timestep 0, i.e. in the later steps; a layer in float there goes through {@link #FLOAT} on its
 * original float weight (as ours runs float steps: the branch belongs to the quantized residual only).
 */
final class QuantizedLinearEmitter implements LayerOps.LinearEmitter {
    /** The last step of a run: step 0 of 1 at model time 0. */
    private static final int LATE_STEP = 0;
    private static final double LATE_TIME = 0.0;

    private final Map<String, QuantizedLayer> layers;

    QuantizedLinearEmitter(QuantizedModel model) {
        this.layers = model.layers();
    }

    @Override
    public String emit(LayerOps ops, String x, String key) {
        QuantizedLayer layer = layers.get(key);
        if (layer == null) return FLOAT.emit(ops, x, key);
        Precision p = layer.plan().precisionAt(LATE_STEP, LATE_TIME);
        if (p.isFloat()) return FLOAT.emit(ops, x, key);
        QuantizedWeight w = layer.weights().get(p.weightBits());
        String transformed = transform(ops, x, layer, key);
        String bias = ops.file.contains(key + ".bias") ? ops.weight(key + ".bias") : null;
        String y = w.int4() ? int4(ops, transformed, w, key, bias) : int8(ops, transformed, w, key, bias);
        return layer.branch() == null ? y : ops.add(y, lowRank(ops, x, transformed, layer, p, key));
    }

    /**
     * L₁·(L₂·x) of the layer's low-rank branch, as two float MatMuls on the values our {@link LowRankPath} multiplies
     * at this precision: with 8-bit activations, the int8 rows of L₂·Q (dequantized) on the quantized GEMM's own
     * transformed input (x ⊙ m)·Q; with fewer activation bits, the BF16 values of L₂ ⊙ m on x as it arrives. The one
     * difference left is that ours feeds the 8-bit path the int8 activations, ORT the float ones (~0.4% of the
     * branch, well below the int4 error the branch corrects). The up-projection is L₁ as stored (BF16 values).
     */
    private static String lowRank(LayerOps ops, String x, String transformed, QuantizedLayer layer, Precision p, String key) {
        LowRankBranch branch = layer.branch();
        int n = branch.n(), k = branch.k(), rank = branch.rank();
        boolean quantizedInput = p.activationBits() == 8;
        float[] down = quantizedInput ? LowRankPath.int8Down(branch, layer.rotation()).dequantized()
                : LowRankPath.floatDown(branch, layer.plan().smooth());
        String low = ops.g.op("MatMul", quantizedInput ? transformed : x,
                ops.g.floats(key + ".low_rank.down_t", transposed(down, rank, k), k, rank));
        return ops.g.op("MatMul", low, ops.g.floats(key + ".low_rank.up_t", transposed(branch.l1(), n, rank), rank, n));
    }

    /** (x ⊙ smooth ⊙ signs) · blockdiag(H_b)·norm, as the weights were transformed offline. */
    private static String transform(LayerOps ops, String x, QuantizedLayer layer, String key) {
        int k = layer.plan().in();
        float[] smooth = layer.plan().smooth();
        HadamardRotation rotation = layer.rotation();
        if (smooth == null && rotation == null) return x;
        float[] diag = new float[k];
        for (int i = 0; i < k; i++) {
            diag[i] = (smooth == null ? 1f : smooth[i]) * (rotation == null ? 1f : rotation.sign(i));
        }
        String y = ops.mul(x, ops.g.floats(key + ".act_diag", diag, k));
        if (rotation == null) return y;
        // a Hadamard block of b = m·P is H_m ⊗ H_P (Hadamard.dense): over x viewed as [..., K/b, m, P],
        // y = H_mᵀ · (x · H_P·norm) — two small MatMuls instead of a dense [b, b] one
        Hadamard.Order order = rotation.order();
        int b = order.n(), m = order.m(), pw = order.p();
        String view = ops.reshape(y, 0, 0, k / b, m, pw);
        String rows = ops.g.op("MatMul", view, ops.g.floats(key + ".act_sylvester", sylvester(pw, rotation.normalization()), pw, pw));
        if (m > 1) rows = ops.g.op("MatMul", ops.g.floats(key + ".act_hadamard_m", transposed(Hadamard.baseMatrix(m), m), m, m), rows);
        return ops.reshape(rows, 0, 0, k);
    }

    /** The Sylvester Hadamard matrix of order n (a power of two), entries ±scale: (-1)^popcount(i & j). */
    static float[] sylvester(int n, float scale) {
        float[] h = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) h[i * n + j] = (Integer.bitCount(i & j) % 2 == 0 ? 1 : -1) * scale;
        return h;
    }

    private static float[] transposed(float[] a, int n) {
        return transposed(a, n, n);
    }

    /** Row-major a [rows, cols] as row-major [cols, rows]. */
    private static float[] transposed(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    private static String int8(LayerOps ops, String x, QuantizedWeight w, String key, String bias) {
        int n = w.n(), k = w.k();
        ByteBuffer bt = ByteBuffer.allocate(k * n);
        byte[] q = w.rowMajor();
        for (int o = 0; o < n; o++) for (int i = 0; i < k; i++) bt.put(i * n + o, q[o * k + i]);
        String b = ops.g.initializer(key + ".w8_t", DataType.INT8, new long[]{k, n}, bt);
        String scale = ops.g.floats(key + ".w8_scale", w.scales(), n);
        ByteBuffer z = ByteBuffer.allocate(n);
        if (w.zeros() != null) z.put(w.zeros()).flip();
        String zero = ops.g.initializer(key + ".w8_zero", DataType.INT8, new long[]{n}, z);
        List<String> inputs = bias == null ? List.of(x, b, scale, zero) : List.of(x, b, scale, zero, bias);
        return ops.g.opN("DynamicQuantizeMatMul", OnnxGraph.MICROSOFT, inputs, 1, Map.of())[0];
    }

    private static String int4(LayerOps ops, String x, QuantizedWeight w, String key, String bias) {
        int n = w.n(), k = w.k();
        int block = blockSize(w);
        int blocks = Math.ceilDiv(k, block);
        // per-channel scales (one group) are repeated over every block: exact
        float[] scales = new float[n * blocks];
        byte[] zeros = new byte[n * blocks];
        for (int o = 0; o < n; o++) {
            for (int bi = 0; bi < blocks; bi++) {
                int g = w.groupSize() == k ? 0 : bi;
                int groups = w.groups();
                scales[o * blocks + bi] = w.scales()[o * groups + g];
                zeros[o * blocks + bi] = w.zeros() == null ? 0 : w.zeros()[o * groups + g];
            }
        }
        ByteBuffer packed = ByteBuffer.allocate(n * blocks * block / 2);
        byte[] q = w.rowMajor();
        for (int o = 0; o < n; o++) {
            for (int c = 0; c < blocks * block; c += 2) {
                int lo = unsigned(q, k, o, c, zeros[o * blocks + c / block]);
                int hi = unsigned(q, k, o, c + 1, zeros[o * blocks + (c + 1) / block]);
                packed.put((o * blocks * block + c) / 2, (byte) (lo | (hi << 4)));
            }
        }
        String b = ops.g.initializer(key + ".w4", DataType.UINT8, new long[]{n, blocks, block / 2}, packed);
        String s = ops.g.floats(key + ".w4_scale", scales, (long) n * blocks);
        int zeroBytesPerRow = Math.ceilDiv(blocks, 2);
        ByteBuffer zp = ByteBuffer.allocate(n * zeroBytesPerRow);
        for (int o = 0; o < n; o++) {
            for (int bi = 0; bi < blocks; bi++) {
                int u = zeros[o * blocks + bi] + 8;
                int at = o * zeroBytesPerRow + bi / 2;
                zp.put(at, (byte) (zp.get(at) | (bi % 2 == 0 ? u : u << 4)));
            }
        }
        String z = ops.g.initializer(key + ".w4_zero", DataType.UINT8, new long[]{(long) n * zeroBytesPerRow}, zp);
        String y = ops.g.opN("MatMulNBits", OnnxGraph.MICROSOFT, List.of(x, b, s, z), 1,
                Map.of("K", (long) k, "N", (long) n, "bits", 4L, "block_size", (long) block, "accuracy_level", 4L))[0];
        return bias == null ? y : ops.add(y, bias);
    }

    /** q + 8 of weight (o, c) of row-major q [n, k]; past the end of a row (padding of the last block) the zero point's value, i.e. 0. */
    private static int unsigned(byte[] q, int k, int o, int c, byte zero) {
        int v = c < k ? q[o * k + c] : zero;
        return v + 8;
    }

    /**
     * MatMulNBits needs a power-of-two block of at least 16: the group size when it is one, else (per-channel
     * scales) the largest such divisor of K up to 128, else 128 with a padded last block.
     */
    static int blockSize(QuantizedWeight w) {
        int g = w.groupSize();
        if (g < w.k()) {
            if (g >= 16 && Integer.bitCount(g) == 1) return g;
            throw new IllegalArgumentException("int4 groups of " + g + " have no MatMulNBits form (a power of two >= 16 is needed)");
        }
        for (int b = 128; b >= 16; b /= 2) if (w.k() % b == 0) return b;
        return 128;
    }
}
