package dev.viditq.quant.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.CheckpointAdapter;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.PlanJson;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.Folding;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes {@link dev.viditq.nn.models.ModelLoader} load quantized checkpoints (registered in META-INF/services): the
 * family builder sees the float tensors plus, under each quantized layer's {@code .weight} key, its integer weights
 * (same shape, so the layout checks hold); then the plan is read, every scale checked against its weights, and the
 * quantized executors installed — integer kernels, or simulated with {@code -Dviditq.quant.mode=simulate}.
 */
public final class QuantizedCheckpointAdapter implements CheckpointAdapter {
    @Override
    public boolean accepts(TensorFile file) {
        return file.metadata().containsKey(QuantizedCheckpoint.METADATA_KEY);
    }

    @Override
    public TensorFile modelView(TensorFile file) {
        return new ModelView(file, plan(file));
    }

    /**
     * Integer mode packs each layer straight from the mapped checkpoint and releases the pages it read, one layer
     * at a time: what stays resident is the packed weights (plus the float layers), not a heap copy of the integers
     * beside the mapping. Simulated mode dequantizes to F32 through {@link #read}.
     */
    @Override
    public void install(Denoiser model, TensorFile file) {
        ExecutionMode mode = ExecutionMode.fromEnvironment();
        boolean fold = Folding.enabledFromEnvironment();
        QuantPlan plan = plan(file);
        QuantizedModel.Installed installed = mode == ExecutionMode.SIMULATE
                ? read(file).install(model, mode, fold)
                : QuantizedModel.installPacked(model, plan, packedFrom(file, plan), fold);
        System.err.printf("[viditq] quantized model (%s, %d layers): %s%s%n", plan.method(), plan.layers().size(),
                mode == ExecutionMode.SIMULATE ? "simulated in float (viditq.quant.mode=simulate)"
                        : "integer kernels " + IntKernelBackend.description()
                        + String.format(", %.1f MiB packed", installed.packedBytes() / 1048576.0),
                installed.folded().isEmpty() ? "" : "; balancing of " + installed.folded().size() + " folded into the adaLN modulation");
    }

    /** Packs a layer's weights from the file, after checking its tensors and their checksum. */
    private static QuantizedModel.PackedSource packedFrom(TensorFile file, QuantPlan plan) {
        Map<String, String> checksums = QuantizedCheckpoint.checksums(file);
        Set<String> verified = new HashSet<>();
        return (lp, bits) -> {
            StoredWeight w = StoredWeight.read(file, lp, bits, plan);
            if (verified.add(lp.name())) verify(file, lp, plan, checksums);
            return w.pack();
        };
    }

    private static void verify(TensorFile file, LayerPlan lp, QuantPlan plan, Map<String, String> checksums) {
        if (checksums.isEmpty()) return; // written before checksums existed
        String expected = checksums.get(lp.name());
        if (expected == null) throw new CheckpointException(file.path(), "quantized layer " + lp.name() + " has no checksum in the metadata");
        LayerChecksums.verify(file, lp, plan.weights().symmetric(), expected);
    }

    /** The plan of a quantized checkpoint, with its vectors checked, once the folder's seal is verified. */
    public static QuantPlan plan(TensorFile file) {
        FolderSeal.verify(file);
        JsonNode planJson = QuantizedCheckpoint.planJson(file);
        if (planJson == null) throw new CheckpointException(file.path(), "is not a quantized checkpoint");
        try {
            return PlanJson.fromJson(planJson, new StoredVectors(file));
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new CheckpointException(file.path(), "its quantization plan is malformed: " + e.getMessage(), e);
        }
    }

    /** The plan and quantized weights of a quantized checkpoint, every tensor checked against the plan. */
    public static QuantizedModel read(TensorFile file) {
        QuantPlan plan = plan(file);
        Map<String, String> checksums = QuantizedCheckpoint.checksums(file);
        Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers().values()) {
            Map<Integer, QuantizedWeight> weights = new LinkedHashMap<>();
            for (int bits : lp.weightBits()) weights.put(bits, StoredWeight.read(file, lp, bits, plan).decode());
            verify(file, lp, plan, checksums);
            layers.put(lp.name(), new QuantizedLayer(lp, weights));
        }
        return new QuantizedModel(plan, layers);
    }

    private static Tensor need(TensorFile file, String name) {
        return StoredWeight.need(file, name);
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
                throw CheckpointException.tensor(file.path(), name, "is " + t.dtype() + " " + QuantizedCheckpoint.shape(t)
                        + ", the plan needs F32 [" + n + "]");
            }
            return t.toFloatArray();
        }
    }

    /**
     * The checkpoint as the family builder must see it: the quantization tensors hidden, and each quantized layer
     * without a stored float weight answering {@code L.weight} with its integer weights (same [out, in] shape).
     */
    private static final class ModelView implements TensorFile {
        private final TensorFile file;
        private final Map<String, String> aliases = new LinkedHashMap<>();
        private final Set<String> names = new LinkedHashSet<>();

        ModelView(TensorFile file, QuantPlan plan) {
            this.file = file;
            for (LayerPlan l : plan.layers().values()) {
                String key = l.name() + ".weight";
                if (!file.contains(key)) aliases.put(key, QuantizedTensors.q(l.name(), l.weightBits().iterator().next()));
            }
            for (String n : file.names()) if (!QuantizedTensors.EXTRA.matcher(n).matches()) names.add(n);
            names.addAll(aliases.keySet());
        }

        @Override public Path path() { return file.path(); }
        @Override public Set<String> names() { return Collections.unmodifiableSet(names); }
        @Override public Map<String, String> metadata() { return file.metadata(); }

        @Override
        public Tensor get(String name) {
            if (!names.contains(name)) throw new CheckpointException(file.path(), "no tensor named '" + name + "'");
            return file.get(aliases.getOrDefault(name, name));
        }

        @Override
        public void close() {
            file.close();
        }
    }
}
