package dev.viditq.quant;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.nn.layers.WeightStorage;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.nn.sampling.StepContext;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantize → run → compare with float, and the checkpoint round trip, on the golden DiT and PixArt models. */
class QuantizeEndToEndTest {
    @TempDir
    static Path tmp;
    static Calibration ditCalibration;
    static Calibration pixartCalibration;
    static Calibration stditCalibration;

    @BeforeAll
    static void calibrate() {
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit()); Denoiser pixart = GoldenModels.load(GoldenModels.pixart());
             Denoiser stdit = GoldenModels.load(GoldenModels.stdit())) {
            ditCalibration = GoldenModels.calibrate(dit, GoldenModels.dit(), 3, tmp.resolve("dit.calib.safetensors"));
            // with input Hessians (GPTQ); the other settings read only its statistics
            pixartCalibration = GoldenModels.calibrate(pixart, GoldenModels.pixart(), 2, tmp.resolve("pixart.calib.safetensors"), true);
            stditCalibration = GoldenModels.calibrate(stdit, GoldenModels.stdit(), 2, tmp.resolve("stdit.calib.safetensors"));
        }
    }

    /** Relative error of the integer-quantized model against the float model on the golden inputs. */
    static double quantizedError(Path caseDir, Calibration cal, String preset) {
        return quantizedError(caseDir, cal, QuantConfigReader.preset(preset), ExecutionMode.INTEGER);
    }

    static double quantizedError(Path caseDir, Calibration cal, QuantConfig cfg, ExecutionMode mode) {
        try (Denoiser model = GoldenModels.load(caseDir)) {
            Tensor reference = GoldenModels.forward(model, caseDir);
            QuantPlan plan = QuantMethods.of(cfg.method()).plan(model, cal, cfg);
            QuantizedModel q = Quantizer.quantize(model, plan, cal);
            q.install(model, mode);
            return GoldenModels.relErr(GoldenModels.forward(model, caseDir), reference);
        }
    }

    @Test
    void viditqW8A8IsCloseToFloat() {
        double dit = quantizedError(GoldenModels.dit(), ditCalibration, "viditq-w8a8");
        double pixart = quantizedError(GoldenModels.pixart(), pixartCalibration, "viditq-w8a8");
        double stdit = quantizedError(GoldenModels.stdit(), stditCalibration, "viditq-w8a8");
        System.out.printf("viditq-w8a8 rel err: dit %.3e, pixart %.3e, stdit %.3e%n", dit, pixart, stdit);
        assertTrue(dit < 2e-2, "dit " + dit);
        assertTrue(pixart < 2e-2, "pixart " + pixart);
        assertTrue(stdit < 2e-2, "stdit (video, temporal attention) " + stdit);
    }

    /**
     * GPTQ and the low-rank branch through the whole path (plan, quantize, integer kernels and the branch beside them)
     * on the golden PixArt: each lowers the W4A8 error of round-to-nearest, and the integer run agrees with the
     * simulated one (the branch adds the same float GEMMs to both).
     */
    @Test
    void gptqAndLowRankLowerTheW4A8Error() {
        Path pixart = GoldenModels.pixart();
        double rtn = quantizedError(pixart, pixartCalibration, "viditq-w4a8");
        double gptq = quantizedError(pixart, pixartCalibration, QuantConfigReader.parse("preset: viditq-w4a8\ngptq: true", "gptq", null),
                ExecutionMode.INTEGER);
        QuantConfig both = QuantConfigReader.parse("preset: viditq-w4a8\ngptq: true\nlow_rank: {rank: 8}", "lr-gptq", null);
        double lowRank = quantizedError(pixart, pixartCalibration, both, ExecutionMode.INTEGER);
        double simulated = quantizedError(pixart, pixartCalibration, both, ExecutionMode.SIMULATE);
        System.out.printf("golden pixart W4A8 rel err: round-to-nearest %.3e, GPTQ %.3e, + low-rank r 8 %.3e (simulated %.3e)%n",
                rtn, gptq, lowRank, simulated);
        assertTrue(gptq < 0.9 * rtn, "GPTQ " + gptq + " vs round-to-nearest " + rtn);
        assertTrue(lowRank < gptq, "low-rank + GPTQ " + lowRank + " vs GPTQ " + gptq);
        assertEquals(simulated, lowRank, 0.1 * simulated, "integer and simulated runs of the same weights");
    }

    /**
     * An MLP's GELU computed by its first linear (in the integer GEMM's epilogue; after the low-rank branch when the
     * layer has one; in a pass of its own when simulated) gives the bits of the same model whose executors leave the
     * GELU to a pass after the GEMM.
     */
    @ParameterizedTest
    @ValueSource(strings = {"viditq-w8a8", "viditq-w4a8", "viditq-w4a8 low_rank", "viditq-w8a8 simulated"})
    void mlpActivationInTheGemmGivesTheBitsOfItsOwnPass(String setting) {
        String[] parts = setting.split(" ");
        QuantConfig cfg = QuantConfigReader.parse("preset: " + parts[0] + (setting.contains("low_rank") ? "\nlow_rank: {rank: 4}" : ""),
                setting, null);
        ExecutionMode mode = setting.contains("simulated") ? ExecutionMode.SIMULATE : ExecutionMode.INTEGER;
        try (Denoiser fused = GoldenModels.load(GoldenModels.pixart()); Denoiser passes = GoldenModels.load(GoldenModels.pixart())) {
            QuantizedModel q = Quantizer.quantize(fused, QuantMethods.of(cfg.method()).plan(fused, pixartCalibration, cfg), pixartCalibration);
            q.install(fused, mode);
            q.install(passes, mode);
            for (Linear l : passes.linears().values()) l.setExecutor(new GemmOnly(l.executor()));
            Tensor a = GoldenModels.forward(fused, GoldenModels.pixart()), b = GoldenModels.forward(passes, GoldenModels.pixart());
            float[] x = a.toFloatArray(), y = b.toFloatArray();
            for (int i = 0; i < x.length; i++) assertEquals(Float.floatToIntBits(y[i]), Float.floatToIntBits(x[i]), setting + " at " + i);
        }
    }

    /** An executor's GEMM alone: {@link Linear.Executor}'s default then runs an MLP's activation as a pass of its own. */
    private record GemmOnly(Linear.Executor inner) implements Linear.Executor {
        @Override
        public void forward(Linear layer, Tensor x2d, Tensor out2d) {
            inner.forward(layer, x2d, out2d);
        }

        @Override
        public boolean writesEveryOutput() {
            return inner.writesEveryOutput();
        }
    }

    /**
     * Quantize, save, load: the loaded model gives the same outputs as the quantized model in memory (to float
     * rounding: the float layers' Vector API reductions may round differently once the JIT has compiled them),
     * for a dynamic preset, for static ranges per timestep and CFG half, for a bit map with step ranges and
     * float steps (forward passes inside a sampling-step context at an early and a late timestep), and for the low-bit
     * methods: GPTQ in activation order with a low-rank branch and a W8 step range, grouped GPTQ (F32 and BF16 scales),
     * a branch on 6-bit activations (its float-input path), and layers of different methods in one plan (layer_methods),
     * also with BF16 scales (every layer's scales stored in the plan's one scale type).
     */
    @ParameterizedTest
    @ValueSource(strings = {"preset: viditq-w4a8",
            "preset: naive-w8a8\nactivation: {per_timestep: true, cfg_split: true}",
            "preset: viditq-w4a8\nbit_map: [{layers: '.*mlp.*', weight_bits: 8}, {layers: '.*', weight_bits: 8, timesteps: [750, 1000]},"
                    + " {layers: 'blocks\\.1\\.mlp\\.fc2', float: true, steps: [1, 2]}]",
            "preset: viditq-w4a8\ngptq: {act_order: true}\nlow_rank: {rank: 4}\nbit_map: [{layers: '.*', weight_bits: 8, timesteps: [750, 1000]}]",
            "preset: viditq-w4a8\nweight: {granularity: group, group_size: 32}\ngptq: true",
            "preset: viditq-w4a8\nweight: {granularity: group, group_size: 32, scale_dtype: bf16}\ngptq: {act_order: true}",
            "preset: svdquant-w4a8\nactivation: {bits: 6}\nlow_rank: {rank: 4}", MethodPlanTest.MIXED,
            MethodPlanTest.MIXED + "weight: {scale_dtype: bf16}\n"})
    void checkpointRoundTripGivesIdenticalOutputs(String yaml) {
        QuantConfig cfg = QuantConfigReader.parse(yaml, "round-trip", null);
        Path out = tmp.resolve("pixart-" + Integer.toHexString(yaml.hashCode()));
        List<float[]> inMemory;
        QuantPlan plan;
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            QuantizedModel q = Quantizer.quantize(model, QuantMethods.of(cfg.method()).plan(model, pixartCalibration, cfg), pixartCalibration);
            plan = q.plan();
            QuantizedCheckpoint.write(GoldenModels.pixart(), q, out, false);
            q.install(model, ExecutionMode.INTEGER);
            inMemory = stepOutputs(model);
        }
        try (Denoiser loaded = GoldenModels.load(out)) {
            // the loaded Linears hold no integer tensor: quantized ones keep a float weight only for float steps
            for (Linear l : loaded.linears().values()) {
                LayerPlan lp = plan.layers().get(l.name());
                WeightStorage expected = lp == null ? WeightStorage.FLOAT
                        : lp.needsFloatWeight() ? WeightStorage.QUANTIZED_WITH_FLOAT : WeightStorage.QUANTIZED;
                assertEquals(expected, l.storage(), l.name());
                if (expected.hasFloatWeight()) assertTrue(l.weight().dtype().isFloating(), l.name());
                else assertThrows(IllegalStateException.class, l::weight, l.name());
            }
            List<float[]> reloaded = stepOutputs(loaded);
            for (int i = 0; i < inMemory.size(); i++) {
                double err = GoldenModels.relErr(Tensor.of(reloaded.get(i), reloaded.get(i).length), Tensor.of(inMemory.get(i), inMemory.get(i).length));
                assertTrue(err < 1e-5, "pass " + i + ": " + err);
            }
        }
    }

    /** Forward passes outside a sampling loop, and at steps 0, 1 and 3 of 4 (timesteps 900, 600, 100). */
    private static List<float[]> stepOutputs(Denoiser model) {
        List<float[]> out = new ArrayList<>();
        out.add(GoldenModels.forward(model, GoldenModels.pixart()).toFloatArray());
        double[] times = {900, 600, 300, 100};
        for (int step : new int[]{0, 1, 3}) {
            StepContext ctx = new StepContext(step, 4, times[step], StepContext.CfgHalf.BATCH_COND_FIRST);
            out.add(StepContext.callWith(ctx, () -> GoldenModels.forward(model, GoldenModels.pixart()).toFloatArray()));
        }
        return out;
    }
}
