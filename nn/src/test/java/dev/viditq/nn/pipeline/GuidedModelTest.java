package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.CfgConvention;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.Guidance;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.Step;
import dev.viditq.nn.sampling.StepContext;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GuidedModelTest {
    private static Tensor labels(int... v) {
        Tensor t = Tensor.zeros(DType.I64, v.length);
        for (int i = 0; i < v.length; i++) t.setFloat(i, v[i]);
        return t;
    }

    @Test
    void ditGuidanceMatchesTheOfficialForwardWithCfg() {
        try (Denoiser dit = ModelLoader.load(TinyModels.golden("dit"))) {
            Tensor x = new SeededGaussian(3).next(2, 4, 8, 8);
            Step step = new Step(0, 1, 500);
            Conditioning cond = Conditioning.classLabels(labels(1, 2)), uncond = Conditioning.classLabels(labels(10, 10));
            GuidedModel ours = new GuidedModel(dit, cond, uncond, 4.0, dit.info().guidance("iddpm"), GuidedModel.Batching.BATCHED);
            Tensor got = ours.predict(x, step);

            Tensor doubled = Batches.concat(x, x);
            Tensor ref = Guidance.forwardWithCfg(dit, doubled, Tensor.of(new float[]{500f}, 1),
                    Conditioning.classLabels(labels(1, 2, 10, 10)), 4.0, CfgConvention.OFFICIAL_GUIDED_CHANNELS);
            // bitwise: the float kernels round the same in every JIT tier (core RepeatabilityTest)
            assertArrayEquals(ref.sliceRows(0, 2).toFloatArray(), got.toFloatArray(), 0f, "rows of the cond half");

            GuidedModel separate = new GuidedModel(dit, cond, uncond, 4.0, dit.info().guidance("iddpm"), GuidedModel.Batching.SEPARATE);
            assertArrayEquals(got.toFloatArray(), separate.predict(x, step).toFloatArray(), 0f);
        }
    }

    /** A fake denoiser that records the step context of each forward pass and returns x·(1 + mean label). */
    private static final class Recording implements Denoiser {
        final List<StepContext> seen = new ArrayList<>();
        final List<long[]> batches = new ArrayList<>();

        @Override public ModelInfo info() {
            return ModelInfo.builder(ModelFamily.DIT).inChannels(4).outChannels(4).patchSize(2).sampleSize(8).hidden(8).depth(1)
                    .heads(1).numClasses(10).build();
        }

        @Override public Tensor forward(Tensor x, Tensor t, Conditioning cond) {
            seen.add(StepContext.current());
            batches.add(x.shape());
            Tensor out = x.copy();
            int b = x.size(0);
            long per = x.numel() / b;
            for (int i = 0; i < b; i++) {
                float f = 1 + cond.classLabels().getFloat(i);
                for (long k = 0; k < per; k++) out.setFloat(i * per + k, out.getFloat(i * per + k) * f);
            }
            return out;
        }

        @Override public Map<String, Linear> linears() { return Map.of(); }
        @Override public void close() { }
    }

    @Test
    void stepContextIsSetAroundEveryForwardAndGuidanceFollowsTheConvention() {
        Recording model = new Recording();
        Tensor x = Tensor.of(new float[]{1, 1, 1, 1, 2, 2, 2, 2}, 1, 4, 1, 2);
        Conditioning cond = Conditioning.classLabels(labels(1)), uncond = Conditioning.classLabels(labels(0));
        // diffusers order, all channels: u = x·1, c = x·2 → u + 3·(c − u) = 4x
        GuidedModel g = new GuidedModel(model, cond, uncond, 3.0, new CfgConvention(false, CfgConvention.ALL), GuidedModel.Batching.BATCHED);
        Tensor out = g.predict(x, new Step(2, 5, 123.5));
        assertArrayEquals(new float[]{4, 4, 4, 4, 8, 8, 8, 8}, out.toFloatArray());
        assertEquals(new StepContext(2, 5, 123.5, StepContext.CfgHalf.BATCH_UNCOND_FIRST), model.seen.getFirst());
        assertEquals(2, model.batches.getFirst()[0], "one doubled batch");
        assertSame(StepContext.NONE, StepContext.current(), "restored after the call");
        assertTrue(StepContext.CfgHalf.BATCH_UNCOND_FIRST.isUncondRow(0, 2) && !StepContext.CfgHalf.BATCH_UNCOND_FIRST.isUncondRow(1, 2));

        // original order, 3 guided channels: channel 3 keeps the conditional value 2x
        model.seen.clear();
        g = new GuidedModel(model, cond, uncond, 3.0, new CfgConvention(true, 3), GuidedModel.Batching.SEPARATE);
        out = g.predict(x, new Step(0, 1, 999));
        assertArrayEquals(new float[]{4, 4, 4, 4, 8, 8, 4, 4}, out.toFloatArray());
        assertEquals(List.of(StepContext.CfgHalf.COND, StepContext.CfgHalf.UNCOND), model.seen.stream().map(StepContext::cfgHalf).toList());

        // scale 1: one conditional pass, no guidance
        model.seen.clear();
        out = new GuidedModel(model, cond, uncond, 1.0, new CfgConvention(true, 3), GuidedModel.Batching.BATCHED).predict(x, new Step(0, 1, 1));
        assertArrayEquals(new float[]{2, 2, 2, 2, 4, 4, 4, 4}, out.toFloatArray());
        assertEquals(StepContext.CfgHalf.NONE, model.seen.getFirst().cfgHalf());
        assertEquals(1, model.seen.size());
    }
}
