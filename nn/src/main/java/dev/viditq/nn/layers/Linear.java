package dev.viditq.nn.layers;

import dev.viditq.core.kernels.Activation;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Every matrix multiply with weights goes through here: y = x·Wᵀ + b over the last dimension.
 * A float weight stays as stored (F32/BF16/F16, memory-mapped). Quantization swaps how a Linear executes
 * ({@link #setExecutor}); models never mention it. A Linear a checkpoint stores quantized ({@link #storage()}) holds
 * no integer tensor: its weights live in the executor the quantization module installs when it loads the checkpoint,
 * and it keeps a float weight only when that checkpoint does (for steps a plan runs in float). {@link #name()} is
 * the checkpoint key without ".weight", the address that quantization configs match with regexes.
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
         * The same, then {@code activation} on every output (an MLP's first linear). By default a pass over the outputs;
         * an executor that computes it in its GEMM's epilogue gives the same values.
         */
        default void forwardActivated(Linear layer, Tensor x2d, Tensor out2d, Activation activation) {
            forward(layer, x2d, out2d);
            activation.applyInPlace(KernelBackend.get(), out2d.data(), out2d.numel());
        }

        /**
         * True when {@link #forward} writes every element of {@code out2d} without reading it (a GEMM with or without
         * bias): the output buffer then need not be zeroed first. Default false (zeroed), for executors that
         * accumulate or skip rows.
         */
        default boolean writesEveryOutput() {
            return false;
        }

        /**
         * What this executor's output depends on at the current step besides its input: two calls with equal keys
         * compute equal outputs from equal inputs, so a caller may keep an output and reuse it for the same input
         * while the key stays the same (a cross-attention's keys and values of an unchanged caption). Null, the
         * default, promises nothing and every call must run (an observer records what it sees).
         */
        default Object reuseKey() {
            return null;
        }
    }

    /**
     * The float GEMM ({@link Kernels#gemm}, or with {@code once} {@link Kernels#gemmOnce}); it writes every output
     * element.
     */
    private record FloatGemm(boolean once) implements Executor {
        @Override
        public void forward(Linear layer, Tensor x, Tensor out) {
            MemorySegment bias = layer.bias == null ? null : layer.bias.data();
            Kernels kernels = KernelBackend.get();
            if (once) kernels.gemmOnce(x.data(), x.size(0), layer.in, layer.weight(), bias, out.data());
            else kernels.gemm(x.data(), x.size(0), layer.in, layer.weight(), bias, out.data());
        }

        @Override
        public boolean writesEveryOutput() {
            return true;
        }

        /** The same float arithmetic at every step. */
        @Override
        public Object reuseKey() {
            return this;
        }
    }

    private static final Executor FLOAT = new FloatGemm(false);
    /**
     * The float GEMM for a layer whose weight is multiplied once per run (a text encoder's): no packed copy of the
     * weight stays resident afterwards.
     */
    public static final Executor FLOAT_ONCE = new FloatGemm(true);

    private final String name;
    private final WeightStorage storage;
    private final Tensor weight;
    private final Tensor bias;
    private final int in;
    private final int out;
    private Executor executor = FLOAT;

    /** A float Linear: {@code weight} [out, in] as stored. */
    public Linear(String name, Tensor weight, Tensor bias) {
        this(name, WeightStorage.FLOAT, matrix(name, weight), weight.size(1), weight.size(0), bias);
    }

    private static Tensor matrix(String name, Tensor weight) {
        if (weight.rank() != 2) throw new IllegalArgumentException(name + ": linear weight must be 2-D, is " + weight);
        return weight;
    }

    /**
     * A Linear of [out, in] stored as {@code storage} says; {@code weight} is the float weight [out, in], null for
     * {@link WeightStorage#QUANTIZED}.
     */
    public Linear(String name, WeightStorage storage, Tensor weight, int in, int out, Tensor bias) {
        if (storage.hasFloatWeight() != (weight != null)) {
            throw new IllegalArgumentException(name + ": a " + storage + " Linear " + (weight == null ? "needs" : "has no") + " float weight");
        }
        if (weight != null && (weight.rank() != 2 || weight.size(0) != out || weight.size(1) != in)) {
            throw new IllegalArgumentException(name + ": linear weight must be [" + out + ", " + in + "], is " + weight);
        }
        this.name = name;
        this.storage = storage;
        this.weight = weight;
        this.out = out;
        this.in = in;
        this.bias = bias == null ? null : bias.toF32();
        if (this.bias != null && this.bias.numel() != out) {
            throw new IllegalArgumentException(name + ": bias of " + this.bias.numel() + " for " + out + " outputs");
        }
    }

    /** Loads {@code key.weight} [out, in] and, when present, {@code key.bias}. */
    public static Linear load(Weights w, String key, int in, int out) {
        return load(w, key, in, out, true);
    }

    /**
     * Loads {@code key.weight} [out, in] (when the checkpoint stores the layer quantized, only if it keeps the float
     * weight too) and, with {@code hasBias}, {@code key.bias}.
     */
    public static Linear load(Weights w, String key, int in, int out, boolean hasBias) {
        Tensor bias = hasBias ? w.takeF32(key + ".bias", out) : null;
        WeightStorage storage = w.linearStorage(key, out, in);
        Tensor weight = storage.hasFloatWeight() ? w.take(key + ".weight", out, in) : null;
        return new Linear(key, storage, weight, in, out, bias);
    }

    public String name() { return name; }
    public WeightStorage storage() { return storage; }
    public Tensor bias() { return bias; }
    public int inFeatures() { return in; }
    public int outFeatures() { return out; }
    public Executor executor() { return executor; }

    /** The float weight [out, in]; a Linear stored {@link WeightStorage#QUANTIZED} has none. */
    public Tensor weight() {
        if (weight == null) {
            throw new IllegalStateException(name + " is stored quantized without a float weight; its weights are in its quantized executor");
        }
        return weight;
    }

    public void setExecutor(Executor executor) {
        this.executor = executor == null ? FLOAT : executor;
    }

    /**
     * The executors of {@code linears}, each followed by its {@link Executor#reuseKey}, or null when one promises
     * nothing: while the list stays equal, the layers compute equal outputs from equal inputs.
     */
    public static List<Object> reuseKeys(List<Linear> linears) {
        List<Object> all = new ArrayList<>(2 * linears.size());
        for (Linear l : linears) {
            Object key = l.executor.reuseKey();
            if (key == null) return null;
            all.add(l.executor);
            all.add(key);
        }
        return all;
    }

    /** y[..., out] = x[..., in]·Wᵀ + b. */
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** activation(x·Wᵀ + b): the first linear of an MLP (see {@link Executor#forwardActivated}). */
    public Tensor forwardActivated(Tensor x, Activation activation) {
        Tensor y = output(x);
        long rows = x.numel() / in;
        executor.forwardActivated(this, x.reshape(rows, in), y.reshape(rows, out), activation);
        return y;
    }

    /**
     * y = x·Wᵀ + b where only the rows {@code realRows} accepts carry meaning (the others are padding: caption
     * tokens beyond a caption's mask); null: every row. The output is computed for every row. It lives in
     * pooled memory ({@link Tensor#allocate}: recycled after the GC collects it, instead of mapped, faulted in and zeroed
     * afresh on every call: ~1 GB/s on the 2-core benchmark machine, 0.3-1 s of a PixArt-XL step), zeroed first only
     * when the executor does not
     * write every element.
     */
    public Tensor forward(Tensor x, IntPredicate realRows) {
        Tensor y = output(x);
        long rows = x.numel() / in;
        if (realRows == null) executor.forward(this, x.reshape(rows, in), y.reshape(rows, out));
        else executor.forward(this, x.reshape(rows, in), y.reshape(rows, out), realRows);
        return y;
    }

    /** The output for input x (x's shape with the last dimension {@code out}), zeroed unless the executor writes it all. */
    private Tensor output(Tensor x) {
        if (x.dim(-1) != in) throw new IllegalArgumentException(name + " expects last dim " + in + ", got " + x);
        long[] shape = x.shape();
        shape[shape.length - 1] = out;
        return Tensor.allocate(DType.F32, !executor.writesEveryOutput(), shape);
    }
}
