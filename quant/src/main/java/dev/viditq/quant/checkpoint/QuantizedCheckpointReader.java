package dev.viditq.quant.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.PlanJson;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An open quantized checkpoint: its plan (with the balancing vectors and static ranges, shape-checked) and its
 * per-layer checksums are parsed once, when it is opened; each layer's weights are then read on demand as
 * {@link QuantizedWeight}s over the file's (memory-mapped) tensors — the scale and zero-point tensors checked
 * against the plan here, the values by {@link QuantizedWeight} itself, the layer's tensors against their checksum
 * the first time the layer is read. {@link #install} packs layer after layer for the integer kernels, so that only
 * the packed weights stay resident; {@link #read} gives every layer, for simulation and export.
 */
public final class QuantizedCheckpointReader {
    /** The metadata key under which the checkpoint holds {@code {format, plan, checksums}} as JSON. */
    static final String METADATA_KEY = "viditq.quantization";
    /** The version of the layout this build reads and writes. */
    static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TensorFile file;
    private final QuantPlan plan;
    private final Map<String, String> checksums;
    private final Set<String> verified = new HashSet<>();

    private QuantizedCheckpointReader(TensorFile file, QuantPlan plan, Map<String, String> checksums) {
        this.file = file;
        this.plan = plan;
        this.checksums = checksums;
    }

    /** Parses the plan and checksums of a quantized checkpoint; the file stays the caller's. */
    public static QuantizedCheckpointReader open(TensorFile file) {
        FolderSeal.verify(file); // before anything of the file is trusted: the plan, the checksums, the tensors
        JsonNode metadata = metadata(file);
        Map<String, String> checksums = new LinkedHashMap<>(); // empty for checkpoints written before checksums existed
        metadata.path("checksums").properties().forEach(e -> checksums.put(e.getKey(), e.getValue().asText()));
        return new QuantizedCheckpointReader(file, plan(file, metadata.get("plan")), checksums);
    }

    /** The quantization metadata of {@code file}, its format checked. */
    private static JsonNode metadata(TensorFile file) {
        String meta = file.metadata().get(METADATA_KEY);
        if (meta == null) throw new CheckpointException(file.path(), "is not a quantized checkpoint");
        JsonNode o;
        try {
            o = JSON.readTree(meta);
        } catch (IOException e) {
            throw new CheckpointException(file.path(), "its quantization metadata is not valid JSON: " + e.getMessage(), e);
        }
        if (o.path("format").asInt() != FORMAT) {
            throw new CheckpointException(file.path(), "quantized checkpoint format " + o.path("format") + ", this build reads " + FORMAT);
        }
        return o;
    }

    public QuantPlan plan() {
        return plan;
    }

    /**
     * The weights of layer {@code lp} at {@code bits}, checked: the scale and zero-point tensors' dtype and shape
     * against the plan, every value ({@link QuantizedWeight}), and, on the layer's first read, its checksum.
     */
    public QuantizedWeight weight(LayerPlan lp, int bits) {
        String qName = QuantizedTensors.q(lp.name(), bits);
        Tensor q = need(file, qName);
        QuantConfig.WeightSpec spec = plan.weightsOf(lp);
        int groupSize = spec.granularity() == QuantConfig.WeightGranularity.GROUP ? Math.min(spec.groupSize(), lp.in()) : lp.in();
        long[] perGroup = {lp.out(), Math.ceilDiv(lp.in(), groupSize)};
        Tensor scale = need(file, QuantizedTensors.scale(lp.name(), bits));
        QuantConfig.ScaleType scaleType = plan.weights().scaleType();
        if (scale.dtype() != scaleType.dtype() || !Arrays.equals(scale.shape(), perGroup)) {
            throw CheckpointException.tensor(file.path(), QuantizedTensors.scale(lp.name(), bits), "is " + describe(scale)
                    + " but its weights " + shape(q) + " need " + scaleType.dtype() + " " + Arrays.toString(perGroup)
                    + " scales (the plan's weight scale_dtype)");
        }
        byte[] zeros = zeros(lp, bits, q, perGroup);
        QuantizedWeight w;
        try {
            // BF16 scales are widened to F32 here, exactly: the kernels take F32 scales
            w = new QuantizedWeight(bits, lp.out(), lp.in(), groupSize, q, scale.toFloatArray(), zeros, scaleType);
        } catch (IllegalArgumentException e) {
            throw CheckpointException.tensor(file.path(), qName, "does not hold valid " + bits + "-bit weights: " + e.getMessage());
        }
        firstRead(lp);
        return w;
    }

    /**
     * The low-rank branch of layer {@code lp} (null when its plan has none), its factors checked BF16 [out, rank] and
     * [rank, in] as the plan states, and, on the layer's first read, its checksum.
     */
    public LowRankBranch branch(LayerPlan lp) {
        if (!lp.hasLowRank()) return null;
        float[] l1 = factor(QuantizedTensors.lowRankUp(lp.name()), lp.out(), lp.lowRank());
        float[] l2 = factor(QuantizedTensors.lowRankDown(lp.name()), lp.lowRank(), lp.in());
        firstRead(lp);
        return new LowRankBranch(lp.out(), lp.in(), lp.lowRank(), l1, l2);
    }

    /**
     * On a layer's first read: the dtype and shape of its low-rank factors (so a malformed tensor is named as such,
     * not only as a checksum difference), then its checksum.
     */
    private void firstRead(LayerPlan lp) {
        if (!verified.add(lp.name())) return;
        if (lp.hasLowRank()) {
            factor(QuantizedTensors.lowRankUp(lp.name()), lp.out(), lp.lowRank());
            factor(QuantizedTensors.lowRankDown(lp.name()), lp.lowRank(), lp.in());
        }
        verifyChecksum(lp);
    }

    private float[] factor(String name, int rows, int cols) {
        Tensor t = need(file, name);
        if (t.dtype() != DType.BF16 || !Arrays.equals(t.shape(), new long[]{rows, cols})) {
            throw CheckpointException.tensor(file.path(), name, "is " + describe(t) + ", the plan's low-rank branch needs BF16 ["
                    + rows + ", " + cols + "]");
        }
        return t.toFloatArray();
    }

    /** The zero points of an asymmetric plan (checked I8 [out, groups]); null, and no tensor, for a symmetric one. */
    private byte[] zeros(LayerPlan lp, int bits, Tensor q, long[] perGroup) {
        String zName = QuantizedTensors.zero(lp.name(), bits);
        if (plan.weights().symmetric()) {
            if (file.contains(zName)) throw CheckpointException.tensor(file.path(), zName, "exists but the plan says the weights are symmetric");
            return null;
        }
        Tensor z = need(file, zName);
        if (z.dtype() != DType.I8 || !Arrays.equals(z.shape(), perGroup)) {
            throw CheckpointException.tensor(file.path(), zName, "is " + describe(z) + " but its weights " + shape(q)
                    + " need I8 " + Arrays.toString(perGroup) + " zero points");
        }
        return z.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    private void verifyChecksum(LayerPlan lp) {
        if (checksums.isEmpty()) return; // written before checksums existed
        String expected = checksums.get(lp.name());
        if (expected == null) throw new CheckpointException(file.path(), "quantized layer " + lp.name() + " has no checksum in the metadata");
        LayerChecksums.verify(file, lp, plan.weights().symmetric(), expected);
    }

    /** Every layer at every bit width of the plan, each checked (the values stay in the file's mapping). */
    public QuantizedModel read() {
        Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers().values()) {
            Map<Integer, QuantizedWeight> weights = new LinkedHashMap<>();
            for (int bits : lp.weightBits()) weights.put(bits, weight(lp, bits));
            layers.put(lp.name(), new QuantizedLayer(lp, weights, branch(lp)));
        }
        return new QuantizedModel(plan, layers);
    }

    /**
     * Installs the plan's executors on {@code model}. Integer mode packs each layer straight from the mapped
     * checkpoint and releases the pages it read, one layer at a time: what stays resident is the packed weights (plus
     * the float layers), not a copy of the integers beside the mapping. Simulated mode dequantizes to F32.
     */
    public QuantizedModel.Installed install(Denoiser model, ExecutionMode mode, boolean fold) {
        if (mode == ExecutionMode.SIMULATE) return read().install(model, mode, fold);
        return QuantizedModel.installPacked(model, plan, new QuantizedModel.PackedSource() {
            @Override
            public dev.viditq.core.kernels.quant.PackedWeight pack(LayerPlan lp, int bits) {
                return weight(lp, bits).pack();
            }

            @Override
            public LowRankBranch branch(LayerPlan lp) {
                return QuantizedCheckpointReader.this.branch(lp);
            }
        }, fold);
    }

    /** The plan of a quantized checkpoint, with its vectors checked. */
    private static QuantPlan plan(TensorFile file, JsonNode planJson) {
        if (planJson == null) throw new CheckpointException(file.path(), "its quantization metadata has no plan");
        try {
            return PlanJson.fromJson(planJson, new StoredVectors(file));
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CheckpointException(file.path(), "its quantization plan is malformed: " + e.getMessage(), e);
        }
    }

    static Tensor need(TensorFile file, String name) {
        if (!file.contains(name)) throw CheckpointException.tensor(file.path(), name, "is missing from the quantized checkpoint");
        return file.get(name);
    }

    private static String describe(Tensor t) {
        return t.dtype() + " " + shape(t);
    }

    private static String shape(Tensor t) {
        return Arrays.toString(t.shape());
    }

    /** The balancing vectors and static ranges of the plan, read from their tensors with shape checks. */
    private record StoredVectors(TensorFile file) implements PlanJson.Vectors {
        @Override
        public float[] smooth(String layer, int in) {
            return vector(QuantizedTensors.smooth(layer), in);
        }

        @Override
        public float[] ranges(String layer, int count) {
            return vector(QuantizedTensors.actRange(layer), count);
        }

        private float[] vector(String name, int n) {
            Tensor t = need(file, name);
            if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), new long[]{n})) {
                throw CheckpointException.tensor(file.path(), name, "is " + describe(t) + ", the plan needs F32 [" + n + "]");
            }
            return t.toFloatArray();
        }
    }
}
