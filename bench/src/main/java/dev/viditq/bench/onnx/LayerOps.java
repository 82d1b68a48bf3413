package dev.viditq.bench.onnx;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * The layers of a diffusion transformer as ONNX nodes, reading weights from the checkpoint by key. Activations are
 * FP32 [batch, tokens, width] (3-D, batch symbolic); weights are converted to FP32 once, at export. Weight linears
 * go through {@link LinearEmitter}, the seam where quantized exports (integer MatMuls) plug in.
 */
final class LayerOps {
    final OnnxGraph g;
    final TensorFile file;
    private final LinearEmitter linears;
    /** Names of the constants shared by many nodes (ones, zeros, frequency tables), each added once. */
    private final java.util.Set<String> shared = new java.util.HashSet<>();

    LayerOps(OnnxGraph g, TensorFile file, LinearEmitter linears) {
        this.g = g;
        this.file = file;
        this.linears = linears;
    }

    // ---- weights

    /** The checkpoint tensor as an FP32 initializer of the same shape (named by its key). */
    String weight(String key) {
        Tensor t = file.get(key);
        return g.initializer(key, TensorProto.DataType.FLOAT, t.shape(), toFloatBytes(t));
    }

    /** The checkpoint tensor reshaped to {@code dims}, FP32. */
    String weight(String key, long... dims) {
        Tensor t = file.get(key);
        return g.initializer(key, TensorProto.DataType.FLOAT, dims, toFloatBytes(t));
    }

    static ByteBuffer toFloatBytes(Tensor t) {
        long n = t.numel();
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer f = b.asFloatBuffer();
        for (long i = 0; i < n; i++) f.put(t.getFloat(i));
        return b;
    }

    /** {@code key}.weight [out, in] (+ .bias) applied to the last dimension of x. */
    String linear(String x, String key) {
        return linears.emit(this, x, key);
    }

    // ---- elementwise and normalisation

    String add(String a, String b) { return g.op("Add", a, b); }

    String mul(String a, String b) { return g.op("Mul", a, b); }

    String silu(String x) {
        return mul(x, g.op("Sigmoid", x));
    }

    /** GELU, tanh approximation (opset 20 Gelu). */
    String geluTanh(String x) {
        return g.op("Gelu", List.of(x), Map.of("approximate", "tanh"));
    }

