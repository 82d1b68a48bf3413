package dev.viditq.nn.pipeline;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.sampling.StepListener;
import dev.viditq.nn.text.Captions;
import dev.viditq.nn.text.TextEncoder;
import dev.viditq.nn.vae.AutoencoderKL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The prompts and the unconditional text reach the text encoder in one call, and each half gets its own rows. */
class PromptEncodingTest {
    @Test
    void promptsAndNegativePromptAreOneBatchOfTheRealEncoder(@TempDir Path tmp) throws Exception {
        TinyModels.requireCases();
        Path dir = TinyModels.pixartWithText(tmp);
        List<List<String>> calls = new ArrayList<>();
        try (Denoiser model = ModelLoader.load(dir); AutoencoderKL vae = AutoencoderKL.load(dir.resolve("vae"));
             TextEncoder t5 = TextEncoder.load(dir.resolve("text_encoder"), dir.resolve("tokenizer"))) {
            PromptEncoder recording = (prompts, length) -> {
                calls.add(List.copyOf(prompts));
                return t5.encode(prompts, length);
            };
            GenerationPipeline p = new GenerationPipeline(model, vae, recording, null);
            List<String> prompts = List.of("a red fox", "blue sea in snow");
            var viaPrompt = p.generate(GenerationRequest.builder().prompts(prompts).negativePrompt("blurry dark").steps(2).seed(3)
                    .build(), StepListener.NONE);
            assertEquals(List.of(List.of("a red fox", "blue sea in snow", "blurry dark")), calls, "one call, negative last");

            // the same run with the negative given as its own embedding: the rows were split right
            Captions negative = t5.encode(List.of("blurry dark"), p.defaults().captionTokens());
            calls.clear();
            var viaEmbedding = p.generate(GenerationRequest.builder().prompts(prompts).negativeCaptions(negative).steps(2).seed(3)
                    .build(), StepListener.NONE);
            assertEquals(List.of(prompts), calls, "given negative embeddings: only the prompts are encoded");
            assertSame(viaEmbedding.latents().toFloatArray(), viaPrompt.latents().toFloatArray());

            calls.clear();
            p.generate(GenerationRequest.builder().prompt("a red fox").steps(2).build(), StepListener.NONE);
            assertEquals(List.of(List.of("a red fox")), calls, "the learned null caption serves: no text for the other half");
        }
    }

    /** Equal up to the Java float kernels' drift before and after JIT compilation (~1e-6 relative, see GenerationPipelineTest). */
    private static void assertSame(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double num = 0, den = 0;
        for (int i = 0; i < expected.length; i++) {
            num += (actual[i] - (double) expected[i]) * (actual[i] - (double) expected[i]);
            den += (double) expected[i] * expected[i];
        }
        assertTrue(Math.sqrt(num / den) < 1e-5, "relative L2 difference " + Math.sqrt(num / den));
    }

    /** A diffusers-style pixel-space model without a learned null caption: its unconditional half is the embedding of "". */
    @Test
    void withoutANullCaptionTheEmptyTextJoinsTheBatch() {
        List<List<String>> calls = new ArrayList<>();
        PromptEncoder encoder = (prompts, length) -> {
            calls.add(List.copyOf(prompts));
            float[] mask = new float[prompts.size() * length];
            int[] counts = new int[prompts.size()];
            for (int i = 0; i < prompts.size(); i++) {
                counts[i] = Math.min(length, 1 + prompts.get(i).length());
                for (int t = 0; t < counts[i]; t++) mask[i * length + t] = 1;
            }
            return new Captions(Tensor.zeros(prompts.size(), length, 4), Tensor.of(mask, prompts.size(), length), counts);
        };
        List<Conditioning> seen = new ArrayList<>();
        Denoiser model = new Denoiser() {
            @Override public ModelInfo info() {
                return ModelInfo.builder(ModelFamily.PIXART_DIFFUSERS).inChannels(3).outChannels(3).patchSize(2).sampleSize(4)
                        .hidden(8).depth(1).heads(1).captionChannels(4).build();
            }
            @Override public Tensor forward(Tensor x, Tensor t, Conditioning cond) {
                seen.add(cond);
                return Tensor.zeros(x.shape());
            }
            @Override public Map<String, Linear> linears() { return Map.of(); }
            @Override public void close() { }
        };
        GenerationPipeline p = new GenerationPipeline(model, null, encoder, null);
        p.generate(GenerationRequest.builder().prompts(List.of("ab", "abcdef")).steps(1).sampler("ddim").build(), StepListener.NONE);
        assertEquals(List.of(List.of("ab", "abcdef", "")), calls);
        Tensor mask = seen.getFirst().captionMask(); // [uncond | cond] (diffusers): the "" row repeated, then the prompts
        assertArrayEquals(new long[]{4, 120}, mask.shape(), "the family's caption length");
        float[] m = mask.toFloatArray();
        assertEquals(1, sum(m, 0, 120));
        assertEquals(1, sum(m, 120, 240));
        assertEquals(3, sum(m, 240, 360));
        assertEquals(7, sum(m, 360, 480));
    }

    private static int sum(float[] v, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) n += (int) v[i];
        return n;
    }
}
