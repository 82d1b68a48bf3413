package dev.viditq.quant.config;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.util.List;

/**
 * A quantization recipe, as read from YAML ({@link QuantConfigReader}, schema in docs/QUANT_CONFIG.md) or a named
 * preset ({@link Presets}). It says what to do to every Linear of a model, by name; the model is not needed to read
 * it, only to {@link ConfigValidator validate} it.
 *
 * @param method     how activations and weights are prepared before quantization
 * @param weight     weight bits and grouping (the default of every quantized layer)
 * @param activation activation bits, granularity, static or dynamic
 * @param balancing  static channel balancing (SmoothQuant / ViDiT-Q), or null for none
 * @param rotation   randomized Hadamard rotation of the layer inputs, or null for none
 * @param keepFloat  patterns of layers kept in floating point, in addition to the family defaults when
 *                   {@code keepFloatDefaults}
 * @param keepFloatDefaults keep the layers the reference keeps in float (embedders, adaLN, final layer)
 * @param bitMap     per-layer (and per step range) overrides of the bits, applied in order, later rules winning
 * @param source     where the config came from (file or preset name), for messages
 * @param notes      keys of the reference configs that were accepted but have no effect, or changed meaning
 * @param gptq       GPTQ error compensation of the weights, or null for round-to-nearest
 * @param lowRank    a BF16 low-rank branch beside the quantized weight (SVDQuant), or null for none
 * @param layerMethods per-layer overrides of the weight method (grouping, GPTQ, low-rank rank), in order, later
 *                   rules winning key by key; they hold for all steps
 * @param sharedInputs Linears that read one input (diffusers' to_q / to_k / to_v, a cross-attention's to_k / to_v)
 *                   are planned as one: a joint balancing vector, their input quantized once at run time; false: each
 *                   on its own (what folders made before this existed hold)
 */
