package dev.viditq.nn.pipeline;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.Captions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** End to end on tiny random models built from the golden weights (see {@link TinyModels}). */
class GenerationPipelineTest {
    @BeforeAll
    static void needGolden() {
        TinyModels.requireCases();
    }

    private static Generation run(GenerationPipeline p, GenerationRequest.Builder b) {
        return new Generation(p.generate(b.build(), StepListener.NONE));
    }

    private record Generation(GenerationPipeline.Generation g) {
        float[] pixels() { return g.pixels().toFloatArray(); }
        float[] latents() { return g.latents().toFloatArray(); }
        long[] shape() { return g.pixels().shape(); }
    }

    private static double relErr(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /**
     * Same request, same result — to 1e-5 relative rather than bit for bit: the Java float kernels currently
     * round differently before and after the JIT compiles them (repeated runs in one JVM drift by ~1e-6 relative;
     * with -Dviditq.kernels=scalar they are identical). The sampler, the noise and the pipeline are exact.
     */
    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double err = relErr(actual, expected);
        assertTrue(err < 1e-5, "relative L2 difference " + err);
    }

    @Test
    void ditSameSeedSameBytesOtherSeedOtherImage(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp, "dit"))) {
            GenerationPipeline.Defaults d = p.defaults();
            assertEquals("iddpm", d.sampler());
            assertEquals(16, d.height(), "latent 8 × VAE factor 2");
            var req = GenerationRequest.builder().classLabels(3).steps(4).seed(7);
            Generation a = run(p, req), b = run(p, req);
            assertArrayEquals(new long[]{1, 3, 16, 16}, a.shape());
            assertClose(a.pixels(), b.pixels()); // same seed, same image (see assertClose on bits)
            assertFalse(Arrays.equals(a.pixels(), run(p, req.seed(8)).pixels()), "another seed, another image");
            assertFalse(Arrays.equals(a.pixels(), run(p, GenerationRequest.builder().classLabels(4).steps(4).seed(7)).pixels()),
                    "another class, another image");
        }
    }

    @Test
    void aBatchOfTwoEqualsTwoRunsOfOne(@TempDir Path tmp) throws Exception {
        // with a deterministic sampler, row 0 of a batch sees the same initial noise as a batch of one (the noise
        // stream fills rows in order), so any mix-up of the doubled CFG batch's rows would show here
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp.resolve("dit"), "dit"))) {
            var two = p.generate(GenerationRequest.builder().classLabels(1, 2).steps(3).sampler("ddim").seed(5).build(), StepListener.NONE);
            var one = p.generate(GenerationRequest.builder().classLabels(1).steps(3).sampler("ddim").seed(5).build(), StepListener.NONE);
            assertArrayEquals(new long[]{2, 3, 16, 16}, two.pixels().shape());
            assertClose(one.latents().toFloatArray(), two.latents().sliceRows(0, 1).toFloatArray());
        }
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.diffusers(tmp.resolve("px"), "pixart_diffusers", null))) {
            Captions a = TinyModels.captions(1, 8, 48, 5), b = TinyModels.captions(2, 8, 48, 3), n = TinyModels.captions(3, 8, 48, 1);
            Captions both = new Captions(Batches.concat(a.embeddings(), b.embeddings()), Batches.concat(a.mask(), b.mask()));
            var two = p.generate(GenerationRequest.builder().captions(both).negativeCaptions(n).steps(3).sampler("ddim").seed(5).build(), StepListener.NONE);
            var one = p.generate(GenerationRequest.builder().captions(a).negativeCaptions(n).steps(3).sampler("ddim").seed(5).build(), StepListener.NONE);
            assertClose(one.latents().toFloatArray(), two.latents().sliceRows(0, 1).toFloatArray());
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount(@TempDir Path tmp) throws Exception {
        int before = Parallel.threads();
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp, "dit"))) {
            var req = GenerationRequest.builder().classLabels(1).steps(3).seed(3).size(24, 16);
            Parallel.setThreads(1);
            float[] one = run(p, req).pixels();
            Parallel.setThreads(2);
            assertClose(one, run(p, req).pixels());
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void everySamplerRunsAndTheListenerSeesEachStep(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp, "dit"))) {
            for (String sampler : List.of("iddpm", "ddim", "dpm-solver", "dpmpp-2m")) {
                List<Integer> steps = new ArrayList<>();
                var g = p.generate(GenerationRequest.builder().classLabels(2).steps(3).sampler(sampler).build(),
                        (step, latent) -> steps.add(step.index()));
                assertEquals(List.of(0, 1, 2), steps, sampler);
                for (float v : g.latents().toFloatArray()) assertTrue(Float.isFinite(v), sampler);
            }
            var e = assertThrows(IllegalArgumentException.class, () -> p.generate(
                    GenerationRequest.builder().classLabels(2).steps(3).sampler("rflow").build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("VELOCITY"), e.getMessage());
        }
    }

    @Test
    void pixartFromPromptsThroughTheT5Encoder(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.pixartWithText(tmp))) {
            assertTrue(p.acceptsPrompts());
            assertEquals("dpm-solver", p.defaults().sampler());
            assertEquals(6, p.defaults().captionTokens(), "the learned null caption's length");
            var fox = GenerationRequest.builder().prompt("a red fox in snow").steps(3).seed(1).size(16, 24);
            float[] a = run(p, fox).pixels();
            assertArrayEquals(new long[]{1, 3, 16, 24}, run(p, fox).shape());
            assertClose(a, run(p, fox).pixels());
            assertFalse(Arrays.equals(a, run(p, GenerationRequest.builder().prompt("a blue sea").steps(3).seed(1).size(16, 24)).pixels()));
            assertFalse(Arrays.equals(a, run(p, fox.negativePrompt("blurry dark")).pixels()), "a negative prompt replaces the null caption");
            var e = assertThrows(IllegalArgumentException.class, () -> p.generate(
                    GenerationRequest.builder().classLabels(1).build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("text"), e.getMessage());
        }
    }

    @Test
    void stditVideoFromCaptionEmbeddings(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp, "stdit_v1"))) {
            assertEquals(4, p.defaults().frames());
            var req = GenerationRequest.builder().captions(TinyModels.captions(5, 6, 48, 3)).steps(3).seed(2);
            Generation a = run(p, req);
            assertArrayEquals(new long[]{1, 3, 4, 16, 16}, a.shape());
            Generation again = run(p, req);
            assertClose(a.latents(), again.latents());
            assertClose(a.pixels(), again.pixels());
            var e = assertThrows(IllegalArgumentException.class, () -> p.generate(
                    GenerationRequest.builder().captions(TinyModels.captions(5, 7, 48, 3)).steps(3).build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("null caption has 6 tokens"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.generate(
                    GenerationRequest.builder().prompt("a fox").steps(3).build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("no text encoder"), e.getMessage());
        }
    }

    @Test
    void diffusersPixArtTakesItsSchedulerAndNeedsANegativeCaption(@TempDir Path tmp) throws Exception {
        String scheduler = "{\"_class_name\": \"DDIMScheduler\", \"steps_offset\": 1, \"clip_sample\": false}";
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.diffusers(tmp, "pixart_diffusers", scheduler))) {
            assertEquals("ddim", p.defaults().sampler(), "from scheduler/scheduler_config.json");
            Captions c = TinyModels.captions(1, 8, 48, 5), n = TinyModels.captions(2, 8, 48, 1);
            var e = assertThrows(IllegalArgumentException.class, () -> p.generate(
                    GenerationRequest.builder().captions(c).steps(2).build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("negative"), e.getMessage());
            Generation g = run(p, GenerationRequest.builder().captions(c).negativeCaptions(n).steps(3).seed(4));
            assertArrayEquals(new long[]{1, 3, 16, 16}, g.shape());
            assertFalse(Arrays.equals(g.pixels(), run(p, GenerationRequest.builder().captions(c).negativeCaptions(n).steps(3)
                    .seed(4).sampler("dpmpp-2m")).pixels()));
        }
    }

    @Test
    void latteTruncatesCaptionsToTheirValidTokens(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.diffusers(tmp, "latte_diffusers", null))) {
            Captions c = TinyModels.captions(1, 8, 48, 3), n = TinyModels.captions(2, 8, 48, 1);
            Generation g = run(p, GenerationRequest.builder().captions(c).negativeCaptions(n).steps(2).seed(4));
            assertArrayEquals(new long[]{1, 3, 4, 16, 16}, g.shape());
            // only the 3 valid tokens count: changing the padding rows changes nothing
            Captions padded = new Captions(c.embeddings().copy(), c.mask());
            for (long i = 3L * 48; i < 8L * 48; i++) padded.embeddings().setFloat(i, 9f);
            float[] other = run(p, GenerationRequest.builder().captions(padded).negativeCaptions(n).steps(2).seed(4)).latents();
            assertClose(g.latents(), other);
            float[] changed = run(p, GenerationRequest.builder().captions(TinyModels.captions(3, 8, 48, 3)).negativeCaptions(n)
                    .steps(2).seed(4)).latents();
            assertTrue(relErr(g.latents(), changed) > 1e-3, "the valid tokens do count");
            Captions two = new Captions(Batches.concat(c.embeddings(), padded.embeddings()), Batches.concat(c.mask(), c.mask()));
            var batch = p.generate(GenerationRequest.builder().captions(two).negativeCaptions(n).steps(2).seed(4).build(), StepListener.NONE);
            assertArrayEquals(new long[]{2, 3, 4, 16, 16}, batch.pixels().shape());
            // several prompts are masked (padding zeroed) rather than cut: padding values still do not count
            Captions same = new Captions(Batches.concat(c.embeddings(), c.embeddings()), Batches.concat(c.mask(), c.mask()));
            assertClose(p.generate(GenerationRequest.builder().captions(same).negativeCaptions(n).steps(2).seed(4).build(),
                    StepListener.NONE).latents().toFloatArray(), batch.latents().toFloatArray());
        }
    }

    @Test
    void pixelSpaceModelSkipsTheVae(@TempDir Path tmp) throws Exception {
        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.pixelDit(tmp))) {
            assertEquals(1, p.pixelsPerLatent());
            var g = p.generate(GenerationRequest.builder().classLabels(0).steps(2).build(), StepListener.NONE);
            assertArrayEquals(new long[]{1, 3, 8, 8}, g.pixels().shape());
            assertArrayEquals(g.latents().toFloatArray(), g.pixels().toFloatArray(), "pixels are the sample itself");
        }
    }

    @Test
    void userErrorsGiveOneClearMessage(@TempDir Path tmp) throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> GenerationPipeline.load(tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("no such model folder"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GenerationPipeline.load(Files.createDirectories(tmp.resolve("empty"))));
        assertTrue(e.getMessage().contains("no config.json"), e.getMessage());
        Path noVae = tmp.resolve("novae");
        TinyModels.copy(TinyModels.golden("dit"), noVae);
        e = assertThrows(IllegalArgumentException.class, () -> GenerationPipeline.load(noVae));
        assertTrue(e.getMessage().contains("no vae/"), e.getMessage());

        try (GenerationPipeline p = GenerationPipeline.load(TinyModels.flat(tmp.resolve("dit"), "dit"))) {
            e = assertThrows(IllegalArgumentException.class, () -> p.resolve(GenerationRequest.builder().classLabels(1).size(18, 16).build()));
            assertTrue(e.getMessage().contains("multiples of 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.resolve(GenerationRequest.builder().classLabels(1).sampler("euler").build()));
            assertTrue(e.getMessage().contains("unknown sampler 'euler'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.resolve(GenerationRequest.builder().classLabels(1).frames(4).build()));
            assertTrue(e.getMessage().contains("image model"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.generate(GenerationRequest.builder().classLabels(10).steps(1).build(), StepListener.NONE));
            assertTrue(e.getMessage().contains("class label 10"), e.getMessage());
        }
    }

    @Test
    void captionFileRoundTrip(@TempDir Path tmp) {
        Captions c = TinyModels.captions(1, 6, 48, 2), n = TinyModels.captions(2, 6, 48, 1);
        Path f = tmp.resolve("caps.safetensors");
        CaptionFile.write(f, c, n);
        CaptionFile back = CaptionFile.read(f);
        assertArrayEquals(c.embeddings().toFloatArray(), back.captions().embeddings().toFloatArray());
        assertArrayEquals(c.mask().toFloatArray(), back.captions().mask().toFloatArray());
        assertArrayEquals(n.embeddings().toFloatArray(), back.negative().embeddings().toFloatArray());
        assertEquals(2, back.captions().validLength(0));
        CaptionFile.write(f, new Captions(Tensor.zeros(2, 3, 4), null), null);
        assertNull(CaptionFile.read(f).negative());
        assertEquals(3, CaptionFile.read(f).row(1).captions().validLength(0));
    }
}
