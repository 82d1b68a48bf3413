package dev.viditq.nn.pipeline;

import dev.viditq.core.testing.TestTokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.sampling.SeededGaussian;
import dev.viditq.nn.text.Captions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Model folders for pipeline tests, assembled from the golden cases' tiny random weights: the denoisers, the
 * 2-block VAE (pixel factor 2) and the T5 encoder (d_model 64), plus a WordLevel tokenizer written here.
 */
final class TinyModels {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyModels() {}

    /** Skips the calling test class when a golden case it builds from is missing (fails it under CI=true). */
    static void requireCases() {
        for (String c : new String[]{"dit", "pixart_original", "pixart_diffusers", "stdit_v1", "latte_diffusers", "vae", "t5_encoder"}) {
            GoldenFolder.GOLDEN.resolve(c + "/model.safetensors");
        }
    }

    /** A golden case folder. */
    static Path golden(String goldenCase) {
        return GoldenFolder.GOLDEN.resolve(goldenCase);
    }

    /** Flat layout: the denoiser at the top, vae/ beside it. */
    static Path flat(Path dir, String goldenCase) throws IOException {
        copy(golden(goldenCase), dir);
        copy(golden("vae"), dir.resolve("vae"));
        return dir;
    }

    /** diffusers layout: transformer/, vae/, and optionally scheduler/scheduler_config.json. */
    static Path diffusers(Path dir, String goldenCase, String schedulerConfig) throws IOException {
        copy(golden(goldenCase), dir.resolve("transformer"));
        copy(golden("vae"), dir.resolve("vae"));
        if (schedulerConfig != null) {
            Files.createDirectories(dir.resolve("scheduler"));
            Files.writeString(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig);
        }
        return dir;
    }

    /** Original PixArt re-shaped to take 64-wide captions, with the golden T5 (d_model 64) and a tokenizer. */
    static Path pixartWithText(Path dir) throws IOException {
        rewrite(golden("pixart_original"), dir,
                Map.of("y_embedder.y_proj.fc1.weight", new long[]{96, 64}, "y_embedder.y_embedding", new long[]{6, 64}),
                Map.of("caption_channels", 64));
        copy(golden("vae"), dir.resolve("vae"));
        copy(golden("t5_encoder"), dir.resolve("text_encoder"));
        Files.createDirectories(dir.resolve("tokenizer"));
        Files.writeString(dir.resolve("tokenizer/tokenizer.json"), WORD_LEVEL);
        return dir;
    }

    /** DiT with 3 input channels and no VAE: a pixel-space model. */
    static Path pixelDit(Path dir) throws IOException {
        rewrite(golden("dit"), dir, Map.of("x_embedder.proj.weight", new long[]{64, 3, 2, 2},
                "final_layer.linear.weight", new long[]{24, 64}, "final_layer.linear.bias", new long[]{24}), Map.of("in_channels", 3));
        return dir;
    }

    /** config.json and model.safetensors of {@code from}, into {@code to}. */
    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(from.resolve(f), to.resolve(f));
    }

    /** A copy of {@code from} where the named tensors get new shapes (fresh small random values) and the config new values. */
    static void rewrite(Path from, Path to, Map<String, long[]> reshaped, Map<String, Integer> config) throws IOException {
        Files.createDirectories(to);
        SeededGaussian rng = new SeededGaussian(99);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Safetensors st = Safetensors.open(from.resolve("model.safetensors"))) {
            for (String name : st.names()) {
                long[] shape = reshaped.get(name);
                Tensor t = shape == null ? st.get(name).copy() : rng.next(shape);
                if (shape != null) for (long i = 0; i < t.numel(); i++) t.setFloat(i, 0.05f * t.getFloat(i));
                tensors.put(name, t);
            }
        }
        SafetensorsWriter.write(to.resolve("model.safetensors"), tensors);
        ObjectNode cfg = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        config.forEach(cfg::put);
        Files.writeString(to.resolve("config.json"), cfg.toString());
    }

    static final String WORD_LEVEL = TestTokenizers.wordLevel("a", "red", "fox", "blue", "sea", "in", "snow", "blurry", "dark");

    /** Caption embeddings [1, length, width] with {@code valid} real tokens, deterministic from {@code seed}. */
    static Captions captions(long seed, int length, int width, int valid) {
        Tensor e = new SeededGaussian(seed).next(1, length, width);
        float[] m = new float[length];
        for (int i = 0; i < valid; i++) m[i] = 1;
        return new Captions(e, Tensor.of(m, 1, length));
    }
}