public record QuantConfig(Method method, WeightSpec weight, ActivationSpec activation, Balancing balancing,
                          Rotation rotation, List<LayerPattern> keepFloat, boolean keepFloatDefaults,
                          List<BitRule> bitMap, String source, List<String> notes, Gptq gptq, LowRank lowRank,
                          List<MethodRule> layerMethods, boolean sharedInputs) {
    public QuantConfig {
        keepFloat = List.copyOf(keepFloat);
        bitMap = List.copyOf(bitMap);
        notes = List.copyOf(notes);
        layerMethods = List.copyOf(layerMethods);
    }

    /** A config whose weight method is the same for every layer (and shared inputs planned as one). */
    public QuantConfig(Method method, WeightSpec weight, ActivationSpec activation, Balancing balancing,
                       Rotation rotation, List<LayerPattern> keepFloat, boolean keepFloatDefaults,
                       List<BitRule> bitMap, String source, List<String> notes, Gptq gptq, LowRank lowRank) {
        this(method, weight, activation, balancing, rotation, keepFloat, keepFloatDefaults, bitMap, source, notes, gptq, lowRank, List.of());
    }

    /** A config whose Linears reading one input are planned as one ({@link #sharedInputs()} true). */
    public QuantConfig(Method method, WeightSpec weight, ActivationSpec activation, Balancing balancing,
                       Rotation rotation, List<LayerPattern> keepFloat, boolean keepFloatDefaults,
                       List<BitRule> bitMap, String source, List<String> notes, Gptq gptq, LowRank lowRank,
                       List<MethodRule> layerMethods) {
        this(method, weight, activation, balancing, rotation, keepFloat, keepFloatDefaults, bitMap, source, notes, gptq, lowRank,
                layerMethods, true);
    }

    /** A config with round-to-nearest weights and no low-rank branch. */
    public QuantConfig(Method method, WeightSpec weight, ActivationSpec activation, Balancing balancing,
                       Rotation rotation, List<LayerPattern> keepFloat, boolean keepFloatDefaults,
                       List<BitRule> bitMap, String source, List<String> notes) {
        this(method, weight, activation, balancing, rotation, keepFloat, keepFloatDefaults, bitMap, source, notes, null, null);
    }

    /** The four post-training quantization methods. */
    public enum Method {
        /** Plain min/max PTQ: no balancing, no rotation; usually static per-tensor activation ranges. */
        NAIVE,
        /** SmoothQuant: per-channel balancing s_j = max|X_j|^α / max|W_j|^(1−α), no rotation. */
        SMOOTHQUANT,
        /** QuaRot: randomized Hadamard rotation only, per-token dynamic activations. */
        QUAROT,
        /** ViDiT-Q: per-token dynamic activations, static balancing (weight exponent α) then Hadamard rotation. */
        VIDITQ;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How weights are grouped for their scales. */
    public enum WeightGranularity { TENSOR, CHANNEL, GROUP }

    /** How activations are grouped for their scales. */
    public enum ActivationGranularity { TOKEN, TENSOR }

    /**
     * How weight scales are stored. BF16 halves what a scale costs (on groups of 64: 0.25 instead of 0.5 bits per
     * weight); the quantizers round each scale to it before choosing the integers, so what is stored dequantizes to
     * exactly what they computed. The kernels take the scales widened to F32 either way.
     */
    public enum ScaleType {
        F32(DType.F32), BF16(DType.BF16);

        private final DType dtype;

        ScaleType(DType dtype) {
            this.dtype = dtype;
        }

        /** The dtype of the stored scale tensors. */
        public DType dtype() {
            return dtype;
        }

        /** Stored bits of one scale. */
        public int bits() {
            return (int) dtype.byteSize(1) * 8;
        }

        /** {@code scale} as this type holds it (BF16: rounded to nearest, ties to even). */
        public float round(float scale) {
            return this == F32 ? scale : Tensor.bf16ToFloat(Tensor.floatToBf16(scale));
        }
    }

    /**
     * @param bits      2..8; 5–8 run on the int8 kernel (values stored in int8 containers), 2–4 on the int4 kernel
     * @param symmetric absmax (zero point 0) or min/max with a zero point (ViDiT-Q's released configs)
     * @param groupSize inputs per scale with {@link WeightGranularity#GROUP} (a multiple of 8, 4-bit weights only)
     * @param scaleType how every weight scale of the model is stored (all bit widths of the bit map)
     */
    public record WeightSpec(int bits, boolean symmetric, WeightGranularity granularity, int groupSize, ScaleType scaleType) {
        public WeightSpec {
            if (scaleType == null) throw new IllegalArgumentException("weight scale type must be given");
        }

        /** Weights with F32 scales. */
        public WeightSpec(int bits, boolean symmetric, WeightGranularity granularity, int groupSize) {
            this(bits, symmetric, granularity, groupSize, ScaleType.F32);
        }

        /**
         * The same weights (bits, symmetry, scale type) with {@code groupSize} inputs per scale, 0 meaning one scale
         * per output channel: how a layer's own grouping is derived from the model's, so that the scale type, which
         * holds for the whole model, is never lost on the way.
         */
        public WeightSpec withGroupSize(int groupSize) {
            return new WeightSpec(bits, symmetric, groupSize == 0 ? WeightGranularity.CHANNEL : WeightGranularity.GROUP, groupSize, scaleType);
        }
    }

    /**
     * Activations are always quantized symmetrically (the integer kernels take no activation zero point).
     *
     * @param bits         2..8; 8 runs the fused native quantizer, fewer bits clamp to ±(2^(bits−1) − 1)
     * @param dynamic      scales computed at run time from the data, or fixed by calibration
     * @param perTimestep  static ranges: one set per calibrated step (nearest timestep at run time)
     * @param cfgSplit     static ranges: separate ranges for the conditional and unconditional CFG halves
     */
    public record ActivationSpec(int bits, ActivationGranularity granularity, boolean dynamic, boolean perTimestep,
                                 boolean cfgSplit) {}

    /**
     * @param alpha  the exponent of the method's formula (SmoothQuant: of the activation maximum; ViDiT-Q: of the
     *               weight maximum — see docs/QUANT_CONFIG.md)
     * @param layers which quantized layers are balanced; empty = all of them
     */
    public record Balancing(double alpha, List<LayerPattern> layers) {
        public Balancing {
            layers = List.copyOf(layers);
        }
    }

    /**
     * @param seed   seed of the random ±1 signs (see {@link dev.viditq.core.kernels.quant.HadamardRotation})
     * @param block  Hadamard block size (block-diagonal rotation, cheaper online), or 0 for the full input size
     * @param layers which quantized layers are rotated; empty = all of them (whose input size has a Hadamard order)
     */
    public record Rotation(long seed, int block, List<LayerPattern> layers) {
        public Rotation {
            layers = List.copyOf(layers);
        }
    }

    /**
     * One entry of the bit map: for the layers matching {@code layers} and the steps in range (all steps when both
     * ranges are null), use these bits, or keep the layer in float when {@code keepFloat}.
     *
     * @param weightBits     null: unchanged
     * @param activationBits null: unchanged
     * @param steps          sampling step indices [first, end), or null
     * @param timesteps      model times [low, high] inclusive (0..1000 scale), or null
     */
    public record BitRule(LayerPattern layers, Integer weightBits, Integer activationBits, boolean keepFloat,
                          int[] steps, double[] timesteps, String origin) {
        /** True when the rule holds for every step (no range). */
        public boolean allSteps() {
            return steps == null && timesteps == null;
        }
    }

    /**
     * GPTQ (Frantar et al. 2022): each layer's weight is quantized column by column against H = XᵀX of its
     * calibration inputs in the transformed (balanced, rotated) basis, the rounding error of each column spread over
     * the columns not yet quantized. The stored format is that of round-to-nearest.
     *
     * @param damp      λ = damp · mean(diag H) is added to the diagonal before the Cholesky factorisation
     * @param actOrder  quantize columns in order of decreasing H_jj (with groups: the groups' scales are fixed
     *                  from the weight before any update, "static groups", so groups stay contiguous inputs)
     * @param blockSize columns per lazy-batch block (a multiple of the group size is used with groups)
     */
    public record Gptq(double damp, boolean actOrder, int blockSize) {
        public static final double DEFAULT_DAMP = 0.01;
        public static final int DEFAULT_BLOCK_SIZE = 128;
    }

    /**
     * SVDQuant's low-rank branch (Li et al. 2024): the transformed weight W' = L₁L₂ + R with L₁ [out, rank] and
     * L₂ [rank, in] its leading singular factors rounded to BF16, and R = W' − L₁L₂ quantized (with GPTQ when
     * that is on). At run time y = Q(R)·x' + L₁(L₂x').
     */
    public record LowRank(int rank) {}

    /**
     * One {@code layer_methods} rule: for the layers matching {@code layers}, the weight method keys it gives (null:
     * unchanged). Mixed-precision plans use it to give each layer group its own method.
     *
     * @param groupSize inputs per scale (0: one scale per output channel), or null
     * @param gptq      GPTQ on ({@link Gptq}) or off ({@link #GPTQ_OFF}), or null
     * @param lowRank   rank of the low-rank branch (0: none), or null
     */
    public record MethodRule(LayerPattern layers, Integer groupSize, Gptq gptq, Integer lowRank, String origin) {
        /** Marks a rule that turns GPTQ off (round-to-nearest). */
        public static final Gptq GPTQ_OFF = new Gptq(0, false, 0);

        public boolean gptqOff() {
            return gptq == GPTQ_OFF;
        }
    }

    /** True when any static activation range is needed (so calibration is). */
    public boolean needsCalibration() {
        return !activation.dynamic() || balancing != null || usesGptq();
    }

    /** True when some layer's weights are quantized by GPTQ (so the calibration needs input Hessians). */
    public boolean usesGptq() {
        return gptq != null || layerMethods.stream().anyMatch(r -> r.gptq() != null && !r.gptqOff());
    }
}
