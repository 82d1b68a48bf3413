package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.layers.Linear;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Properties of every family on the golden weights, with inputs of other shapes than the golden ones (batch 3,
 * non-square latents, other frame counts and caption lengths): nothing may depend on the configured sizes.
 */
class DenoiserTest {
    static Denoiser load(String folder) {
        return ModelLoader.load(GoldenFolder.GOLDEN.resolve(folder));
    }

    static Tensor random(Random rnd, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.of(v, shape);
    }

    /** Inputs of batch {@code batch} for the model's family, latent 3p × 5p (× 3 frames for video), captions of 5 tokens. */
    static NamedInputs.Call randomCall(ModelInfo info, int batch, Random rnd) {
        int p = info.patchSize();
        long[] xShape = info.video() ? new long[]{batch, info.inChannels(), 3, 3L * p, 5L * p}
                : new long[]{batch, info.inChannels(), 3L * p, 5L * p};
        float[] t = new float[batch];
        for (int b = 0; b < batch; b++) t[b] = rnd.nextInt(1000);
        Tensor ts = Tensor.of(t, batch);
        if (info.family().classConditional()) {
            float[] y = new float[batch];
            for (int b = 0; b < batch; b++) y[b] = rnd.nextInt(info.numClasses() + 1);
            return new NamedInputs.Call(random(rnd, xShape), ts, Conditioning.classLabels(Tensor.of(y, batch)));
        }
        int tokens = 5;
        Tensor mask = null;
        if (info.family().masking() != ModelFamily.Masking.TRUNCATE_ONLY) {
            float[] m = new float[batch * tokens];
            for (int b = 0; b < batch; b++) for (int j = 0; j < tokens; j++) m[b * tokens + j] = j <= b + 1 ? 1 : 0;
            mask = Tensor.of(m, batch, tokens);
        }
        Conditioning cond = Conditioning.caption(random(rnd, batch, tokens, info.captionChannels()), mask);
        if (info.microConditions()) {
            float[] hw = new float[2 * batch], ar = new float[batch];
            for (int b = 0; b < batch; b++) {
                hw[2 * b] = 3 * p * 8 * (b + 1);
                hw[2 * b + 1] = 5 * p * 8;
                ar[b] = hw[2 * b] / hw[2 * b + 1];
            }
            cond = cond.withMicroConditions(Tensor.of(hw, batch, 2), Tensor.of(ar, batch, 1));
        }
        return new NamedInputs.Call(random(rnd, xShape), ts, cond);
    }

    static Tensor row(Tensor t, int b) {
        return t == null ? null : t.sliceRows(b, b + 1);
    }

