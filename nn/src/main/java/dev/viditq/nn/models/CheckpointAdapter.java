package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;

import java.util.ServiceLoader;

/**
 * A module that takes part in {@link ModelLoader} without the model code knowing about it: the quantization module
 * registers one (META-INF/services) so that a quantized checkpoint loads through the ordinary loader. For a checkpoint
 * it {@link #accepts}, it reads what it needs beyond the tensors once ({@link #open}, e.g. the quantization plan);
 * the family builder then sees {@link Loading#modelView} (the tensors it knows, e.g. without the quantization
 * tensors, with the Linears stored quantized declared by shape: {@link dev.viditq.nn.layers.QuantizedLinearsView})
 * and, once built, {@link Loading#install} finishes the model (e.g. installs the executors of the quantized Linears).
 */
public interface CheckpointAdapter {
    /** True when this adapter is responsible for the checkpoint (e.g. its metadata marks it quantized). */
    boolean accepts(TensorFile file);

    /** Reads and checks what the adapter needs from {@code file} beyond its tensors; the loading keeps it open. */
    Loading open(TensorFile file);

    /** One checkpoint being loaded through an adapter. */
    interface Loading {
        /** The tensors the family builder should see; closing the view closes the file. */
        TensorFile modelView();

        /** Finishes the model built from {@link #modelView}; on failure the loader closes the file. */
        void install(Denoiser model);
    }

    /** The registered adapter that accepts {@code file}, or null (a plain checkpoint). */
    static CheckpointAdapter find(TensorFile file) {
        for (CheckpointAdapter a : ServiceLoader.load(CheckpointAdapter.class)) {
            if (a.accepts(file)) return a;
        }
        return null;
    }
}
