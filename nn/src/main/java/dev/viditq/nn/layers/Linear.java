package dev.viditq.nn.layers;

import dev.viditq.core.kernels.ActivationPool;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.util.function.IntPredicate;

/**
 * Every matrix multiply with weights goes through here: y = x·Wᵀ + b over the last dimension.
 * The weight stays as stored (F32/BF16/F16, memory-mapped). Quantization swaps how a Linear executes
 * ({@link #setExecutor}); models never mention it. {@link #name()} is the checkpoint key without ".weight",
 * the address that quantization configs match with regexes.
 */
public final class Linear {
    /** How a Linear computes out[m, out] from x[m, in]: float by default, quantized when a plan says so. */
    public interface Executor {
        void forward(Linear layer, Tensor x2d, Tensor out2d);

        /**
         * The same, told which rows of x are real tokens ({@code realRows}: row index → true; padding rows still get
         * an output, which nothing reads). Executors that compute ignore it; observers (calibration) record only
         * the real rows.
         */
        default void forward(Linear layer, Tensor x2d, Tensor out2d, IntPredicate realRows) {
            forward(layer, x2d, out2d);
        }

        /**
         * True when {@link #forward} writes every element of {@code out2d} without reading it (a GEMM with or without
         * bias): the output buffer then need not be zeroed first. Default false (zeroed), for executors that
         * accumulate or skip rows.
         */
        default boolean writesEveryOutput() {
            return false;
        }
    }

    /** The float GEMM: {@link dev.viditq.core.kernels.Kernels#gemm} writes every output element. */
    private static final Executor FLOAT = new Executor() {
        @Override
        public void forward(Linear layer, Tensor x, Tensor out) {
            KernelBackend.get().gemm(x.data(), x.size(0), layer.in, layer.weight,
                    layer.bias == null ? null : layer.bias.data(), out.data());
        }

        @Override
        public boolean writesEveryOutput() {
            return true;
        }
    };

    private final String name;
    private final Tensor weight;
    private final Tensor bias;
    private final int in;
    private final int out;
    private Executor executor = FLOAT;

    public Linear(String name, Tensor weight, Tensor bias) {
        if (weight.rank() != 2) throw new IllegalArgumentException(name + ": linear weight must be 2-D, is " + weight);
        this.name = name;
        this.weight = weight;
        this.out = weight.size(0);
        this.in = weight.size(1);
        this.bias = bias == null ? null : bias.toF32();
        if (this.bias != null && this.bias.numel() != out) {
            throw new IllegalArgumentException(name + ": bias of " + this.bias.numel() + " for " + out + " outputs");
        }
    }

    /** Loads {@code key.weight} [out, in] and, when present, {@code key.bias}. */
    public static Linear load(Weights w, String key, int in, int out) {
        return load(w, key, in, out, true);
    }

    public static Linear load(Weights w, String key, int in, int out, boolean hasBias) {
        Tensor weight = w.take(key + ".weight", out, in);
        Tensor bias = hasBias ? w.takeF32(key + ".bias", out) : null;
        return new Linear(key, weight, bias);
    }

    public String name() { return name; }
    public Tensor weight() { return weight; }
    public Tensor bias() { return bias; }
    public int inFeatures() { return in; }
    public int outFeatures() { return out; }
    public Executor executor() { return executor; }

    public void setExecutor(Executor executor) {
        this.executor = executor == null ? FLOAT : executor;
    }

    /** y[..., out] = x[..., in]·Wᵀ + b. */
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /**
     * y = x·Wᵀ + b where only the rows {@code realRows} accepts carry meaning (the others are padding: caption
     * tokens beyond a caption's mask); null: every row. The output is computed for every row. It lives in
     * {@link ActivationPool} memory (recycled after the GC collects it, instead of mapped, faulted in and zeroed
     * afresh on every call: ~1 GB/s on the 2-core benchmark machine, 0.3-1 s of a PixArt-XL step), zeroed first only
     * when the executor does not
     * write every element.
     */
    public Tensor forward(Tensor x, IntPredicate realRows) {
        if (x.dim(-1) != in) throw new IllegalArgumentException(name + " expects last dim " + in + ", got " + x);
        long rows = x.numel() / in;
        long[] shape = x.shape();
        shape[shape.length - 1] = out;
        Tensor y = ActivationPool.tensor(DType.F32, !executor.writesEveryOutput(), shape);
        if (realRows == null) executor.forward(this, x.reshape(rows, in), y.reshape(rows, out));
        else executor.forward(this, x.reshape(rows, in), y.reshape(rows, out), realRows);
        return y;
    }
}