    static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape());
        double num = 0, den = 0;
        for (long i = 0; i < expected.numel(); i++) {
            double d = expected.getFloat(i) - actual.getFloat(i);
            num += d * d;
            den += (double) expected.getFloat(i) * expected.getFloat(i);
        }
        assertTrue(Math.sqrt(num / den) < tol, "relative error " + Math.sqrt(num / den));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dit", "pixart_original", "pixart_diffusers", "stdit_v1", "latte_diffusers"})
    void eachSampleOfABatchIsComputedAsAlone(String folder) {
        try (Denoiser model = load(folder)) {
            ModelInfo info = model.info();
            NamedInputs.Call call = randomCall(info, 3, new Random(folder.hashCode()));
            Tensor out = model.forward(call.x(), call.timesteps(), call.cond());
            long[] expected = call.x().shape();
            expected[1] = info.outChannels();
            assertArrayEquals(expected, out.shape());
            for (int b = 0; b < 3; b++) {
                Conditioning c = call.cond();
                Conditioning one = new Conditioning(row(c.classLabels(), b), row(c.caption(), b), row(c.captionMask(), b),
                        row(c.imageHw(), b), row(c.aspectRatio(), b));
                Tensor alone = model.forward(row(call.x(), b), row(call.timesteps(), b), one);
                assertClose(alone, out.sliceRows(b, b + 1), 1e-5);
            }
        }
    }

    /** Masked tokens must act as if absent: the same as the caption of only the valid tokens, unmasked. */
    @ParameterizedTest
    @ValueSource(strings = {"pixart_original", "pixart_diffusers", "stdit_v1"})
    void maskedTokensActAsAbsent(String folder) {
        try (Denoiser model = load(folder)) {
            Random rnd = new Random(11);
            NamedInputs.Call call = randomCall(model.info(), 1, rnd);
            Tensor caption = random(rnd, 1, 6, model.info().captionChannels());
            Tensor mask = Tensor.of(new float[]{1, 0, 1, 1, 0, 0}, 1, 6);
            int dt = model.info().captionChannels();
            float[] kept = new float[3 * dt];
            int[] valid = {0, 2, 3};
            for (int i = 0; i < 3; i++) for (int c = 0; c < dt; c++) kept[i * dt + c] = caption.getFloat((long) valid[i] * dt + c);
            Conditioning masked = new Conditioning(null, caption, mask, call.cond().imageHw(), call.cond().aspectRatio());
            Conditioning truncated = new Conditioning(null, Tensor.of(kept, 1, 3, dt), null, call.cond().imageHw(), call.cond().aspectRatio());
            assertClose(model.forward(call.x(), call.timesteps(), truncated), model.forward(call.x(), call.timesteps(), masked), 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dit", "pixart_original", "pixart_diffusers", "stdit_v1", "latte_diffusers"})
    void everyLinearIsACheckpointKeyAndRunsThroughItsExecutor(String folder) {
        try (Denoiser model = load(folder);
             var file = dev.viditq.core.io.Safetensors.open(GoldenFolder.GOLDEN.resolve(folder + "/model.safetensors"))) {
            Map<String, AtomicInteger> calls = new LinkedHashMap<>();
            for (Map.Entry<String, Linear> e : model.linears().entrySet()) {
                assertTrue(file.contains(e.getKey() + ".weight"), e.getKey());
                AtomicInteger n = new AtomicInteger();
                calls.put(e.getKey(), n);
                Linear.Executor inner = e.getValue().executor();
                e.getValue().setExecutor((layer, x, out) -> {
                    n.incrementAndGet();
                    inner.forward(layer, x, out);
                });
            }
            // every 2-D weight of the checkpoint is a Linear, except embedding tables
            for (String key : file.names()) {
                if (key.endsWith(".weight") && file.get(key).rank() == 2 && !key.contains("embedding_table")) {
                    assertTrue(model.linears().containsKey(key.substring(0, key.length() - ".weight".length())), key);
                }
            }
            NamedInputs.Call call = randomCall(model.info(), 2, new Random(5));
            Tensor before = model.forward(call.x(), call.timesteps(), call.cond());
            calls.forEach((name, n) -> assertTrue(n.get() > 0, name + " never ran through its executor"));
            // swapping executors changes the result: proves the model has no path around them
            for (Linear l : model.linears().values()) {
                Linear.Executor inner = l.executor();
                l.setExecutor((layer, x, out) -> {
                    inner.forward(layer, x, out);
                    for (long i = 0; i < out.numel(); i++) out.setFloat(i, out.getFloat(i) * 0.5f);
                });
            }
            Tensor after = model.forward(call.x(), call.timesteps(), call.cond());
            assertFalse(Arrays.equals(before.toFloatArray(), after.toFloatArray()));
        }
    }

    @Test
    void nullCaptionIsTheLearnedEmbeddingInOriginalLayoutsOnly() {
        try (Denoiser original = load("pixart_original"); Denoiser diffusers = load("pixart_diffusers")) {
            Tensor nullCaption = original.nullCaption().orElseThrow();
            assertEquals(original.info().captionChannels(), nullCaption.dim(1));
            assertTrue(diffusers.nullCaption().isEmpty());
        }
    }

    @Test
    void userErrorsNameTheInput() {
        try (Denoiser latte = load("latte_diffusers"); Denoiser pixart = load("pixart_original"); Denoiser dit = load("dit")) {
            Random rnd = new Random(1);
            NamedInputs.Call l = randomCall(latte.info(), 1, rnd);
            Conditioning masked = Conditioning.caption(l.cond().caption(), Tensor.of(new float[]{1, 1, 1, 1, 1}, 1, 5));
            assertMessage(() -> latte.forward(l.x(), l.timesteps(), masked), "truncate");

            NamedInputs.Call p = randomCall(pixart.info(), 1, rnd);
            Conditioning noMicro = Conditioning.caption(p.cond().caption(), null);
            assertMessage(() -> pixart.forward(p.x(), p.timesteps(), noMicro), "img_hw");
            assertMessage(() -> pixart.forward(p.x(), Tensor.of(new float[]{1, 2, 3}, 3), p.cond()), "timesteps");
            Tensor wrongWidth = random(rnd, 1, 5, pixart.info().captionChannels() + 1);
            assertMessage(() -> pixart.forward(p.x(), p.timesteps(), Conditioning.caption(wrongWidth, null)
                    .withMicroConditions(p.cond().imageHw(), p.cond().aspectRatio())), "width");

            NamedInputs.Call d = randomCall(dit.info(), 1, rnd);
            Tensor badLabel = Tensor.of(new float[]{dit.info().numClasses() + 1}, 1);
            assertMessage(() -> dit.forward(d.x(), d.timesteps(), Conditioning.classLabels(badLabel)), "class label");
            assertMessage(() -> dit.forward(random(rnd, 1, dit.info().inChannels(), 3, 4, 4), d.timesteps(), d.cond()), "[B, C, H, W]");
        }
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
