package dev.viditq.quant;

import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.pipeline.GuidedModel;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.calib.CalibrationDriver;
import dev.viditq.quant.calib.Calibrator;
import dev.viditq.quant.calib.DenoiserDriver;
import dev.viditq.quant.calib.LayerStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Calibration statistics, the file round trip, and resuming an interrupted run. */
class CalibrationTest {
    @TempDir
    Path tmp;

    /** Wraps a driver: counts the prompts it runs and fails on one of them (an interruption). */
    static final class Flaky implements CalibrationDriver {
        final CalibrationDriver inner;
        final int failAt;
        final List<Integer> ran = new ArrayList<>();

        Flaky(CalibrationDriver inner, int failAt) {
            this.inner = inner;
            this.failAt = failAt;
        }

        @Override public Denoiser model() { return inner.model(); }
        @Override public List<String> prompts() { return inner.prompts(); }
        @Override public Calibration.Settings settings() { return inner.settings(); }

        @Override
        public void run(int index, StepListener listener) {
            if (index == failAt) throw new IllegalStateException("interrupted at prompt " + index);
            ran.add(index);
            inner.run(index, listener);
        }
    }

    private static DenoiserDriver driver(Denoiser model, int prompts, GuidedModel.Batching batching) {
        return new DenoiserDriver(model, GoldenModels.inputs(model, GoldenModels.pixart(), prompts), "ddim", 3, 4.5, 1, null, null, batching);
    }

