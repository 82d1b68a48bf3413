package dev.viditq.quant.method;

import dev.viditq.core.kernels.quant.Hadamard;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.LayerStats;
import dev.viditq.quant.calib.ModelIdentity;
import dev.viditq.quant.config.LayerPattern;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigException;
import dev.viditq.quant.plan.BitOverride;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.Precision;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.plan.RotationSpec;
import dev.viditq.quant.plan.SharedInputGroup;
import dev.viditq.quant.plan.StaticRanges;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every method shares: which layers are quantized (config, family defaults, bit map), validation of every
 * pattern against the model, rotation blocks, static activation ranges from calibration. A method decides the
 * balancing vector ({@link #balancing}); whether it rotates or balances at all is fixed by the config, which the
 * reader already checked against the method.
 */
abstract class PlanningMethod implements QuantMethod {
    /** Balancing vectors are clamped to this range: a dead channel must not produce 0 or ∞. */
    private static final float MIN_SMOOTH = 1e-5f, MAX_SMOOTH = 1e5f;

    /**
     * The balancing vector m for a layer (x ⊙ m online, W / m offline) from the per-channel abs-max of its input
     * over calibration, {@code actMax}, and of its weight columns, {@code weightMax}.
     */
    abstract float balance(float actMax, float weightMax, double alpha);

    @Override
    public final QuantPlan plan(Denoiser model, Calibration calibration, QuantConfig config) {
        if (config.method() != id()) throw new IllegalArgumentException("config is for method " + config.method().id() + ", not " + id().id());
        Map<String, Linear> linears = model.linears();
        if (config.needsCalibration()) {
            if (calibration == null) {
                throw new IllegalArgumentException(config.source() + ": method " + id().id() + " with "
                        + (config.activation().dynamic() ? "balancing" : "static activation ranges")
                        + " needs calibration statistics: give --calibration FILE (made by ./viditq calibrate)");
            }
            calibration.model().checkSameModel(ModelIdentity.of(model), calibration.describe());
            if (calibration.done() == 0) throw new IllegalArgumentException(calibration.describe() + ": holds no finished prompt");
            if (config.usesGptq() && !calibration.hasHessians()) {
                throw new IllegalArgumentException(config.source() + ": gptq needs every layer's input Hessian, and "
                        + calibration.describe() + " holds none: calibrate again with --hessians");
            }
        }
        List<String> notes = new ArrayList<>(config.notes());
        LayerSelection selection = new LayerSelection(config, linears, notes);
        Precision base = new Precision(config.weight().bits(), config.activation().bits());
        List<SharedInput> groups = config.sharedInputs() ? sharedGroups(model, selection, base, notes) : List.of();
        Map<String, float[]> jointSmooth = config.balancing() == null ? Map.of()
                : jointBalancings(groups, selection, calibration, config.balancing().alpha());
        Map<String, LayerPlan> layers = new LinkedHashMap<>();
        for (Linear l : linears.values()) {
            LayerPlan probe = probe(l, selection, base);
            if (probe == null) continue;
            LayerMethod method = LayerMethod.of(config, l.name());
            checkGroups(config, method.weights(), l, probe);
            float[] smooth = null;
            if (selection.balancedIfConfigured(l.name())) {
                smooth = jointSmooth.get(l.name()); // a member of a shared input: its group's vector
                if (smooth == null) {
                    smooth = balancingVector(l.inFeatures(), calibration.layer(l.name()).channelAbsMax(), weightColumnAbsMax(l.weight()),
                            config.balancing().alpha());
                }
            }
            RotationSpec rotation = config.rotation() != null && selection.rotated(l.name())
                    ? rotation(l, config.rotation(), notes) : null;
            StaticRanges ranges = config.activation().dynamic() ? null
                    : ranges(calibration, calibration.layer(l.name()), smooth, config.activation());
            layers.put(l.name(), new LayerPlan(l.name(), l.inFeatures(), l.outFeatures(), smooth, rotation, base, probe.overrides(), ranges,
                    method.gptq(), lowRank(method.lowRank(), l, notes), method.weights().equals(config.weight()) ? null : method.weights()));
        }
        if (layers.isEmpty()) throw new QuantConfigException(config.source() + ": no Linear of the model is left to quantize");
        List<SharedInputGroup> shared = new ArrayList<>();
        for (SharedInput g : groups) {
            shared.add(new SharedInputGroup(g.name(), g.memberNames()));
            unifyRanges(g.memberNames(), layers);
        }
        return new QuantPlan(id().id(), config.source(), config.weight(),
                new QuantPlan.ActivationScheme(config.activation().granularity(), config.activation().dynamic()), layers, notes, shared);
    }

    /** The layer's plan before balancing, rotation and ranges; null when it is not quantized at any step. */
    private static LayerPlan probe(Linear l, LayerSelection selection, Precision base) {
        if (selection.keptFloat(l.name())) return null;
        LayerPlan probe = new LayerPlan(l.name(), l.inFeatures(), l.outFeatures(), null, null, base, selection.overrides(l.name()), null);
        return probe.possiblePrecisions().stream().anyMatch(p -> !p.isFloat()) ? probe : null;
    }

    /**
     * The model's groups of Linears reading one input that can share its quantization: every member quantized at
     * some step, and all balanced or none, all rotated or none (the config's layer patterns may split a group, which
     * is noted and leaves its members on their own).
     */
    private static List<SharedInput> sharedGroups(Denoiser model, LayerSelection selection, Precision base, List<String> notes) {
        List<SharedInput> out = new ArrayList<>();
        for (SharedInput g : model.sharedInputs()) {
            List<Linear> members = g.members();
            long quantized = members.stream().filter(l -> probe(l, selection, base) != null).count();
            if (quantized == 0) continue;
            boolean alike = quantized == members.size()
                    && members.stream().map(l -> selection.balancedIfConfigured(l.name())).distinct().count() == 1
                    && members.stream().map(l -> selection.rotatedIfConfigured(l.name())).distinct().count() == 1;
            if (alike) out.add(g);
            else notes.add(g.name() + ": read one input but are not quantized alike (float, balancing or rotation differ); each quantizes its own");
        }
        return out;
    }

    /** One balancing vector per group ({@link #jointBalancingVector}), for every member. */
    private Map<String, float[]> jointBalancings(List<SharedInput> groups, LayerSelection selection, Calibration calibration, double alpha) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (SharedInput g : groups) {
            if (!selection.balanced(g.members().getFirst().name())) continue;
            List<float[]> act = new ArrayList<>(), wmax = new ArrayList<>();
            for (Linear l : g.members()) {
                act.add(calibration.layer(l.name()).channelAbsMax());
                wmax.add(weightColumnAbsMax(l.weight()));
            }
            float[] m = jointBalancingVector(act, wmax, alpha);
            for (Linear l : g.members()) out.put(l.name(), m);
        }
        return out;
    }

    /**
     * The balancing vector of Linears that read one input: the vector a fused projection of them (their weights
     * stacked) would get — the channel maxima of the input (one tensor for all; calibration recorded it once per
     * member, so the max over members) and of the weight columns over all members' rows, {@code wmax_j =
     * max over members of max_i |W[i, j]|}.
     *
     * @param inputAbsMax  per member, the input's channel abs-max
     * @param weightAbsMax per member, its weight's column abs-max
     */
    final float[] jointBalancingVector(List<float[]> inputAbsMax, List<float[]> weightAbsMax, double alpha) {
        int width = inputAbsMax.getFirst().length;
        float[] act = new float[width], wmax = new float[width];
        for (float[] a : inputAbsMax) maxInto(act, a);
        for (float[] w : weightAbsMax) maxInto(wmax, w);
        return balancingVector(width, act, wmax, alpha);
    }

    private static void maxInto(float[] into, float[] v) {
        for (int j = 0; j < into.length; j++) into[j] = Math.max(into[j], v[j]);
    }

    /**
     * Static ranges of a group's members made equal (the element-wise max): the members read the same balanced
     * input, so calibration saw the same ranges; taking the max keeps them identical whatever rounding did.
     */
    private static void unifyRanges(List<String> members, Map<String, LayerPlan> layers) {
        LayerPlan first = layers.get(members.getFirst());
        if (first.ranges() == null) return;
        float[] absmax = first.ranges().absmax().clone();
        for (String n : members) maxInto(absmax, layers.get(n).ranges().absmax());
        StaticRanges joint = new StaticRanges(first.ranges().timesteps(), first.ranges().cfgSplit(), absmax);
        for (String n : members) {
            LayerPlan p = layers.get(n);
            layers.put(n, new LayerPlan(p.name(), p.in(), p.out(), p.smooth(), p.rotation(), p.base(), p.overrides(), joint, p.gptq(), p.lowRank(), p.weightSpec()));
        }
    }

    /** The configured rank, at most the layer's smaller side (where a branch of that rank would be the whole weight). */
    private static int lowRank(int rank, Linear l, List<String> notes) {
        if (rank == 0) return 0;
        int most = Math.min(l.inFeatures(), l.outFeatures());
        if (rank <= most) return rank;
        notes.add(l.name() + ": low-rank branch of rank " + rank + " cut to its smaller side " + most);
        return most;
    }

    /**
     * A layer's weight method: the config's top-level weight grouping, GPTQ and low-rank rank, with the
     * {@code layer_methods} rules that match the layer applied in order (later rules win key by key).
     */
    private record LayerMethod(QuantConfig.WeightSpec weights, QuantConfig.Gptq gptq, int lowRank) {
        static LayerMethod of(QuantConfig config, String layer) {
            QuantConfig.WeightSpec w = config.weight();
            QuantConfig.Gptq gptq = config.gptq();
            int rank = config.lowRank() == null ? 0 : config.lowRank().rank();
            for (QuantConfig.MethodRule r : config.layerMethods()) {
                if (!r.layers().matches(layer)) continue;
                if (r.groupSize() != null) w = w.withGroupSize(r.groupSize());
                if (r.gptq() != null) gptq = r.gptqOff() ? null : r.gptq();
                if (r.lowRank() != null) rank = r.lowRank();
            }
            if (gptq != null && w.granularity() == QuantConfig.WeightGranularity.TENSOR) {
                throw new QuantConfigException(config.source() + ": layer " + layer + " has gptq with one weight scale per tensor; "
                        + "GPTQ needs per-channel or per-group scales");
            }
            return new LayerMethod(w, gptq, rank);
        }
    }

    private static void checkGroups(QuantConfig config, QuantConfig.WeightSpec spec, Linear l, LayerPlan probe) {
        if (spec.granularity() != QuantConfig.WeightGranularity.GROUP) return;
        for (int bits : probe.weightBits()) {
            if (bits > 4) {
                throw new QuantConfigException(config.source() + ": layer " + l.name() + " gets " + bits + "-bit weights from the bit map, "
                        + "but per-group scales exist only for weights of at most 4 bits");
            }
        }
    }

    /** m_j from the per-channel abs-max of the input, {@code act}, and of the weight columns, {@code wmax}. */
    final float[] balancingVector(int width, float[] act, float[] wmax, double alpha) {
        float[] m = new float[width];
        for (int j = 0; j < m.length; j++) {
            float v = act[j] > 0 && wmax[j] > 0 ? balance(act[j], wmax[j], alpha) : 1f;
            m[j] = Float.isFinite(v) ? Math.min(MAX_SMOOTH, Math.max(MIN_SMOOTH, v)) : 1f;
        }
        return m;
    }

    /** max_i |W[i, j]| for every input channel j. */
    static float[] weightColumnAbsMax(Tensor w) {
        int n = w.size(0), k = w.size(1);
        float[] out = new float[k];
        float[] row = new float[k];
        Tensor f = w.toF32();
        for (int i = 0; i < n; i++) {
            java.lang.foreign.MemorySegment.copy(f.data(), Tensor.F32_LE, (long) i * k * Float.BYTES, row, 0, k);
            for (int j = 0; j < k; j++) out[j] = Math.max(out[j], Math.abs(row[j]));
        }
        return out;
    }

    /**
     * The configured block when it divides the input size; else the full-size Hadamard when the input size has one,
     * else the largest block with one (block-diagonal).
     */
    private static RotationSpec rotation(Linear l, QuantConfig.Rotation cfg, List<String> notes) {
        int k = l.inFeatures();
        long seed = cfg.seed();
        if (cfg.block() > 0 && k % cfg.block() == 0) return new RotationSpec(cfg.block(), seed);
        if (cfg.block() > 0) notes.add(l.name() + ": rotation block " + cfg.block() + " does not divide its input size " + k);
        if (Hadamard.isSupported(k)) return new RotationSpec(k, seed);
        for (int b = k / 2; b >= 2; b--) {
            if (k % b == 0 && Hadamard.isSupported(b)) {
                notes.add(l.name() + ": no Hadamard matrix of order " + k + "; rotating blocks of " + b);
                return new RotationSpec(b, seed);
            }
        }
        notes.add(l.name() + ": no Hadamard block divides its input size " + k + "; not rotated");
        return null;
    }

    /** Static abs-max ranges of the (balanced) input per bucket and half, from the calibration statistics. */
    private static StaticRanges ranges(Calibration cal, LayerStats stats, float[] smooth, QuantConfig.ActivationSpec spec) {
        int steps = stats.steps();
        int buckets = spec.perTimestep() ? steps : 1;
        int halves = spec.cfgSplit() ? 2 : 1;
        double[] times = new double[buckets];
        float[] absmax = new float[buckets * halves];
        double[] calibrated = cal.timesteps();
        for (int b = 0; b < buckets; b++) {
            times[b] = spec.perTimestep() ? calibrated[b] : Double.NaN;
            for (int h = 0; h < halves; h++) absmax[b * halves + h] = bucketRange(stats, spec, b, h, smooth);
            if (halves == 2) fillEmptyHalf(absmax, b, stats, spec, smooth);
        }
        return new StaticRanges(times, spec.cfgSplit(), absmax);
    }

    private static float bucketRange(LayerStats stats, QuantConfig.ActivationSpec spec, int bucket, int half, float[] smooth) {
        float m = 0;
        for (int step = 0; step < stats.steps(); step++) {
            if (spec.perTimestep() && step != bucket) continue;
            for (int h = 0; h < LayerStats.HALVES; h++) {
                if (spec.cfgSplit() && h != half) continue;
                if (stats.rows(step, h) > 0) m = Math.max(m, stats.scaledAbsMax(step, h, smooth));
            }
        }
        return m;
    }

    /** A half never seen in calibration (no guidance, say) takes the other half's range rather than zero. */
    private static void fillEmptyHalf(float[] absmax, int bucket, LayerStats stats, QuantConfig.ActivationSpec spec, float[] smooth) {
        for (int h = 0; h < 2; h++) {
            boolean seen = false;
            for (int step = 0; step < stats.steps(); step++) {
                if (spec.perTimestep() && step != bucket) continue;
                seen |= stats.rows(step, h) > 0;
            }
            if (!seen) absmax[bucket * 2 + h] = absmax[bucket * 2 + (1 - h)];
        }
    }

    /** Config patterns resolved against the model's Linears, each checked to match something. */
    private static final class LayerSelection {
        private final QuantConfig config;
        private final List<String> names;
        private final List<LayerPattern> floatPatterns = new ArrayList<>();

        LayerSelection(QuantConfig config, Map<String, Linear> linears, List<String> notes) {
            this.config = config;
            this.names = List.copyOf(linears.keySet());
            if (config.keepFloatDefaults()) floatPatterns.addAll(FamilyDefaults.keepFloat());
            for (LayerPattern p : config.keepFloat()) {
                requireMatch(p, names, notes);
                floatPatterns.add(p);
            }
            List<String> quantized = names.stream().filter(n -> !keptFloat(n)).toList();
            for (QuantConfig.BitRule r : config.bitMap()) requireMatchAmong(r.layers(), quantized);
            for (QuantConfig.MethodRule r : config.layerMethods()) requireMatchAmong(r.layers(), quantized);
            if (config.balancing() != null) for (LayerPattern p : config.balancing().layers()) requireMatchAmong(p, quantized);
            if (config.rotation() != null) for (LayerPattern p : config.rotation().layers()) requireMatchAmong(p, quantized);
        }

        boolean keptFloat(String name) {
            return floatPatterns.stream().anyMatch(p -> p.matches(name));
        }

        boolean balanced(String name) {
            List<LayerPattern> ps = config.balancing().layers();
            return ps.isEmpty() || ps.stream().anyMatch(p -> p.matches(name));
        }

        /** Whether the layer is balanced: false when the config has no balancing. */
        boolean balancedIfConfigured(String name) {
            return config.balancing() != null && balanced(name);
        }

        /** Whether the layer is rotated: false when the config has no rotation. */
        boolean rotatedIfConfigured(String name) {
            return config.rotation() != null && rotated(name);
        }

        boolean rotated(String name) {
            List<LayerPattern> ps = config.rotation().layers();
            return ps.isEmpty() || ps.stream().anyMatch(p -> p.matches(name));
        }

        List<BitOverride> overrides(String name) {
            List<BitOverride> out = new ArrayList<>();
            for (QuantConfig.BitRule r : config.bitMap()) {
                if (r.layers().matches(name)) {
                    out.add(new BitOverride(r.weightBits(), r.activationBits(), r.keepFloat(), r.steps(), r.timesteps()));
                }
            }
            return out;
        }

        /**
         * A keep_float pattern must match a Linear; ViDiT-Q's part_fp_list may also name modules that are no Linear
         * here (x_embedder is a convolution), which is only noted.
         */
        private void requireMatch(LayerPattern p, List<String> linears, List<String> notes) {
            if (linears.stream().anyMatch(p::matches)) return;
            if (p.origin().startsWith("part_fp_list")) {
                notes.add(p.origin() + " matches no Linear (not a quantizable layer here)");
                return;
            }
            throw new QuantConfigException(config.source() + ": " + p + " matches no Linear of the model; its Linears are named like "
                    + examples(linears));
        }

        private void requireMatchAmong(LayerPattern p, List<String> quantized) {
            if (quantized.stream().anyMatch(p::matches)) return;
            boolean matchesFloat = names.stream().anyMatch(p::matches);
            throw new QuantConfigException(config.source() + ": " + p + (matchesFloat
                    ? " matches only layers kept in float" : " matches no Linear of the model") + "; quantized layers are named like "
                    + examples(quantized));
        }

        private static String examples(List<String> names) {
            List<String> ex = new ArrayList<>();
            for (int i = 0; i < names.size() && ex.size() < 4; i += Math.max(1, names.size() / 4)) ex.add(names.get(i));
            return String.join(", ", ex) + (names.size() > ex.size() ? ", ..." : "");
        }
    }
}
