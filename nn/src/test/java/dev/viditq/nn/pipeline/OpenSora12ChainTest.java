package dev.viditq.nn.pipeline;

import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.RectifiedFlowSampler;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.vae.OpenSoraVae;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Open-Sora 1.2's three parts chained on the golden weights, the way its inference script chains them: noise of
 * the VAE's latent size → RFLOW with [cond | null] guidance over STDiT3 (the null caption masked with the prompt's
 * mask, as the official {@code mask.repeat} does) → the video VAE's decode. Only shapes and finiteness can be
 * checked on random weights; each part has its own golden case.
 */
class OpenSora12ChainTest {
    private static final GoldenFolder NEXT = GoldenFolder.named("golden_next");

    @Test
    void noiseToFramesThroughStdit3RflowAndTheVideoVae() {
        try (Denoiser model = ModelLoader.load(NEXT.resolve("stdit3")); OpenSoraVae vae = OpenSoraVae.load(NEXT.resolve("opensora_vae"))) {
            Assumptions.assumeTrue(model.info().inChannels() == vae.latentChannels(), "the golden STDiT3 and VAE do not share latent channels");
            int frames = 17, p = model.info().patchSize(), f = vae.downscale();
            int h = 2 * p, w = 3 * p, heightPx = h * f, widthPx = w * f;
            SeededGaussian rng = new SeededGaussian(7);
            Tensor noise = rng.next(new long[]{1, vae.latentChannels(), vae.latentFrames(frames), h, w});

            Tensor nullCaption = model.nullCaption().orElseThrow();
            int tokens = nullCaption.size(0), dt = nullCaption.size(1);
            float[] mask = new float[tokens];
            for (int j = 0; j < tokens; j++) mask[j] = j < Math.max(1, tokens - 2) ? 1 : 0;
            Tensor captionMask = Tensor.of(mask, 1, tokens);
            Tensor hw = Tensor.of(new float[]{heightPx, widthPx}, 1, 2), fps = Tensor.of(new float[]{24}, 1);
            Conditioning cond = Conditioning.caption(rng.next(new long[]{1, tokens, dt}), captionMask).withVideoConditions(hw, fps);
            Conditioning uncond = Conditioning.caption(nullCaption.reshape(1, tokens, dt), captionMask).withVideoConditions(hw, fps);

            RectifiedFlowSampler sampler = new RectifiedFlowSampler(1000, RectifiedFlowSampler.openSoraShift(heightPx, widthPx, frames));
            GuidedModel guided = new GuidedModel(model, cond, uncond, 7.0, model.info().guidance(sampler.name()),
                    GuidedModel.Batching.BATCHED);
            List<Double> times = new ArrayList<>();
            Tensor latents = sampler.sample(guided, noise, 3, rng, (step, latent) -> times.add(step.modelTime()));
            assertEquals(3, times.size());
            assertTrue(times.get(0) > times.get(1) && times.get(1) > times.get(2), "times step down: " + times);

            Tensor video = vae.decode(latents, frames);
            assertArrayEquals(new long[]{1, 3, frames, heightPx, widthPx}, video.shape());
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
            for (float v : video.toFloatArray()) {
                assertTrue(Float.isFinite(v));
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(max > min, "a constant video");
        }
    }
}
