package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.PackedWeight;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A plan with its quantized weights: what {@code ./viditq quantize} writes and what loading a quantized folder
 * reads back. {@link #install} swaps the executors of the named Linears of a model built from the same checkpoint
 * layout; the models never notice. Balancing vectors are folded into the models' adaLN modulations where the
 * algebra allows ({@link Folding}), and Linears that read one input quantize it once ({@link SharedActivations}).
 */
public record QuantizedModel(QuantPlan plan, Map<String, QuantizedLayer> layers) {
    public QuantizedModel {
        layers = Collections.unmodifiableMap(new LinkedHashMap<>(layers));
    }

    /** Where the packed weights of a layer come from (the in-memory quantized weights, or a mapped checkpoint). */
    public interface PackedSource {
        PackedWeight pack(LayerPlan layer, int bits);

        /** The layer's low-rank branch, read when its plan has one. */
        LowRankBranch branch(LayerPlan layer);
    }

    /**
     * What an installation did.
     *
     * @param folded       layers whose balancing the model's modulations apply
     * @param sharedInputs groups whose members read one quantized input (names as the model gives them)
     */
    public record Installed(long packedBytes, Set<String> folded, Set<String> sharedInputs) {}

    /**
     * Installs integer or simulated executors on the model's Linears, folding balancing where allowed unless
     * -Dviditq.quant.fold=false; returns the packed bytes now resident (0 when simulated).
     */
    public long install(Denoiser model, ExecutionMode mode) {
        return install(model, mode, Folding.enabledFromEnvironment()).packedBytes();
    }

    /** As {@link #install(Denoiser, ExecutionMode)}, with folding chosen by {@code fold}. */
    public Installed install(Denoiser model, ExecutionMode mode, boolean fold) {
        if (mode == ExecutionMode.INTEGER) {
            return installPacked(model, plan, new PackedSource() {
                @Override
                public PackedWeight pack(LayerPlan lp, int bits) {
                    return layers.get(lp.name()).weights().get(bits).pack();
                }

                @Override
                public LowRankBranch branch(LayerPlan lp) {
                    return layers.get(lp.name()).branch();
                }
            }, fold);
        }
        Map<String, Linear> linears = checkedLinears(model, plan);
        Set<String> folded = Folding.apply(model, plan.layers(), fold);
        SharedActivations.install(model.sharedInputs(), plan, folded, false); // simulated layers quantize on their own
        for (QuantizedLayer q : layers.values()) {
            LayerPlan lp = q.plan();
            Linear l = linears.get(lp.name());
            boolean isFolded = folded.contains(lp.name());
            l.setExecutor(new QuantizedExecutor(lp, plan.activations(), isFolded, floatWeight(l, lp),
                    new SimulatedArithmetic(q, plan.activations(), isFolded, lowRankPath(lp, q.branch(), isFolded, true))));
        }
        return new Installed(0, folded, Set.of());
    }

    /**
     * Installs integer executors for {@code plan} on the model, one layer at a time: {@code source} packs each
     * layer's weights as it is reached, so a loader can pack straight from a mapped checkpoint and release what it
     * read before the next layer (nothing but the packed weights stays resident).
     */
    public static Installed installPacked(Denoiser model, QuantPlan plan, PackedSource source, boolean fold) {
        Map<String, Linear> linears = checkedLinears(model, plan);
        Set<String> folded = Folding.apply(model, plan.layers(), fold);
        Map<String, SharedActivations> shared = SharedActivations.install(model.sharedInputs(), plan, folded, true);
        long bytes = 0;
        for (LayerPlan lp : plan.layers().values()) {
            Linear l = linears.get(lp.name());
            Map<Integer, PackedWeight> packed = new LinkedHashMap<>();
            for (int bits : lp.weightBits()) packed.put(bits, source.pack(lp, bits));
            boolean isFolded = folded.contains(lp.name());
            QuantizedExecutor ex = new QuantizedExecutor(lp, plan.activations(), isFolded, floatWeight(l, lp),
                    new IntegerArithmetic(lp, plan.activations(), packed, isFolded,
                            lp.hasLowRank() ? lowRankPath(lp, source.branch(lp), isFolded, false) : null, shared.get(lp.name())));
            bytes += ex.residentBytes();
            l.setExecutor(ex);
        }
        Set<String> groups = new LinkedHashSet<>();
        for (SharedActivations s : shared.values()) groups.add(s.name());
        return new Installed(bytes, folded, groups);
    }

    /** How the layer's low-rank branch runs (null without one): the down-projections its steps' activation bits need. */
    private static LowRankPath lowRankPath(LayerPlan lp, LowRankBranch branch, boolean folded, boolean simulated) {
        if (lp.hasLowRank() != (branch != null)) throw new IllegalArgumentException(lp.name() + ": the plan's low-rank branch is missing");
        if (branch == null) return null;
        boolean a8 = false, fewer = false;
        for (Precision p : lp.possiblePrecisions()) {
            if (p.isFloat()) continue;
            a8 |= p.activationBits() == 8;
            fewer |= p.activationBits() != 8;
        }
        return new LowRankPath(branch, folded ? null : lp.smooth(), QuantizedLayer.rotation(lp), a8, fewer, simulated);
    }

    /** The model's Linears, each quantized one checked against its plan. */
    private static Map<String, Linear> checkedLinears(Denoiser model, QuantPlan plan) {
        Map<String, Linear> linears = model.linears();
        for (LayerPlan lp : plan.layers().values()) {
            Linear l = linears.get(lp.name());
            if (l == null) throw new IllegalArgumentException("quantized layer '" + lp.name() + "' is not a Linear of this model");
            if (l.inFeatures() != lp.in() || l.outFeatures() != lp.out()) {
                throw new IllegalArgumentException("quantized layer " + lp.name() + " is [" + lp.out() + ", " + lp.in()
                        + "], the model's Linear [" + l.outFeatures() + ", " + l.inFeatures() + "]");
            }
        }
        return linears;
    }

    /** The float weight the plan's float steps run on, or null when it has none. */
    private static Tensor floatWeight(Linear l, LayerPlan lp) {
        if (!lp.needsFloatWeight()) return null;
        if (!l.storage().hasFloatWeight()) {
            throw new IllegalArgumentException(lp.name() + ": the plan runs some steps in float but the checkpoint stores no float weight for it");
        }
        return l.weight();
    }

    /**
     * Off-heap bytes the quantized executors installed on {@code model} hold: packed integer weights (integer mode)
     * or dequantized F32 copies (simulated mode). Float weights of the model are not included.
     */
    public static long residentBytes(Denoiser model) {
        long bytes = 0;
        for (Linear l : model.linears().values()) {
            if (l.executor() instanceof QuantizedExecutor e) bytes += e.residentBytes();
        }
        return bytes;
    }

    /** Names of the quantized Linears of {@code model} whose balancing the model's modulations apply (folded). */
    public static Set<String> foldedLayers(Denoiser model) {
        Set<String> out = new LinkedHashSet<>();
        for (Linear l : model.linears().values()) {
            if (l.executor() instanceof QuantizedExecutor e && e.balancingFolded()) out.add(l.name());
        }
        return out;
    }

    /** Names of {@code model}'s groups of Linears whose members read one quantized input (installed on the integer kernels). */
    public static Set<String> sharedInputs(Denoiser model) {
        Set<String> out = new LinkedHashSet<>();
        for (SharedInput g : model.sharedInputs()) if (g.scope() instanceof SharedActivations) out.add(g.name());
        return out;
    }

    /**
     * Bytes of the stored integer weights, scales and zero points and of the BF16 low-rank factors (the checkpoint's
     * share of quantized layers).
     */
    public long storedWeightBytes() {
        long b = 0;
        for (QuantizedLayer l : layers.values()) {
            for (QuantizedWeight w : l.weights().values()) b += w.storedBytes();
            if (l.branch() != null) b += l.branch().storedBytes();
        }
        return b;
    }

    /**
     * {@link #storedWeightBytes} in bits over the quantized Linears' weights (Σ out × in): the "stored bits per
     * weight" that budgets and docs/RESULTS.md compare (4.13 for int4 per channel, 4.38 for groups of 64 with BF16
     * scales).
     */
    public double storedBitsPerWeight() {
        long weights = 0;
        for (QuantizedLayer l : layers.values()) weights += (long) l.plan().out() * l.plan().in();
        return weights == 0 ? 0 : 8.0 * storedWeightBytes() / weights;
    }
}
