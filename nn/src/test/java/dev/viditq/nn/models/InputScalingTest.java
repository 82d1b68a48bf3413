package dev.viditq.nn.models;

import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.Linear;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.viditq.nn.models.DenoiserTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The folding seam: a per-channel m set on a model's {@link InputScaling}s, with every consumer's weight divided by m
 * (W / m, what quantization does offline), leaves the model's output unchanged up to float rounding — for every
 * family, since all of them modulate through the same block.
 */
class InputScalingTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"dit", "pixart_original", "pixart_diffusers", "stdit_v1", "latte_diffusers"})
    void foldedScaleWithDividedWeightsChangesNothing(String folder) {
        try (Denoiser model = DenoiserTest.load(folder)) {
            checkFolding(model, folder.hashCode());
        }
    }

    @Test
    void openSora3FoldsToo() throws IOException {
        Map<String, Tensor> weights = STDiT3Test.officialKeys(new Random(42));
        Path dir = Files.createDirectories(tmp.resolve("stdit3"));
        Files.writeString(dir.resolve("config.json"), STDiT3Test.CONFIG);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), weights);
        try (Denoiser model = ModelLoader.load(dir)) {
            checkFolding(model, 3);
        }
    }

    private static void checkFolding(Denoiser model, long seed) {
        Random rnd = new Random(seed);
        NamedInputs.Call call = model.info().family() == ModelFamily.STDIT3 ? stdit3Call(rnd) : DenoiserTest.randomCall(model.info(), 2, rnd);
        Tensor plain = model.forward(call.x(), call.timesteps(), call.cond());
        List<InputScaling> seams = model.inputScalings();
        assertEquals(2 * model.linears().keySet().stream().filter(n -> n.matches(".*(mlp\\.fc1|ff\\.net\\.0\\.proj)")).count(), seams.size(),
                "one seam before every attention and every MLP");
        for (InputScaling seam : seams) {
            float[] m = new float[seam.width()];
            for (int j = 0; j < m.length; j++) m[j] = (float) Math.exp(rnd.nextGaussian()); // spread over ~[0.1, 10]
            seam.set(m);
            for (Linear l : seam.consumers()) l.setExecutor(dividedWeight(l, m));
        }
        Tensor folded = model.forward(call.x(), call.timesteps(), call.cond());
        assertClose(plain, folded, 1e-5);
        // and a scale without the matching weights does change the output: the seam is really applied
        seams.getFirst().consumers().forEach(l -> l.setExecutor(null));
        Tensor broken = model.forward(call.x(), call.timesteps(), call.cond());
        assertThrows(AssertionError.class, () -> assertClose(plain, broken, 1e-3));
        for (InputScaling seam : seams) {
            seam.set(null);
            seam.consumers().forEach(l -> l.setExecutor(null));
        }
    }

    private static NamedInputs.Call stdit3Call(Random rnd) {
        int batch = 2;
        float[] hw = {240, 426, 240, 426};
        Conditioning cond = Conditioning.caption(DenoiserTest.random(rnd, batch, 5, 24), null)
                .withVideoConditions(Tensor.of(hw, batch, 2), Tensor.of(new float[]{24, 24}, batch));
        return new NamedInputs.Call(DenoiserTest.random(rnd, batch, 4, 3, 6, 10), Tensor.of(new float[]{10, 700}, batch), cond);
    }

    /** Float execution with W[:, j] / m[j]. */
    private static Linear.Executor dividedWeight(Linear l, float[] m) {
        int n = l.outFeatures(), k = l.inFeatures();
        float[] w = l.weight().toFloatArray();
        for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) w[r * k + j] /= m[j];
        Tensor scaled = Tensor.of(w, n, k);
        return (layer, x, out) -> KernelBackend.get().gemm(x.data(), x.size(0), k, scaled,
                layer.bias() == null ? null : layer.bias().data(), out.data());
    }

    @Test
    void refusesAScaleOfTheWrongWidth() {
        try (Denoiser model = DenoiserTest.load("dit")) {
            InputScaling seam = model.inputScalings().getFirst();
            String m = assertThrows(IllegalArgumentException.class, () -> seam.set(new float[seam.width() + 1])).getMessage();
            assertTrue(m.contains(seam.name()), m);
        }
    }
}
