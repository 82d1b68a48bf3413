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
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
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

    @Override
    public void install(Denoiser model, TensorFile file) {
        QuantizedModel q = read(file);
        ExecutionMode mode = ExecutionMode.fromEnvironment();
        long bytes = q.install(model, mode);
        System.err.printf("[viditq] quantized model (%s, %d layers): %s%n", q.plan().method(), q.layers().size(),
                mode == ExecutionMode.SIMULATE ? "simulated in float (viditq.quant.mode=simulate)"
                        : "integer kernels " + IntKernelBackend.description() + String.format(", %.1f MiB packed", bytes / 1048576.0));
    }

    /** The plan of a quantized checkpoint, with its vectors checked. */
    public static QuantPlan plan(TensorFile file) {
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
        Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers().values()) {
            Map<Integer, QuantizedWeight> weights = new LinkedHashMap<>();
            for (int bits : lp.weightBits()) weights.put(bits, weight(file, lp, bits, plan));
            layers.put(lp.name(), new QuantizedLayer(lp, weights));
        }
        return new QuantizedModel(plan, layers);
    }

    private static QuantizedWeight weight(TensorFile file, LayerPlan lp, int bits, QuantPlan plan) {
        Path path = file.path();
        String qName = QuantizedTensors.q(lp.name(), bits);
        Tensor q = need(file, qName);
        DType expected = bits <= 4 ? DType.I4 : DType.I8;
        if (q.dtype() != expected || !Arrays.equals(q.shape(), new long[]{lp.out(), lp.in()})) {
            throw CheckpointException.tensor(path, qName, "is " + q.dtype() + " " + QuantizedCheckpoint.shape(q) + "; the plan says "
                    + bits + "-bit weights " + expected + " [" + lp.out() + ", " + lp.in() + "]");
        }
        int groupSize = plan.weights().granularity() == dev.viditq.quant.config.QuantConfig.WeightGranularity.GROUP
                ? Math.min(plan.weights().groupSize(), lp.in()) : lp.in();
        int groups = Math.ceilDiv(lp.in(), groupSize);
        long[] scaleShape = {lp.out(), groups};
        Tensor scale = need(file, QuantizedTensors.scale(lp.name(), bits));
        if (scale.dtype() != DType.F32 || !Arrays.equals(scale.shape(), scaleShape)) {
            throw CheckpointException.tensor(path, QuantizedTensors.scale(lp.name(), bits), "is " + scale.dtype() + " "
                    + QuantizedCheckpoint.shape(scale) + " but its weights " + QuantizedCheckpoint.shape(q) + " need F32 "
                    + Arrays.toString(scaleShape) + " scales");
        }
        byte[] zeros = null;
        String zName = QuantizedTensors.zero(lp.name(), bits);
        if (!plan.weights().symmetric()) {
            Tensor z = need(file, zName);
            if (z.dtype() != DType.I8 || !Arrays.equals(z.shape(), scaleShape)) {
                throw CheckpointException.tensor(path, zName, "is " + z.dtype() + " " + QuantizedCheckpoint.shape(z)
                        + " but its weights " + QuantizedCheckpoint.shape(q) + " need I8 " + Arrays.toString(scaleShape) + " zero points");
            }
            zeros = QuantizedTensors.decode(z);
        } else if (file.contains(zName)) {
            throw CheckpointException.tensor(path, zName, "exists but the plan says the weights are symmetric");
        }
        try {
            return new QuantizedWeight(bits, lp.out(), lp.in(), groupSize, QuantizedTensors.decode(q), scale.toFloatArray(), zeros);
        } catch (IllegalArgumentException e) {
            throw CheckpointException.tensor(path, qName, "does not hold valid " + bits + "-bit weights: " + e.getMessage());
        }
    }

    private static Tensor need(TensorFile file, String name) {
        if (!file.contains(name)) throw CheckpointException.tensor(file.path(), name, "is missing from the quantized checkpoint");
        return file.get(name);
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
