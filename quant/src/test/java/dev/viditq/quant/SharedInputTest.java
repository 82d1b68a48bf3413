package dev.viditq.quant;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.quant.ActivationTransform;
import dev.viditq.core.kernels.quant.IntKernelBackend;
import dev.viditq.core.kernels.quant.IntKernels;
import dev.viditq.core.kernels.quant.PackedInt4Weight;
import dev.viditq.core.kernels.quant.PackedInt8Weight;
import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.text.Captions;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethods;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.plan.SharedInputGroup;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Linears that read one input (diffusers' to_q / to_k / to_v, a cross-attention's to_k / to_v, Wan I2V's
 * add_k_proj / add_v_proj): planned with one balancing vector, and run with the input quantized once for all of them.
 * On the tiny random models of each family with such Linears (PixArt and Latte in diffusers' layout, Wan 2.1 T2V and
 * I2V): the shared run gives the output of the same layers each quantizing its own input with the same joint vector,
 * while quantizing the input once per group instead of once per member; a folder records the groups and its loader
 * builds them, and a folder without groups (separate vectors) loads and runs each layer on its own.
 */
class SharedInputTest {
    @TempDir
    static Path tmp;

    /** A tiny model folder and what the calibration drives it with (latent side, frames; null: the model's). */
    private record Case(Path dir, Integer latent, Integer frames) {}

    private static List<Case> calibratedCases() {
        return List.of(new Case(GoldenFolder.GOLDEN.resolve("pixart_diffusers"), null, null),
                new Case(GoldenFolder.GOLDEN.resolve("latte_diffusers"), 8, 4),
                new Case(GoldenFolder.named("golden_wan").resolve("wan_transformer"), 8, 3));
    }

    @Test
    void sharedQuantizationGivesTheOutputOfSeparateLayersWithTheJointVector() {
        for (Case c : calibratedCases()) {
            QuantConfig cfg = QuantConfigReader.preset("viditq-w8a8");
            try (Denoiser shared = GoldenModels.load(c.dir()); Denoiser separate = GoldenModels.load(c.dir())) {
                QuantPlan plan = QuantMethods.of(cfg.method()).plan(shared, calibrate(shared, c), cfg);
                assertEquals(names(shared.sharedInputs()), groupNames(plan), c.dir() + ": every group of the model planned as one");
                for (SharedInputGroup g : plan.sharedInputs()) {
                    float[] joint = plan.layers().get(g.layers().getFirst()).smooth();
                    assertNotNull(joint, g.name());
                    for (String l : g.layers()) assertArrayEquals(joint, plan.layers().get(l).smooth(), g.name() + ": one vector for " + l);
                }
                compare(c.dir(), shared, separate, Quantizer.quantize(shared, plan), true);
            }
        }
    }

    /**
     * Wan I2V (its image branch's add_k_proj / add_v_proj as a third group per block), on a method without
     * balancing (rotation only), which needs no calibration: the bare denoiser calibration drives no image states.
     */
    @Test
    void imageBranchOfWanI2vSharesItsQuantizedInput() {
        Path dir = GoldenFolder.named("golden_wan").resolve("wan_transformer_i2v");
        QuantConfig cfg = QuantConfigReader.preset("quarot-w8a8");
        try (Denoiser shared = GoldenModels.load(dir); Denoiser separate = GoldenModels.load(dir)) {
            QuantPlan plan = QuantMethods.of(cfg.method()).plan(shared, null, cfg);
            assertTrue(groupNames(plan).stream().anyMatch(n -> n.contains("{add_k_proj,add_v_proj}")), groupNames(plan).toString());
            assertEquals(names(shared.sharedInputs()), groupNames(plan));
            compare(dir, shared, separate, Quantizer.quantize(shared, plan), false);
        }
    }

