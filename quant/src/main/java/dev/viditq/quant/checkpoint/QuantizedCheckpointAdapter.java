package dev.viditq.quant.checkpoint;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.QuantizedLinearsView;
import dev.viditq.nn.models.CheckpointAdapter;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.Folding;
import dev.viditq.quant.runtime.QuantizedModel;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes {@link dev.viditq.nn.models.ModelLoader} load quantized checkpoints (registered in META-INF/services): it opens
 * the checkpoint once ({@link QuantizedCheckpointReader}: plan and checksums parsed), hands the family builder a view
 * without the quantization tensors in which each quantized Linear is declared by its shape
 * ({@link QuantizedLinearsView}), and installs the quantized executors on the model built from it — integer
 * kernels, or simulated with {@code -Dviditq.quant.mode=simulate}.
 */
public final class QuantizedCheckpointAdapter implements CheckpointAdapter {
    @Override
    public boolean accepts(TensorFile file) {
        return file.metadata().containsKey(QuantizedCheckpointReader.METADATA_KEY);
    }

    @Override
    public Loading open(TensorFile file) {
        QuantizedCheckpointReader reader = QuantizedCheckpointReader.open(file);
        ModelView view = new ModelView(file, reader.plan());
        return new Loading() {
            @Override
            public TensorFile modelView() {
                return view;
            }

            @Override
            public void install(Denoiser model) {
                installAndReport(reader, model);
            }
        };
    }

    private static void installAndReport(QuantizedCheckpointReader reader, Denoiser model) {
        ExecutionMode mode = ExecutionMode.fromEnvironment();
        QuantPlan plan = reader.plan();
        QuantizedModel.Installed installed = reader.install(model, mode, Folding.enabledFromEnvironment());
        System.err.printf("[viditq] quantized model (%s, %d layers): %s%s%s%n", plan.method(), plan.layers().size(),
                mode == ExecutionMode.SIMULATE ? "simulated in float (viditq.quant.mode=simulate)"
                        : "integer kernels " + IntKernelBackend.description()
                        + String.format(", %.1f MiB packed", installed.packedBytes() / 1048576.0),
                installed.folded().isEmpty() ? "" : "; balancing of " + installed.folded().size() + " folded into the adaLN modulation",
                installed.sharedInputs().isEmpty() ? "" : "; " + installed.sharedInputs().size() + " shared inputs quantized once for their Linears");
    }

    /**
     * The checkpoint as the family builder must see it: the float model's key space (the quantization tensors hidden,
     * every quantized layer's {@code .weight} listed), each quantized layer declared with its shape, and a tensor under
     * {@code .weight} only when the plan keeps the float weight.
     */
    private static final class ModelView implements QuantizedLinearsView {
        private final TensorFile file;
        private final Map<String, QuantizedLinear> quantized = new LinkedHashMap<>();
        private final Set<String> names = new LinkedHashSet<>();

        ModelView(TensorFile file, QuantPlan plan) {
            this.file = file;
            for (String n : file.names()) if (!QuantizedTensors.EXTRA.matcher(n).matches()) names.add(n);
            for (LayerPlan l : plan.layers().values()) {
                String weight = l.name() + ".weight";
                quantized.put(l.name(), new QuantizedLinear(l.out(), l.in(), file.contains(weight)));
                names.add(weight);
            }
        }

        @Override
        public QuantizedLinear quantized(String key) {
            return quantized.get(key);
        }

        @Override public Path path() { return file.path(); }
        @Override public Set<String> names() { return Collections.unmodifiableSet(names); }
        @Override public Map<String, String> metadata() { return file.metadata(); }

        @Override
        public Tensor get(String name) {
            if (!names.contains(name)) throw new CheckpointException(file.path(), "no tensor named '" + name + "'");
            if (!file.contains(name)) {
                throw new CheckpointException(file.path(), "'" + name + "' is stored quantized only (no float tensor); its layer runs on the quantized executor");
            }
            return file.get(name);
        }

        @Override
        public void close() {
            file.close();
        }
    }
}
