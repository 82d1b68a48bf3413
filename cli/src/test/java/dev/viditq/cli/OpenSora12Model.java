package dev.viditq.cli;

import dev.viditq.core.testing.TestTokenizers;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.sampling.SeededGaussian;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A complete Open-Sora 1.2 model folder from the golden cases' tiny random weights, laid out as docs/MODEL_FORMAT.md
 * describes: the golden STDiT3 at the top (its caption projection and null caption re-drawn 64 wide, for the golden
 * T5 of d_model 64), the golden VideoAutoencoderPipeline in vae/ (2-D factor 2, temporal factor 4, micro-frame
 * chunks of 5), the golden T5 in text_encoder/ and a WordLevel tokenizer. The config's pipeline block states the
 * Shapes size (32×32, 16 frames) and a timestep shift, since Open-Sora's own rule is undefined below 17 frames.
 */
final class OpenSora12Model {
    static final double TIMESTEP_SHIFT = 1.5;

    private OpenSora12Model() {}

    /** Skips the calling test when a golden case it is built from is missing (fails it under CI=true). */
    static void requireCases() {
        GoldenFolder next = GoldenFolder.named("golden_next");
        next.resolve("stdit3/model.safetensors");
        next.resolve("opensora_vae/model.safetensors");
        GoldenFolder.GOLDEN.resolve("t5_encoder/model.safetensors");
    }

    static Path write(Path dir) throws IOException {
        GoldenFolder next = GoldenFolder.named("golden_next");
        Files.createDirectories(dir);
        int textWidth = 64; // the golden T5's d_model
        Map<String, long[]> redrawn = Map.of("y_embedder.y_proj.fc1.weight", new long[]{64, textWidth},
                "y_embedder.y_embedding", new long[]{6, textWidth});
        rewriteWeights(next.resolve("stdit3/model.safetensors"), dir.resolve("model.safetensors"), redrawn);
        ObjectNode config = (ObjectNode) Json.MAPPER.readTree(next.resolve("stdit3/config.json").toFile());
        config.put("caption_channels", textWidth);
        config.putObject("pipeline").put("height", 32).put("width", 32).put("frames", 16).put("timestep_shift", TIMESTEP_SHIFT);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        copy(next.resolve("opensora_vae"), dir.resolve("vae"));
        copy(GoldenFolder.GOLDEN.resolve("t5_encoder"), dir.resolve("text_encoder"));
        Files.createDirectories(dir.resolve("tokenizer"));
        Files.writeString(dir.resolve("tokenizer/tokenizer.json"), WORD_LEVEL);
        return dir;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(from.resolve(f), to.resolve(f));
    }

    /** A copy of the checkpoint where the named tensors get new shapes and fresh small random values. */
    private static void rewriteWeights(Path from, Path to, Map<String, long[]> redrawn) {
        SeededGaussian rng = new SeededGaussian(12);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (Safetensors st = Safetensors.open(from)) {
            for (String name : st.names()) {
                long[] shape = redrawn.get(name);
                Tensor t = shape == null ? st.get(name).copy() : rng.next(shape);
                if (shape != null) for (long i = 0; i < t.numel(); i++) t.setFloat(i, 0.2f * t.getFloat(i));
                tensors.put(name, t);
            }
        }
        SafetensorsWriter.write(to, tensors);
    }

    private static final String WORD_LEVEL = TestTokenizers.wordLevel("a", "red", "blue", "green", "circle", "square", "triangle",
            "moving", "left", "right", "up", "down", "large", "small");
}