    @Test
    void recordsEveryLayerStepAndHalf() {
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Calibration cal = Calibrator.run(driver(model, 2, GuidedModel.Batching.BATCHED), tmp.resolve("c.safetensors"), Calibrator.Progress.NONE);
            assertEquals(2, cal.done());
            assertEquals(model.linears().keySet(), cal.layers().keySet());
            for (double t : cal.timesteps()) assertFalse(Double.isNaN(t));
            LayerStats qkv = cal.layer("blocks.0.attn.qkv");
            for (int step = 0; step < 3; step++) {
                for (int half = 0; half < 2; half++) {
                    assertEquals(2 * 16, qkv.rows(step, half), "2 prompts × 16 tokens at step " + step + " half " + half);
                    assertTrue(qkv.max(step, half) > qkv.min(step, half));
                    assertEquals(Math.max(-qkv.min(step, half), qkv.max(step, half)), qkv.scaledAbsMax(step, half, null), 1e-6);
                }
            }
            Calibration reread = Calibration.read(tmp.resolve("c.safetensors"));
            assertArrayEquals(cal.timesteps(), reread.timesteps());
            assertArrayEquals(qkv.channelAbsMax(), reread.layer("blocks.0.attn.qkv").channelAbsMax());
            assertEquals(cal.prompts(), reread.prompts());
        }
    }

    /**
     * Caption padding (tokens beyond each caption's mask) is projected by kv_linear but never attended to: it is not
     * recorded, so the key/value inputs' rows are the valid tokens only; making every caption token padding-free
     * (no mask) records them all.
     */
    @Test
    void captionPaddingIsNotRecorded() {
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            List<DenoiserDriver.Input> inputs = GoldenModels.inputs(model, GoldenModels.pixart(), 2);
            long valid = 0, tokens = 0;
            for (DenoiserDriver.Input in : inputs) {
                var caption = ((DenoiserDriver.Caption) in).caption();
                tokens += caption.length();
                for (long j = 0; j < caption.mask().numel(); j++) if (caption.mask().getFloat(j) != 0) valid++;
            }
            assertTrue(valid < tokens, "the golden captions have padding");
            Calibration cal = Calibrator.run(driver(model, 2, GuidedModel.Batching.BATCHED), tmp.resolve("p.safetensors"), Calibrator.Progress.NONE);
            for (int half = 0; half < 2; half++) {
                assertEquals(valid, cal.layer("blocks.0.cross_attn.kv_linear").rows(0, half), "half " + half);
                assertEquals(2 * 16, cal.layer("blocks.0.cross_attn.q_linear").rows(0, half), "image tokens are all real");
            }
            List<DenoiserDriver.Input> unmasked = new ArrayList<>();
            for (DenoiserDriver.Input in : inputs) {
                var caption = ((DenoiserDriver.Caption) in).caption();
                unmasked.add(new DenoiserDriver.Caption(new dev.viditq.nn.text.Captions(caption.embeddings(), null), null, "unmasked"));
            }
            Calibration all = Calibrator.run(new DenoiserDriver(model, unmasked, "ddim", 3, 4.5, 1, null, null, GuidedModel.Batching.BATCHED),
                    tmp.resolve("u.safetensors"), Calibrator.Progress.NONE);
            assertEquals(tokens, all.layer("blocks.0.cross_attn.kv_linear").rows(0, 0));
        }
    }

    @Test
    void cfgHalvesAreTheSameBatchedOrSeparate() {
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Calibration batched = Calibrator.run(driver(model, 1, GuidedModel.Batching.BATCHED), tmp.resolve("b.safetensors"), Calibrator.Progress.NONE);
            Calibration separate = Calibrator.run(driver(model, 1, GuidedModel.Batching.SEPARATE), tmp.resolve("s.safetensors"), Calibrator.Progress.NONE);
            LayerStats b = batched.layer("blocks.1.mlp.fc2"), s = separate.layer("blocks.1.mlp.fc2");
            for (int half = 0; half < 2; half++) {
                assertEquals(s.scaledAbsMax(1, half, null), b.scaledAbsMax(1, half, null), 1e-4 * s.scaledAbsMax(1, half, null));
            }
            assertTrue(Math.abs(b.scaledAbsMax(1, 0, null) - b.scaledAbsMax(1, 1, null)) > 0, "the halves differ");
        }
    }

    @Test
    void anInterruptedRunResumesWhereItStopped() {
        Path out = tmp.resolve("resume.safetensors");
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Flaky first = new Flaky(driver(model, 3, GuidedModel.Batching.BATCHED), 2);
            assertThrows(IllegalStateException.class, () -> Calibrator.run(first, out, Calibrator.Progress.NONE));
            assertEquals(List.of(0, 1), first.ran);
            assertEquals(2, Calibration.read(out).done());

            Flaky second = new Flaky(driver(model, 3, GuidedModel.Batching.BATCHED), -1);
            Calibration resumed = Calibrator.run(second, out, Calibrator.Progress.NONE);
            assertEquals(List.of(2), second.ran);
            assertEquals(3, resumed.done());

            Calibration fresh = Calibrator.run(driver(model, 3, GuidedModel.Batching.BATCHED), tmp.resolve("fresh.safetensors"), Calibrator.Progress.NONE);
            for (String layer : fresh.layers().keySet()) {
                assertArrayEquals(fresh.layer(layer).channelAbsMax(), resumed.layer(layer).channelAbsMax(), layer);
            }
        }
    }

    @Test
    void aDifferentRunDoesNotResumeAnotherOnesFile() {
        Path out = tmp.resolve("other.safetensors");
        try (Denoiser model = GoldenModels.load(GoldenModels.pixart())) {
            Calibrator.run(driver(model, 1, GuidedModel.Batching.BATCHED), out, Calibrator.Progress.NONE);
            DenoiserDriver moreSteps = new DenoiserDriver(model, GoldenModels.inputs(model, GoldenModels.pixart(), 1), "ddim", 5, 4.5, 1,
                    null, null, GuidedModel.Batching.BATCHED);
            String m = assertThrows(IllegalArgumentException.class, () -> Calibrator.run(moreSteps, out, Calibrator.Progress.NONE)).getMessage();
            assertTrue(m.contains("other settings"), m);
        }
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            DenoiserDriver d = new DenoiserDriver(dit, GoldenModels.inputs(dit, GoldenModels.dit(), 1), "ddim", 3, 4.5, 1, null, null,
                    GuidedModel.Batching.BATCHED);
            String m = assertThrows(IllegalArgumentException.class, () -> Calibrator.run(d, out, Calibrator.Progress.NONE)).getMessage();
            assertTrue(m.contains("calibration of another model"), m);
        }
    }
}