    /**
     * {@code q} on {@code shared} against the same layers without the groups on {@code separate}: the same output
     * (the same quantized integers: only float rounding may differ), and Σ (members − 1) fewer quantizations.
     */
    private static void compare(Path dir, Denoiser shared, Denoiser separate, QuantizedModel q, boolean expectFoldedQkv) {
        QuantPlan plan = q.plan();
        QuantizedModel withoutGroups = new QuantizedModel(new QuantPlan(plan.method(), plan.source(), plan.weights(),
                plan.activations(), plan.layers(), plan.notes(), List.of()), q.layers());
        QuantizedModel.Installed a = q.install(shared, ExecutionMode.INTEGER, true);
        QuantizedModel.Installed b = withoutGroups.install(separate, ExecutionMode.INTEGER, true);
        assertEquals(groupNames(plan), List.copyOf(a.sharedInputs()), dir + ": the groups installed");
        assertEquals(a.sharedInputs(), QuantizedModel.sharedInputs(shared));
        assertTrue(b.sharedInputs().isEmpty() && QuantizedModel.sharedInputs(separate).isEmpty());
        assertEquals(a.folded(), b.folded(), "folding does not depend on the groups");
        if (expectFoldedQkv) {
            // one vector for q, k and v: the modulation before them now applies it (it could not with three)
            assertTrue(a.folded().stream().anyMatch(n -> n.endsWith("attn1.to_q")), dir + ": q/k/v folded, got " + a.folded());
        }
        long saved = 0;
        for (SharedInputGroup g : plan.sharedInputs()) saved += g.layers().size() - 1;
        long[] calls = new long[2];
        Tensor outShared = countingQuantizations(() -> forward(shared, dir), calls, 0);
        Tensor outSeparate = countingQuantizations(() -> forward(separate, dir), calls, 1);
        double err = GoldenModels.relErr(outShared, outSeparate);
        System.out.printf("%-20s %-12s %d groups: shared vs separate rel. err %.1e; quantizations %d vs %d%n",
                dir.getFileName(), plan.method(), plan.sharedInputs().size(), err, calls[0], calls[1]);
        assertTrue(err <= 1e-6, dir + ": shared vs separate " + err);
        assertEquals(saved, calls[1] - calls[0], dir + ": each group's input quantized once per forward");
    }

    /** A folder records the groups and its loader builds them; one planned without them loads and runs per layer. */
    @Test
    void foldersRecordTheGroupsAndFoldersWithoutThemStillRun() {
        Case c = calibratedCases().getLast(); // Wan T2V
        Path withGroups = tmp.resolve("wan-shared"), without = tmp.resolve("wan-separate");
        Tensor inMemory;
        Set<String> groups;
        try (Denoiser model = GoldenModels.load(c.dir())) {
            Calibration cal = calibrate(model, c);
            QuantConfig joint = QuantConfigReader.preset("viditq-w8a8");
            QuantConfig own = QuantConfigReader.parse("preset: viditq-w8a8\nshared_inputs: false\n", "separate.yaml", null);
            QuantizedModel q = Quantizer.quantize(model, QuantMethods.of(joint.method()).plan(model, cal, joint));
            QuantizedModel separate = Quantizer.quantize(model, QuantMethods.of(own.method()).plan(model, cal, own));
            assertTrue(separate.plan().sharedInputs().isEmpty());
            LayerPlan q0 = separate.plan().layers().get("blocks.0.attn1.to_q"), k0 = separate.plan().layers().get("blocks.0.attn1.to_k");
            assertFalse(java.util.Arrays.equals(q0.smooth(), k0.smooth()), "planned on their own, q and k get their own vectors");
            QuantizedCheckpoint.write(c.dir(), q, withGroups, false);
            QuantizedCheckpoint.write(c.dir(), separate, without, false);
            groups = q.install(model, ExecutionMode.INTEGER, true).sharedInputs();
            inMemory = forward(model, c.dir());
        }
        try (Denoiser loaded = GoldenModels.load(withGroups)) {
            assertEquals(groups, QuantizedModel.sharedInputs(loaded));
            assertTrue(GoldenModels.relErr(forward(loaded, c.dir()), inMemory) <= 1e-6);
        }
        try (Denoiser loaded = GoldenModels.load(without); Denoiser reference = GoldenModels.load(c.dir())) {
            assertTrue(QuantizedModel.sharedInputs(loaded).isEmpty(), "no groups recorded: none built");
            assertTrue(QuantizedModel.foldedLayers(loaded).stream().noneMatch(n -> n.contains("attn1")), "three vectors: not folded");
            Tensor out = forward(loaded, c.dir()), ref = forward(reference, c.dir());
            double err = GoldenModels.relErr(out, ref);
            assertTrue(err < 0.1, "separate vectors still run: error against float " + err);
        }
    }

