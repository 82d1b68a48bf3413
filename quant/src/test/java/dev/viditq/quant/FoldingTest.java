package dev.viditq.quant;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.text.Captions;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.viditq.nn.layers.Linear;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Balancing folded into the adaLN modulation (attn.qkv, mlp.fc1) against the same plan with the multiply in the
 * quantizer: the same outputs up to float rounding, on the integer kernels and simulated; and simulation still agrees
 * with integer execution when folded. DiT (its own adaLN linear), PixArt and STDiT (adaLN-single table + t_block).
 */
class FoldingTest {
    @TempDir
    static Path tmp;
    static final Map<Path, Calibration> CALIBRATION = new LinkedHashMap<>();

    @BeforeAll
    static void calibrate() {
        for (Path dir : new Path[]{GoldenModels.dit(), GoldenModels.pixart(), GoldenModels.stdit()}) {
            try (Denoiser m = GoldenModels.load(dir)) {
                CALIBRATION.put(dir, GoldenModels.calibrate(m, dir, 1, tmp.resolve(dir.getFileName() + ".safetensors")));
            }
        }
    }

    private static QuantizedModel quantize(Denoiser model, Path dir, QuantConfig cfg) {
        return Quantizer.quantize(model, QuantMethods.of(cfg.method()).plan(model, CALIBRATION.get(dir), cfg));
    }

    /**
     * Layer by layer, on the inputs of the unfolded run: each folded layer given x ⊙ m (what its modulation now
     * produces) against the unfolded layer given x. The same integers up to float rounding, except where a rounding
     * tie of the activation quantizer falls the other way (one value moves one step: up to ~1e-3 for a layer).
     * End to end such a flip is amplified by the later quantized layers, so there only "well below the error of
     * quantization" is asked.
     */
    @Test
    void foldedAgreesWithUnfolded() {
        for (Path dir : CALIBRATION.keySet()) {
            for (String preset : new String[]{"smoothquant-w8a8", "viditq-w8a8", "viditq-w4a8"}) {
                for (ExecutionMode mode : ExecutionMode.values()) {
                    QuantConfig cfg = QuantConfigReader.preset(preset);
                    try (Denoiser model = GoldenModels.load(dir); Denoiser twin = GoldenModels.load(dir)) {
                        Tensor reference = GoldenModels.forward(model, dir);
                        QuantizedModel q = quantize(model, dir, cfg);
                        assertTrue(q.install(model, mode, false).folded().isEmpty());
                        for (InputScaling s : model.inputScalings()) assertNull(s.scale(), "nothing folded");
                        Set<String> folded = q.install(twin, mode, true).folded();
                        assertEquals(twin.inputScalings().size(), folded.size(),
                                dir.getFileName() + " " + preset + ": every qkv and fc1 folded, got " + folded);
                        assertEquals(folded, QuantizedModel.foldedLayers(twin));
                        String what = dir.getFileName() + " " + preset + " " + mode;
                        Tensor unfolded = GoldenModels.forward(model, dir), withFold = GoldenModels.forward(twin, dir);
                        double endToEnd = GoldenModels.relErr(withFold, unfolded), quantError = GoldenModels.relErr(unfolded, reference);
                        assertTrue(endToEnd < quantError / 2, what + ": end to end " + endToEnd + ", quantization error " + quantError);
                        List<Double> errors = compareLayers(q, model, twin, folded, dir);
                        double median = errors.get(errors.size() / 2), worst = errors.getLast();
                        System.out.printf("%-16s %-16s %-8s folded vs unfolded: layers median %.1e worst %.1e; end to end %.1e (quantization error %.1e)%n",
                                dir.getFileName(), preset, mode, median, worst, endToEnd, quantError);
                        assertTrue(median < 1e-6 && worst < 2e-3, what + ": median " + median + ", worst " + worst);
                    }
                }
            }
        }
    }

    /** Per call of every folded layer: relErr(folded executor on x ⊙ m, unfolded executor on x), sorted. */
    private static List<Double> compareLayers(QuantizedModel q, Denoiser model, Denoiser twin, Set<String> folded, Path dir) {
        List<Double> errors = new ArrayList<>();
        for (String name : folded) {
            Linear l = model.linears().get(name);
            Linear.Executor plain = l.executor(), withFold = twin.linears().get(name).executor();
            float[] m = q.plan().layers().get(name).smooth();
            l.setExecutor((layer, x, out) -> {
                plain.forward(layer, x, out);
                Tensor scaled = x.copy();
                int k = layer.inFeatures();
                for (long i = 0; i < scaled.numel(); i++) scaled.setFloat(i, scaled.getFloat(i) * m[(int) (i % k)]);
                Tensor other = Tensor.zeros(out.shape());
                withFold.forward(layer, scaled, other);
                errors.add(GoldenModels.relErr(other, out));
            });
        }
        GoldenModels.forward(model, dir);
        errors.sort(null);
        return errors;
    }