    /** LayerNorm over the last dimension without affine parameters (scale ones, bias zeros). */
    String layerNorm(String x, int width, float eps) {
        String ones = "const/ones_" + width, zeros = "const/zeros_" + width;
        if (shared.add(ones)) {
            g.floats(ones, filled(width, 1f), width);
            g.floats(zeros, filled(width, 0f), width);
        }
        return g.op("LayerNormalization", List.of(x, ones, zeros), Map.of("axis", -1L, "epsilon", eps));
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** x·(1 + scale) + shift, with shift/scale [B, 1, H] broadcast over tokens. */
    String modulate(String x, String shift, String scale) {
        return add(mul(x, add(scale, one())), shift);
    }

    String one() {
        if (shared.add("one")) g.floats("const/one", new float[]{1f}, 1);
        return "const/one";
    }

    String reshape(String x, long... shape) {
        return g.op("Reshape", x, g.shape(shape));
    }

    String transpose(String x, long... perm) {
        return g.op("Transpose", List.of(x), Map.of("perm", perm));
    }

    /** Splits {@code x} along {@code axis} into {@code parts} equal pieces. */
    String[] split(String x, int axis, int parts) {
        return g.opN("Split", "", List.of(x), parts, Map.of("axis", (long) axis, "num_outputs", (long) parts));
    }

    String unsqueeze(String x, long axis) {
        return g.op("Unsqueeze", x, g.shape(axis));
    }

    // ---- attention

    /**
     * Multi-head attention of q [S, Lq, H] to k, v [S, Lk, H] (S independent sequences), scale headDim^-0.5,
     * optional additive bias broadcastable to [S, heads, Lq, Lk]; result [S, Lq, H].
     */
    String attention(String q, String k, String v, int heads, int headDim, String bias) {
        String qh = heads(q, heads, headDim);
        String kt = transpose(reshape(k, 0, -1, heads, headDim), 0, 2, 3, 1); // [S, heads, hd, Lk]
        String vh = heads(v, heads, headDim);
        String scores = mul(g.op("MatMul", qh, kt), g.scalar((float) (1 / Math.sqrt(headDim))));
        if (bias != null) scores = add(scores, bias);
        String probs = g.op("Softmax", List.of(scores), Map.of("axis", -1L));
        String out = g.op("MatMul", probs, vh); // [S, heads, Lq, hd]
        return reshape(transpose(out, 0, 2, 1, 3), 0, -1, (long) heads * headDim);
    }

    /** [S, L, H] → [S, heads, L, hd]. */
    private String heads(String x, int heads, int headDim) {
        return transpose(reshape(x, 0, -1, heads, headDim), 0, 2, 1, 3);
    }

    /** A fused projection [S, L, parts·width] (qkv, kv) split into its parts along the last axis. */
    String[] chunks(String fused, int parts) {
        return split(fused, 2, parts);
    }

    // ---- embedders

    /**
     * The timestep sinusoid [n] → [n, dim]: freq_k = exp(-ln(10000)·k/(dim/2)), [cos(t·f), sin(t·f)], float32 as
     * the official code computes it.
     */
    String sinusoid(String t, int dim) {
        int half = dim / 2;
        float[] freqs = new float[half];
        float minusLogPeriod = (float) -Math.log(10000);
        for (int k = 0; k < half; k++) freqs[k] = (float) Math.exp(minusLogPeriod * (float) k / (float) half);
        String f = "const/freqs_" + dim;
        if (shared.add(f)) g.floats(f, freqs, 1, half);
        String args = mul(unsqueeze(t, 1), f);
        return g.op("Concat", List.of(g.op("Cos", args), g.op("Sin", args)), Map.of("axis", 1L));
    }

    /** Linear, SiLU, Linear on the sinusoid of the scalars t [n]: {@code prefix.0} and {@code prefix.2}. */
    String timestepEmbedder(String t, String prefix) {
        int freq = file.get(prefix + ".0.weight").size(1);
        return linear(silu(linear(sinusoid(t, freq), prefix + ".0")), prefix + ".2");
    }

    /**
     * How a weight linear {@code key} (checkpoint {@code key.weight} [out, in], optional {@code key.bias}) becomes ONNX
     * nodes. The float form is {@link #FLOAT}; quantized exports (W8A8 as integer MatMuls, W4A8 as MatMulNBits) are
     * other implementations, chosen per layer.
     */
    interface LinearEmitter {
        /** Emits y = x·Wᵀ + b over the last dimension of {@code x}; returns y's value name. */
        String emit(LayerOps ops, String x, String key);

        /** FP32 MatMul with the weight stored transposed ([in, out]), then Add of the bias. */
        LinearEmitter FLOAT = (ops, x, key) -> {
            dev.viditq.core.tensor.Tensor w = ops.file.get(key + ".weight");
            int out = w.size(0), in = w.size(1);
            String wt = ops.g.initializer(key + ".weight_t", ai.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT,
                    new long[]{in, out}, transposedFloats(w));
            String y = ops.g.op("MatMul", x, wt);
            return ops.file.contains(key + ".bias") ? ops.add(y, ops.weight(key + ".bias")) : y;
        };

        /** W [out, in] (any float dtype) as FP32 little-endian bytes of Wᵀ [in, out]. */
        static java.nio.ByteBuffer transposedFloats(dev.viditq.core.tensor.Tensor w) {
            int out = w.size(0), in = w.size(1);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(in, out), 4))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            java.nio.FloatBuffer f = b.asFloatBuffer();
            for (int o = 0; o < out; o++) {
                long row = (long) o * in;
                for (int i = 0; i < in; i++) f.put(i * out + o, w.getFloat(row + i));
            }
            return b;
        }
    }
}
