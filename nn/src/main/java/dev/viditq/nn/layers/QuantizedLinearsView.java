package dev.viditq.nn.layers;

import dev.viditq.core.io.TensorFile;

/**
 * A checkpoint as a model builder sees it when some of its Linears are stored quantized (what the quantization
 * module's {@link dev.viditq.nn.models.CheckpointAdapter} hands the builder). Its key space is the float model's —
 * every Linear answers to {@code key.weight} in {@link #names()}, so detection by keys and the unused-key check see
 * the usual layout — but a Linear stored quantized gives no tensor under that key unless its plan keeps the float
 * weight for float steps: {@link #quantized} declares it, and {@link Linear#load} builds it without one. Its weights
 * reach it later, inside the executor the adapter installs.
 */
public interface QuantizedLinearsView extends TensorFile {
    /** A Linear stored quantized: its [out, in] and whether its float weight is kept too. */
    record QuantizedLinear(long out, long in, boolean floatWeightKept) {}

    /** The Linear {@code key} (checkpoint key without ".weight") when it is stored quantized, else null. */
    QuantizedLinear quantized(String key);
}
