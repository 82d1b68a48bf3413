package dev.viditq.cli;

import dev.viditq.quant.method.QuantMethods;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.TensorFile;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.ModelIdentity;
import dev.viditq.quant.checkpoint.FolderSeal;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true, description = {
        "Post-training quantization: applies a method (naive, smoothquant, quarot, viditq) to a float model and writes "
                + "a quantized model folder — the same layout, the denoiser checkpoint holding packed INT8/INT4 weights, "
                + "scales, zero points, balancing vectors, rotation seeds and the plan. generate, forward and eval load it "
                + "like any model folder and run the quantized Linears on the integer kernels "
                + "(--simulate: simulated in float instead).",
        "Config: a YAML file (docs/QUANT_CONFIG.md; ViDiT-Q's released configs are accepted) or a preset, e.g. "
                + "viditq-w8a8, viditq-gptq-w8a8, viditq-w4a8, viditq-gptq-w4a8-g64 (docs/QUANT_CONFIG.md lists them all; "
                + "an unknown name is refused with the list).",
        "Examples:",
        "  ./viditq quantize --model assets/models/shapes-t2i --preset viditq-w8a8 --calibration shapes-t2i.calib.safetensors --out shapes-t2i-w8a8",
        "  ./viditq quantize --model models/pixart --config my.yaml --calibration pixart.calib.safetensors --out pixart-w4a8"})
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Float model folder.")
    Path model;

    static final class Recipe {
        @Option(names = "--config", description = "Quantization config (YAML).")
        Path config;

        @Option(names = "--preset", description = "A named config (see above).")
        String preset;

        @Option(names = "--plan", description = "A mixed-precision plan from ./viditq search (a config file: same as --config).")
        Path plan;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Recipe recipe;

    @Option(names = "--calibration", description = "Calibration file from ./viditq calibrate (needed for balancing and static ranges).")
    Path calibration;

    @Option(names = "--out", required = true, description = "Output model folder (must not exist, unless --force).")
    Path out;

    @Option(names = "--json", description = "Print a JSON summary on stdout.")
    boolean json;

    @Override
    public Integer call() {
        long start = System.nanoTime();
        SafeOutput.checkFolder(out, OutputPolicy.force, true);
        if (Files.exists(out) && !OutputPolicy.force) throw new IllegalArgumentException(out + ": already exists; remove it or pass --force to replace it");
        Path configFile = recipe.config != null ? recipe.config : recipe.plan;
        QuantConfig config = configFile != null ? QuantConfigReader.read(configFile) : QuantConfigReader.preset(recipe.preset);
        for (String note : config.notes()) System.err.println("note: " + note);
        ModelFolder folder = ModelFolder.resolve(model);
        Calibration cal = calibration == null ? null : Calibration.read(calibration);
        QuantizedCheckpoint.Written written;
        QuantizedModel quantized;
        long floatParams, floatBytes, sourceBytes;
        try (Denoiser denoiser = ModelLoader.load(folder.denoiser())) {
            if (denoiser.linears().values().stream().anyMatch(l -> l.storage().isQuantized())) {
                throw new IllegalArgumentException(model + ": this model is already quantized; quantize the float model");
            }
            if (cal == null && config.needsCalibration()) {
                throw new IllegalArgumentException(config.source() + " needs calibration statistics "
                        + (config.activation().dynamic() ? "(balancing)" : "(static activation ranges)")
                        + ": give --calibration FILE, made by ./viditq calibrate --model " + model);
            }
            if (cal != null) cal.model().checkSameModel(ModelIdentity.of(denoiser), cal.describe()); // even when unused
            QuantPlan plan = QuantMethods.of(config.method()).plan(denoiser, config.needsCalibration() ? cal : null, config);
            quantized = Quantizer.quantize(denoiser, plan, cal);
            written = QuantizedCheckpoint.write(model, quantized, out, OutputPolicy.force);
            long[] sizes = checkpointSizes(folder);
            floatParams = sizes[0];
            floatBytes = sizes[1];
            sourceBytes = sizes[2];
        }
        report(config, quantized, written, floatParams, floatBytes, sourceBytes, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** {parameters, bytes as stored, bytes of the checkpoint file} of the source checkpoint. */
    private static long[] checkpointSizes(ModelFolder folder) {
        Path file = Checkpoints.findIn(folder.denoiser());
        long params = 0, bytes = 0;
        try (TensorFile f = Checkpoints.open(file)) {
            for (String n : f.names()) {
                params += f.get(n).numel();
                bytes += f.get(n).byteSize();
            }
        }
        try {
            return new long[]{params, bytes, java.nio.file.Files.size(file)};
        } catch (java.io.IOException e) {
            return new long[]{params, bytes, bytes};
        }
    }

    private void report(QuantConfig config, QuantizedModel q, QuantizedCheckpoint.Written w, long params, long floatBytes,
                        long sourceBytes, double seconds) {
        Map<String, Integer> byPrecision = new TreeMap<>();
        for (LayerPlan l : q.plan().layers().values()) {
            String key = l.possiblePrecisions().stream().map(Object::toString).reduce((a, b) -> a + "+" + b).orElse("?");
            byPrecision.merge(key, 1, Integer::sum);
        }
        long bf16 = params * 2;
        double ratio = (double) w.checkpointBytes() / bf16;
        String seal = FolderSeal.sealOf(w.folder());
        if (json) {
            ObjectNode o = Json.object();
            o.put("out", w.folder().toString());
            o.put("checkpoint", w.checkpoint().toString());
            o.put("seal", seal);
            o.put("method", q.plan().method());
            o.put("config", config.source());
            o.put("quantized_layers", q.layers().size());
            ObjectNode p = o.putObject("precisions");
            byPrecision.forEach(p::put);
            o.put("checkpoint_bytes", w.checkpointBytes());
            o.put("source_checkpoint_bytes", sourceBytes);
            o.put("parameters", params);
            o.put("bf16_bytes", bf16);
            o.put("ratio_to_bf16", ratio);
            o.put("packed_weight_bytes", q.storedWeightBytes());
            o.put("stored_bits_per_weight", q.storedBitsPerWeight());
            ArrayNode notes = o.putArray("notes");
            q.plan().notes().forEach(notes::add);
            o.put("seconds", seconds);
            Json.print(o);
        } else {
            System.err.printf("quantized %d layers with %s (%s): %s%n", q.layers().size(), q.plan().method(), config.source(), byPrecision);
            q.plan().notes().stream().filter(n -> !config.notes().contains(n)).forEach(n -> System.err.println("note: " + n));
            System.err.printf("wrote %s: checkpoint %s, %.2f of the BF16 size %s (source checkpoint %s) in %.1f s%n",
                    w.folder(), human(w.checkpointBytes()), ratio, human(bf16), human(sourceBytes), seconds);
            System.err.println("sealed: " + seal + " (" + FolderSeal.FILE + "; printed again at every load)");
        }
    }

    private static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1 << 20) return String.format("%.1f KiB", bytes / 1024.0);
        if (bytes < 1L << 30) return String.format("%.1f MiB", bytes / 1048576.0);
        return String.format("%.2f GiB", bytes / (double) (1L << 30));
    }
}
