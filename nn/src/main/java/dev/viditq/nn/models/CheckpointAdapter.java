package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;

import java.util.ServiceLoader;

/**
 * A module that takes part in {@link ModelLoader} without the model code knowing about it: the quantization module
 * registers one (META-INF/services) so that a quantized checkpoint loads through the ordinary loader. For a checkpoint
 * it {@link #accepts}, the family builder sees {@link #modelView} (the tensors it knows, e.g. packed integer weights
 * under the usual {@code .weight} keys) and, once built, {@link #install} finishes the model (e.g. swaps the
 * executors of the quantized Linears).
 */
public interface CheckpointAdapter {
    /** True when this adapter is responsible for the checkpoint (e.g. its metadata marks it quantized). */
    boolean accepts(TensorFile file);

    /** The tensors the family builder should see; closing the view closes {@code file}. */
    TensorFile modelView(TensorFile file);

    /** Finishes the model built from {@link #modelView}; on failure the loader closes {@code file}. */
    void install(Denoiser model, TensorFile file);

    /** The registered adapter that accepts {@code file}, or null (a plain checkpoint). */
    static CheckpointAdapter find(TensorFile file) {
        for (CheckpointAdapter a : ServiceLoader.load(CheckpointAdapter.class)) {
            if (a.accepts(file)) return a;
        }
        return null;
    }
}
