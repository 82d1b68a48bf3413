package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.Captions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Open-Sora 1.2 path (rectified flow, [cond | null] batch, video conditions) on a stand-in model whose velocity
 * is known: v = (0.5 − x)/(t/1000), the straight path's velocity towards the constant image 0.5. Euler is exact on
 * it, so the run must end on 0.5 whatever the guidance scale (both halves predict the same velocity).
 */
class FlowPipelineTest {
    /** A pixel-space "STDiT3" with 3 channels: predicts the velocity of the straight path to a constant image. */
    private static final class StraightToConstant implements Denoiser {
        final List<Conditioning> seen = new ArrayList<>();
        final List<Double> times = new ArrayList<>();

        @Override public ModelInfo info() {
            return ModelInfo.builder(ModelFamily.STDIT3).inChannels(3).outChannels(3).patchSize(2).sampleSize(0).frames(0)
                    .hidden(8).depth(1).heads(1).captionChannels(4).captionTokens(3).build();
        }

        @Override public Tensor forward(Tensor x, Tensor t, Conditioning cond) {
            seen.add(cond);
            times.add((double) t.getFloat(0));
            double s = t.getFloat(0) / 1000.0;
            Tensor v = Tensor.zeros(x.shape());
            for (long i = 0; i < x.numel(); i++) v.setFloat(i, (float) ((0.5 - x.getFloat(i)) / s));
            return v;
        }

        @Override public Optional<Tensor> nullCaption() { return Optional.of(Tensor.zeros(3, 4)); }
        @Override public Map<String, Linear> linears() { return Map.of(); }
        @Override public void close() { }
    }

    @Test
    void rectifiedFlowWithVideoConditions() {
        StraightToConstant model = new StraightToConstant();
        GenerationPipeline p = new GenerationPipeline(model, null, null, null);
        assertEquals("rflow", p.defaults().sampler());
        Captions caption = new Captions(Tensor.of(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 1, 3, 4), Tensor.of(new float[]{1, 1, 0}, 1, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> p.resolve(GenerationRequest.builder().captions(caption).build()));
        assertTrue(e.getMessage().contains("--size"), e.getMessage());

        var g = p.generate(GenerationRequest.builder().captions(caption).size(8, 12).frames(17).steps(5).cfgScale(7.0).build(),
                StepListener.NONE);
        assertArrayEquals(new long[]{1, 3, 17, 8, 12}, g.pixels().shape());
        for (float v : g.pixels().toFloatArray()) assertEquals(0.5f, v, 1e-4f);

        Conditioning c = model.seen.getFirst();
        assertEquals(2, c.caption().dim(0), "one doubled batch");
        assertEquals(1f, c.caption().getFloat(0), "[cond | null]: the prompt first");
        assertEquals(0f, c.caption().getFloat(12), "then the null caption");
        assertArrayEquals(new float[]{8, 12, 8, 12}, c.imageHw().toFloatArray());
        assertArrayEquals(new float[]{24, 24}, c.fps().toFloatArray());
        assertEquals(5, model.seen.size());
    }

    private static Captions caption() {
        return new Captions(Tensor.of(new float[12], 1, 3, 4), Tensor.of(new float[]{1, 1, 0}, 1, 3));
    }

    /** The frame rate: the request's, else the config's pipeline.fps, else the family's (24; an image gets 120). */
    @Test
    void frameRateFromTheRequestTheConfigOrTheFamily() {
        StraightToConstant model = new StraightToConstant();
        GenerationPipeline p = new GenerationPipeline(model, null, null, null);
        GenerationRequest.Builder req = GenerationRequest.builder().captions(caption()).size(8, 8).frames(17).steps(1);
        assertEquals(24, p.generate(req.build(), StepListener.NONE).settings().fps());
        assertEquals(12, p.generate(req.fps(12.0).build(), StepListener.NONE).settings().fps());
        assertArrayEquals(new float[]{12, 12}, model.seen.getLast().fps().toFloatArray(), "what the model is given");
        assertEquals(120, p.resolve(req.fps(null).frames(1).build()).fps(), "IMG_FPS for a one-frame sample");
        assertThrows(IllegalArgumentException.class, () -> p.resolve(req.fps(-1.0).build()));

        GenerationPipeline configured = new GenerationPipeline(model, null, null, null, new PipelineBlock(null, null, null, 8.0, null));
        assertEquals(8, configured.resolve(req.fps(null).frames(17).build()).fps());
        assertEquals(30, configured.resolve(req.fps(30.0).build()).fps(), "the request wins");
    }

    /** pipeline.timestep_shift replaces Open-Sora's rule, which is undefined for 2 to 16 frames. */
    @Test
    void timestepShiftFromTheConfigReplacesTheFamilyRule() {
        StraightToConstant model = new StraightToConstant();
        GenerationRequest request = GenerationRequest.builder().captions(caption()).size(8, 8).frames(8).steps(5).build();
        var e = assertThrows(IllegalArgumentException.class, () -> new GenerationPipeline(model, null, null, null).resolve(request));
        assertTrue(e.getMessage().contains("undefined for 8 frames") && e.getMessage().contains("pipeline.timestep_shift"), e.getMessage());

        GenerationPipeline p = new GenerationPipeline(model, null, null, null, new PipelineBlock(null, null, null, null, 2.0));
        var g = p.generate(request, StepListener.NONE);
        assertEquals(2.0, g.settings().flowShift());
        // t_1 = 800 before the shift; 2·0.8/(1 + 0.8) of 1000 after it
        assertEquals(1000 * 1.6 / 1.8, model.times.get(1), 1e-3);
        for (float v : g.pixels().toFloatArray()) assertEquals(0.5f, v, 1e-4f);
    }
}