    /** The folded plan simulated in float against the same plan on the integer kernels, layer by layer. */
    @Test
    void simulatedAgreesWithIntegerWhenFolded() {
        for (Path dir : CALIBRATION.keySet()) {
            QuantConfig cfg = QuantConfigReader.preset("viditq-w8a8");
            try (Denoiser model = GoldenModels.load(dir); Denoiser twin = GoldenModels.load(dir)) {
                QuantizedModel q = quantize(model, dir, cfg);
                assertTrue(!q.install(model, ExecutionMode.INTEGER, true).folded().isEmpty());
                assertEquals(QuantizedModel.foldedLayers(model), q.install(twin, ExecutionMode.SIMULATE, true).folded());
                List<Double> errors = new ArrayList<>();
                for (String name : q.layers().keySet()) {
                    Linear l = model.linears().get(name);
                    Linear.Executor integer = l.executor(), simulated = twin.linears().get(name).executor();
                    l.setExecutor((layer, x, out) -> {
                        integer.forward(layer, x, out);
                        Tensor sim = Tensor.zeros(out.shape());
                        simulated.forward(layer, x, sim);
                        errors.add(GoldenModels.relErr(sim, out));
                    });
                }
                GoldenModels.forward(model, dir);
                errors.sort(null);
                double median = errors.get(errors.size() / 2), worst = errors.getLast();
                System.out.printf("%-16s integer vs simulated, folded: layers median %.1e worst %.1e%n", dir.getFileName(), median, worst);
                assertTrue(median < 1e-6 && worst < 2e-3, dir.getFileName() + ": median " + median + ", worst " + worst);
            }
        }
    }

    /** Not folded: layers with float steps, layers without balancing; a loaded checkpoint folds like the model. */
    @Test
    void foldsOnlyWhereTheAlgebraAllows() {
        Path dir = GoldenModels.pixart();
        QuantConfig cfg = QuantConfigReader.parse("""
                preset: viditq-w8a8
                balancing: {alpha: 0.75, layers: ['blocks\\.\\d+\\.(attn\\.qkv|mlp\\.fc[12])']}
                bit_map: [{layers: 'blocks\\.0\\.mlp\\.fc1', float: true, steps: [0, 1]}]
                """, "fold.yaml", null);
        Path out = tmp.resolve("pixart-fold");
        try (Denoiser model = GoldenModels.load(dir)) {
            QuantizedModel q = quantize(model, dir, cfg);
            Set<String> folded = q.install(model, ExecutionMode.INTEGER, true).folded();
            assertTrue(folded.contains("blocks.0.attn.qkv") && folded.contains("blocks.1.mlp.fc1"), folded.toString());
            assertTrue(!folded.contains("blocks.0.mlp.fc1"), "a layer with a float step is not folded");
            assertTrue(folded.stream().noneMatch(n -> n.contains("fc2") || n.contains("cross_attn")), folded.toString());
            QuantizedCheckpoint.write(dir, q, out, false);
        }
        try (Denoiser loaded = GoldenModels.load(out)) {
            Set<String> folded = QuantizedModel.foldedLayers(loaded);
            assertTrue(folded.contains("blocks.0.attn.qkv") && !folded.contains("blocks.0.mlp.fc1"), folded.toString());
        }
        // diffusers' to_q / to_k / to_v read the same modulated input: with one joint vector (a shared input) they fold;
        // planned on their own (shared_inputs: false), three vectors: fused into each quantizer, not folded
        Path diffusers = GoldenFolder.GOLDEN.resolve("pixart_diffusers");
        try (Denoiser model = GoldenModels.load(diffusers)) {
            var caption = new Captions(new SeededGaussian(3).next(1, 6, 48), null);
            var negative = new Captions(Tensor.zeros(1, 6, 48), null);
            var driver = new DenoiserDriver(model, List.of(new DenoiserDriver.Caption(
                    caption, negative, "random caption")), model.info().family().bareDenoiserSampler(), 2, 4.0, 7,
                    null, null, GuidedModel.Batching.BATCHED);
            Calibration cal = Calibrator.run(driver, tmp.resolve("pixart_diffusers.safetensors"),
                    Calibrator.Progress.NONE);
            QuantConfig w8 = QuantConfigReader.preset("viditq-w8a8");
            QuantizedModel q = Quantizer.quantize(model, QuantMethods.of(w8.method()).plan(model, cal, w8));
            Set<String> folded = q.install(model, ExecutionMode.INTEGER, true).folded();
            assertTrue(folded.contains("transformer_blocks.0.ff.net.0.proj"), folded.toString());
            assertTrue(folded.containsAll(List.of("transformer_blocks.0.attn1.to_q", "transformer_blocks.0.attn1.to_k",
                    "transformer_blocks.0.attn1.to_v")), folded.toString());
            QuantConfig own = QuantConfigReader.parse("preset: viditq-w8a8\nshared_inputs: false\n", "own.yaml", null);
            QuantizedModel separate = Quantizer.quantize(model, QuantMethods.of(own.method()).plan(model, cal, own));
            folded = separate.install(model, ExecutionMode.INTEGER, true).folded();
            assertTrue(folded.contains("transformer_blocks.0.ff.net.0.proj"), folded.toString());
            assertTrue(folded.stream().noneMatch(n -> n.contains("attn1")), folded.toString());
        }
    }
}
