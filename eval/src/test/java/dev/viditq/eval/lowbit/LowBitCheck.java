package dev.viditq.eval.lowbit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.quant.HadamardRotation;
import dev.viditq.core.tensor.Tensor;
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
import dev.viditq.quant.lowbit.LowBitWeight;
import dev.viditq.quant.lowbit.LowRankBranch;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;

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
 * dequantized, float GEMMs; the low-rank branch as a float GEMM pair on the same input) before the quantized
 * checkpoint can store them. In one JVM: the float model's samples first, then per setting the model quantized in
 * memory, the same prompts, seeds and batches, PSNR/SSIM against float (pooled and per sample) and caption
 * alignment; one JSON line per setting appended to the output file (a rerun skips the settings already there).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp eval/target/test-classes:cli/target/viditq.jar dev.viditq.eval.lowbit.LowBitCheck \
 *      MODEL CALIBRATION COUNT OUT.jsonl NAME=CONFIG_YAML ...
 * </pre>
 * CONFIG_YAML is a quant config in the docs/QUANT_CONFIG.md schema (its {@code gptq} and {@code low_rank} keys are
 * applied here); "@FILE" reads it from a file. Samples come from the eval split (or, with -Dlowbit.prompts=FILE,
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
        QuantConfig base = new QuantConfig(config.method(), config.weight(), config.activation(), config.balancing(), config.rotation(),
                config.keepFloat(), config.keepFloatDefaults(), config.bitMap(), config.source(), config.notes());
        Map<String, Linear.Executor> previous = new LinkedHashMap<>();
        model.linears().forEach((n, l) -> previous.put(n, l.executor()));
        ObjectNode o = JSON.createObjectNode();
        o.put("setting", name);
        o.put("config", yaml);
        try {
            long t0 = System.nanoTime();
            QuantPlan plan = QuantMethod.of(base.method()).plan(model, calibration, base);
            Map<String, QuantizedLayer> layers = new LinkedHashMap<>();
            Map<String, LowBitWeight> weights = new LinkedHashMap<>();
            long bits = 0, params = 0;
            double proxy = 0;
            for (LayerPlan lp : plan.layers().values()) {
                if (lp.weightBits().size() != 1) throw new IllegalArgumentException(lp.name() + ": one weight width per layer here");
                int b = lp.weightBits().iterator().next();
                LowBitWeight w = LowBitWeight.quantize(model.linears().get(lp.name()).weight(), lp, b, plan.weights(), config.gptq(),
                        config.lowRank(), config.gptq() == null ? null : calibration.hessian(lp.name()));
                weights.put(lp.name(), w);
                layers.put(lp.name(), new QuantizedLayer(lp, Map.of(b, w.weight())));
                bits += w.storedBits();
                params += (long) lp.in() * lp.out();
                if (!Double.isNaN(w.gptqProxyLoss())) proxy += w.gptqProxyLoss();
            }
            new QuantizedModel(plan, layers).install(model, ExecutionMode.SIMULATE, false);
            for (LayerPlan lp : plan.layers().values()) {
                LowRankBranch branch = weights.get(lp.name()).branch();
                Linear l = model.linears().get(lp.name());
                if (branch != null) l.setExecutor(new LowRankExecutor(l.executor(), branch, lp));
            }
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
            o.put("gptq_proxy_loss", proxy);
            o.put("quantize_s", quantizeSeconds);
            o.put("generate_s", run.seconds());
        } finally {
            model.linears().forEach((n, l) -> l.setExecutor(previous.get(n)));
        }
        return o;
    }

    /**
     * The low-rank branch beside a quantized executor, in float: y += L₁·(L₂·x'). The simulation installs without
     * folding, so the layer's input is x and x' = x·T with T = diag(m)·Q; the branch is therefore applied as
     * (x·(L₂·Tᵀ)ᵀ)·L₁ᵀ, L₂·Tᵀ computed once in double from the BF16 factor (exact algebra, float rounding).
     */
    static final class LowRankExecutor implements Linear.Executor {
        private final Linear.Executor inner;
        private final Tensor down;   // [rank, k] = L₂·Tᵀ
        private final Tensor up;     // [n, rank] = L₁
        private final int rank, n;

        LowRankExecutor(Linear.Executor inner, LowRankBranch b, LayerPlan lp) {
            this.inner = inner;
            this.rank = b.rank();
            this.n = b.n();
            int k = b.k();
            double[] t = transform(lp);   // T [k, k]
            float[] d = new float[rank * k];
            for (int a = 0; a < rank; a++) {
                for (int j = 0; j < k; j++) {
                    double s = 0;
                    for (int i = 0; i < k; i++) s += b.l2()[a * k + i] * t[j * k + i];
                    d[a * k + j] = (float) s;
                }
            }
            this.down = Tensor.of(d, rank, k);
            this.up = Tensor.of(b.l1().clone(), n, rank);
        }

        /** T = diag(m)·Q: row j is e_j·m_j rotated. */
        private static double[] transform(LayerPlan lp) {
            int k = lp.in();
            HadamardRotation rotation = lp.rotation() == null ? null : lp.rotation().build(k);
            double[] t = new double[k * k];
            float[] row = new float[k];
            for (int j = 0; j < k; j++) {
                java.util.Arrays.fill(row, 0);
                row[j] = lp.smooth() == null ? 1 : lp.smooth()[j];
                if (rotation != null) rotation.rotate(row, 0);
                for (int i = 0; i < k; i++) t[j * k + i] = row[i];
            }
            return t;
        }

        @Override
        public void forward(Linear layer, Tensor x2d, Tensor out2d) {
            inner.forward(layer, x2d, out2d);
            int rows = x2d.size(0);
            Tensor z = Tensor.zeros(rows, rank), y = Tensor.zeros(rows, n);
            KernelBackend.get().gemm(x2d.data(), rows, down.size(1), down, null, z.data());
            KernelBackend.get().gemm(z.data(), rows, rank, up, null, y.data());
            float[] o = out2d.toFloatArray(), a = y.toFloatArray();
            for (int i = 0; i < o.length; i++) o[i] += a[i];
            java.lang.foreign.MemorySegment.copy(o, 0, out2d.data(), Tensor.F32_LE, 0, o.length);
        }
    }
}
