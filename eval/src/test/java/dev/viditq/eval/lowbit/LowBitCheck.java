package dev.viditq.eval.lowbit;

import dev.viditq.quant.method.QuantMethods;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.run.BatchGenerator;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.EvalPrompts;
import dev.viditq.eval.run.EvalSettings;
import dev.viditq.eval.run.FidelityScores;
import dev.viditq.eval.run.Forks;
import dev.viditq.eval.run.Recipe;
import dev.viditq.eval.run.ShapesScores;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GenerationPipeline;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures 4-bit settings with GPTQ and the low-rank branch in the quantize-dequantize simulation (what
 * {@code -Dviditq.quant.mode=simulate} runs: activations transformed and fake-quantized per token, weights
 * dequantized, float GEMMs; the low-rank branch as a float GEMM pair on the same input), quantized in memory exactly as
 * {@code quantize} does, without writing folders. In one JVM: the float model's samples first, then per setting the model quantized in
 * memory, the same prompts, seeds and batches, PSNR/SSIM against float (pooled and per sample) and caption
 * alignment; one JSON line per setting appended to the output file (a rerun skips the settings already there).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp eval/target/test-classes:cli/target/viditq.jar dev.viditq.eval.lowbit.LowBitCheck \
 *      MODEL CALIBRATION COUNT OUT.jsonl NAME=CONFIG_YAML ...
 * </pre>
 * CONFIG_YAML is a quant config in the docs/QUANT_CONFIG.md schema; "@FILE" reads it from a file. Samples come from the eval split (or, with -Dlowbit.prompts=FILE,
 * from a caption file).
 */
public final class LowBitCheck {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]);
        Calibration calibration = Calibration.read(Path.of(args[1]));
        int count = Integer.parseInt(args[2]);
        Path out = Path.of(args[3]);
        Map<String, String> settings = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            String yaml = args[i].substring(eq + 1);
            settings.put(args[i].substring(0, eq), yaml.startsWith("@") ? Files.readString(Path.of(yaml.substring(1))) : yaml);
        }
        List<String> done = doneSettings(out);
        try (GenerationPipeline pipeline = GenerationPipeline.load(model)) {
            Kind kind = pipeline.info().video() ? Kind.VIDEO : Kind.IMAGE;
            String promptFile = System.getProperty("lowbit.prompts");
            List<EvalPrompt> prompts = promptFile != null ? EvalPrompts.file(Path.of(promptFile), count, kind)
                    : EvalPrompts.shapes(kind, Split.EVAL, count);
            EvalSettings es = new EvalSettings(null, null, null, 0, 8).withDefaults(Recipe.of(model));
            BatchGenerator.Run reference = BatchGenerator.generate(pipeline, prompts, es, "float", BatchGenerator.Progress.NONE);
            ShapesScores floatScores = prompts.getFirst().hasTruth() ? ShapesScores.of(reference.samples()) : null;
            Denoiser denoiser = pipeline.model();
            for (Map.Entry<String, String> s : settings.entrySet()) {
                if (done.contains(s.getKey())) continue;
                ObjectNode line = measure(s.getKey(), s.getValue(), denoiser, calibration, pipeline, prompts, es, reference, floatScores);
                line.put("model", model.toString());
                line.put("count", count);
                Files.writeString(out, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                System.out.println(line);
            }
        }
    }

    private static List<String> doneSettings(Path out) throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.exists(out)) return names;
        for (String l : Files.readAllLines(out)) if (!l.isBlank()) names.add(JSON.readTree(l).get("setting").asText());
        return names;
    }

    private static ObjectNode measure(String name, String yaml, Denoiser model, Calibration calibration, GenerationPipeline pipeline,
                                      List<EvalPrompt> prompts, EvalSettings es, BatchGenerator.Run reference, ShapesScores floatScores) {
        QuantConfig config = QuantConfigReader.parse(yaml, name, null);
        Map<String, Linear.Executor> previous = new LinkedHashMap<>();
        model.linears().forEach((n, l) -> previous.put(n, l.executor()));
        ObjectNode o = JSON.createObjectNode();
        o.put("setting", name);
        o.put("config", yaml);
        try {
            long t0 = System.nanoTime();
            QuantPlan plan = QuantMethods.of(config.method()).plan(model, calibration, config);
            QuantizedModel quantized = Quantizer.quantize(model, plan, calibration);
            long params = 0;
            for (LayerPlan lp : plan.layers().values()) {
                if (lp.weightBits().size() != 1) throw new IllegalArgumentException(lp.name() + ": one weight width per layer here");
                params += (long) lp.in() * lp.out();
            }
            long bits = quantized.storedWeightBytes() * 8;
            quantized.install(model, ExecutionMode.SIMULATE, false);
            double quantizeSeconds = (System.nanoTime() - t0) / 1e9;
            BatchGenerator.Run run = BatchGenerator.generate(pipeline, prompts, es, name, BatchGenerator.Progress.NONE);
            FidelityScores f = FidelityScores.of(reference.samples(), run.samples());
            o.put("bits_per_weight", (double) bits / params);
            o.put("quantized_params", params);
            o.put("psnr", f.psnr());
            o.put("ssim", f.ssim());
            ShapesScores scores = floatScores == null ? null : ShapesScores.of(run.samples());
            Forks.put(o, f, Forks.of(f, run.samples(), scores, floatScores));
            if (scores != null) {
                o.put("alignment", scores.alignment());
                o.put("float_alignment", floatScores.alignment());
                if (scores.temporal() != null) o.put("motion_accuracy", scores.motionAccuracy());
            }
            o.put("quantize_s", quantizeSeconds);
            o.put("generate_s", run.seconds());
        } finally {
            model.linears().forEach((n, l) -> l.setExecutor(previous.get(n)));
        }
        return o;
    }
}
