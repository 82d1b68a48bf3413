package dev.viditq.bench.onnx;

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
