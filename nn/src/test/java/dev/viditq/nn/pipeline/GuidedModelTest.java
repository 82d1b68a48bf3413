package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.CountingExecutor;
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

    /** Three guided steps' predictions, and how often the first block's caption keys and values were projected. */
    private static List<float[]> threeSteps(Denoiser model, Conditioning cond, Conditioning uncond, GuidedModel.Batching batching,
                                            int[] projections) {
        Linear kv = model.linears().get("blocks.0.cross_attn.kv_linear");
        CountingExecutor counted = CountingExecutor.install(kv);
        try {
            GuidedModel guided = new GuidedModel(model, cond, uncond, 4.5, new CfgConvention(true, CfgConvention.OFFICIAL_GUIDED_CHANNELS), batching);
            Tensor x = new SeededGaussian(21).next(1, model.info().inChannels(), 8, 8);
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < 3; i++) out.add(guided.predict(x, new Step(i, 3, 900 - 300 * i)).toFloatArray());
            projections[0] = counted.calls();
            return out;
        } finally {
            kv.setExecutor(null);
        }
    }

    @Test
    void keptCaptionKeysAndValuesGiveTheSameBitsAsProjectingThemEveryStep() {
        try (Denoiser pixart = ModelLoader.load(TinyModels.golden("pixart_original"))) {
            ModelInfo info = pixart.info();
            SeededGaussian rng = new SeededGaussian(5);
            Tensor hw = Tensor.of(new float[]{64, 64}, 1, 2), ar = Tensor.of(new float[]{1}, 1, 1);
            Tensor mask = Tensor.of(new float[]{1, 1, 1, 1, 0, 0}, 1, info.captionTokens());
            Conditioning cond = Conditioning.caption(rng.next(1, info.captionTokens(), info.captionChannels()), mask).withMicroConditions(hw, ar);
            Tensor all = Tensor.of(new float[]{1, 1, 1, 1, 1, 1}, 1, info.captionTokens());
            Conditioning uncond = Conditioning.caption(rng.next(1, info.captionTokens(), info.captionChannels()), all).withMicroConditions(hw, ar);
            for (GuidedModel.Batching batching : GuidedModel.Batching.values()) {
                int[] kept = new int[1], projected = new int[1];
                List<float[]> withMemo = threeSteps(pixart, cond, uncond, batching, kept);
                List<float[]> without;
                System.setProperty("viditq.captionMemo", "false");
                try {
                    without = threeSteps(pixart, cond, uncond, batching, projected);
                } finally {
                    System.clearProperty("viditq.captionMemo");
                }
                for (int i = 0; i < 3; i++) assertArrayEquals(without.get(i), withMemo.get(i), 0f, batching + " step " + i);
                int passes = batching == GuidedModel.Batching.BATCHED ? 1 : 2;
                assertEquals(passes, kept[0], batching + ": each caption projected once");
                assertEquals(3 * passes, projected[0], batching + ": without the memo, every step");
            }
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