    /** A recorded group whose members would quantize differently is refused by name. */
    @Test
    void aGroupWhoseMembersDifferIsRefused() {
        Case c = calibratedCases().getFirst();
        try (Denoiser model = GoldenModels.load(c.dir())) {
            QuantConfig cfg = QuantConfigReader.parse("preset: viditq-w8a8\nshared_inputs: false\n", "separate.yaml", null);
            QuantPlan own = QuantMethods.of(cfg.method()).plan(model, calibrate(model, c), cfg);
            SharedInput g = model.sharedInputs().getFirst();
            QuantPlan forged = new QuantPlan(own.method(), own.source(), own.weights(), own.activations(), own.layers(), own.notes(),
                    List.of(new SharedInputGroup(g.name(), g.memberNames())));
            QuantizedModel q = Quantizer.quantize(model, forged);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.install(model, ExecutionMode.INTEGER, true));
            assertTrue(e.getMessage().contains(g.name()) && e.getMessage().contains("differ"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static final Map<Case, Calibration> CALIBRATIONS = new LinkedHashMap<>();

    /** Two steps of one random caption (and a zero negative), cached per case. */
    private static Calibration calibrate(Denoiser model, Case c) {
        return CALIBRATIONS.computeIfAbsent(c, k -> {
            int width = model.info().captionChannels();
            var caption = new Captions(new SeededGaussian(3).next(1, 6, width), null);
            var negative = new Captions(Tensor.zeros(1, 6, width), null);
            var driver = new DenoiserDriver(model, List.of(new DenoiserDriver.Caption(caption, negative, "random caption")),
                    model.info().family().bareDenoiserSampler(), 2, 4.0, 7, c.latent(), c.frames(), GuidedModel.Batching.BATCHED);
            return Calibrator.run(driver, tmp.resolve(c.dir().getFileName() + ".calib.safetensors"), Calibrator.Progress.NONE);
        });
    }

    /** The model on its golden case's inputs (either naming: x / t or hidden_states / timestep). */
    private static Tensor forward(Denoiser model, Path caseDir) {
        try (TensorFile io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            Tensor x = (io.contains("x") ? io.get("x") : io.get("hidden_states")).copy();
            Tensor t = (io.contains("t") ? io.get("t") : io.get("timestep")).copy();
            Conditioning cond = Conditioning.caption(io.get("encoder_hidden_states").copy(),
                    io.contains("encoder_attention_mask") ? io.get("encoder_attention_mask").copy() : null);
            if (io.contains("encoder_hidden_states_image")) cond = cond.withImageStates(io.get("encoder_hidden_states_image").copy());
            return model.forward(x, t, cond);
        }
    }

    /** Runs {@code body} with the integer kernels counting their activation quantizations into {@code calls[slot]}. */
    private static Tensor countingQuantizations(java.util.function.Supplier<Tensor> body, long[] calls, int slot) {
        IntKernels inner = IntKernelBackend.get();
        AtomicLong count = new AtomicLong();
        IntKernelBackend.set(new IntKernels() {
            @Override
            public String name() {
                return inner.name();
            }

            @Override
            public void quantize(MemorySegment x, int rows, int k, ActivationTransform transform, QuantizedActivations out) {
                count.incrementAndGet();
                inner.quantize(x, rows, k, transform, out);
            }

            @Override
            public void gemmW8A8(QuantizedActivations x, PackedInt8Weight w, MemorySegment bias, MemorySegment out) {
                inner.gemmW8A8(x, w, bias, out);
            }

            @Override
            public void gemmW4A8(QuantizedActivations x, PackedInt4Weight w, MemorySegment bias, MemorySegment out) {
                inner.gemmW4A8(x, w, bias, out);
            }
        });
        try {
            return body.get();
        } finally {
            IntKernelBackend.set(inner);
            calls[slot] = count.get();
        }
    }

    private static List<String> names(List<SharedInput> groups) {
        List<String> out = new ArrayList<>();
        for (SharedInput g : groups) out.add(g.name());
        return out;
    }

    private static List<String> groupNames(QuantPlan plan) {
        List<String> out = new ArrayList<>();
        for (SharedInputGroup g : plan.sharedInputs()) out.add(g.name());
        return out;
    }
}
