package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.SharedInput;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A diffusion transformer as a sampler sees it: one forward pass, nothing else. Built by {@link ModelLoader}.
 *
 * <p>Shapes: x is F32 (other float dtypes are converted) [B, C, H, W] for image models and [B, C, T, H, W] for
 * video models ({@link ModelInfo#video()}); H and W multiples of the patch size; any size (the positional
 * embeddings are computed for the actual grid, as the official code does where it supports other sizes).
 * Timesteps: [B] or [1] (broadcast), any numeric dtype, on the model's 0..999 scale as the official code receives
 * them. The output is F32 [B, outChannels, (T,) H, W]: ε first, then the variance channels when learned.
 *
 * <p>A denoiser holds its checkpoint memory-mapped; {@link #close()} releases it (tensors of the model become
 * invalid). Forward passes may run from one thread at a time.
 */
public interface Denoiser extends AutoCloseable {
    ModelInfo info();

    /** One forward pass of the official model code ({@code model(x, t, y, mask, ...)}); see the class comment. */
    Tensor forward(Tensor x, Tensor timesteps, Conditioning cond);

    /**
     * Every weight linear, keyed by its checkpoint name without ".weight" (e.g. {@code blocks.3.cross_attn.kv_linear},
     * {@code transformer_blocks.0.attn1.to_q}), in checkpoint/execution order. Quantization swaps their
     * {@link Linear#setExecutor executors}; the models never notice. The patch-embedding convolution is not a Linear.
     */
    Map<String, Linear> linears();

    /**
     * The places where a per-channel scale of some Linears' input can be folded into the operation producing it
     * (the adaLN modulations before attention and MLP), in execution order; empty where a family has none.
     * Quantization folds balancing vectors there ({@link InputScaling}).
     */
    default List<InputScaling> inputScalings() {
        return List.of();
    }

    /**
     * The groups of separate Linears that read one and the same input tensor (diffusers' to_q / to_k / to_v, a
     * cross-attention's to_k / to_v), in execution order; empty where a family fuses them or has none. Quantization
     * gives each group one balancing vector and quantizes its input once ({@link SharedInput}).
     */
    default List<SharedInput> sharedInputs() {
        return List.of();
    }

    /**
     * The learned null caption [L, Dt] for classifier-free guidance, where the checkpoint has one (the original
     * PixArt and Open-Sora {@code y_embedder.y_embedding}); empty for diffusers models (their pipelines encode "").
     */
    default Optional<Tensor> nullCaption() {
        return Optional.empty();
    }

    /** Releases the memory-mapped checkpoint. */
    @Override
    void close();
}
