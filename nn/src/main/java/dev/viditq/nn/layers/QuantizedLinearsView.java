package dev.viditq.nn.layers;

import dev.viditq.core.io.TensorFile;

/**
 * A checkpoint as a model builder sees it when some of its Linears are stored quantized (what the quantization
 * module's {@link dev.viditq.nn.models.CheckpointAdapter} hands the builder): such a Linear has no float
 * {@code .weight} tensor unless its plan keeps one for float steps, and this view declares its shape instead, so
 * that {@link Linear#load} builds it without one. Its weights reach it later, inside the executor the adapter installs.
 */
public interface QuantizedLinearsView extends TensorFile {
    /** [out, in] of the Linear {@code key} (checkpoint key without ".weight") when it is stored quantized, else null. */
    long[] quantizedShape(String key);
}
