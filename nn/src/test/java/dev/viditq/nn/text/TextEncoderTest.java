package dev.viditq.nn.text;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The facade on the golden T5 weights with the tiny SentencePiece vocabulary of {@link SentencePieceTokenizerTest}. */
class TextEncoderTest {
    /** The golden case (skips the test when the shared cases are missing; fails under CI=true). */
    private static Path golden() {
        return GoldenFolder.GOLDEN.resolve("t5_encoder");
    }

    @Test
    void encodesPromptsToMaskedEmbeddings(@TempDir Path tmp) throws Exception {
        // diffusers pipeline layout: text_encoder/ and tokenizer/
        Path enc = Files.createDirectories(tmp.resolve("text_encoder"));
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(golden().resolve(f), enc.resolve(f));
        Path tok = Files.createDirectories(tmp.resolve("tokenizer"));
        Files.write(tok.resolve("spiece.model"), TokenizerFixtures.spmModel(SentencePieceTokenizerTest.vocab(), null, true));

        try (TextEncoder te = TextEncoder.load(tmp)) {
            Captions e = te.encode(List.of("ab", "abc a"), 5);
            int[] second = te.tokenizer().encode("abc a", 5).ids();
            assertArrayEquals(new int[]{6, 1, 0, 0, 0}, te.tokenizer().encode("ab", 5).ids());
            assertArrayEquals(new int[]{4, 9, 4, 1, 0}, second);
            assertArrayEquals(new int[]{2, 4}, e.validLengths(), "the tokenizer's counts");
            assertArrayEquals(new long[]{2, 5, te.width()}, e.embeddings().shape());
            assertArrayEquals(new float[]{1, 1, 0, 0, 0, 1, 1, 1, 1, 0}, e.mask().toFloatArray());

            // each prompt's embedding is what the encoder gives it alone: batching does not mix samples
            int d = te.width();
            Tensor alone = te.encoder().forward(new int[][]{second}, new int[][]{{1, 1, 1, 1, 0}});
            float[] batched = Arrays.copyOfRange(e.embeddings().toFloatArray(), 5 * d, 10 * d);
            assertArrayEquals(alone.toFloatArray(), batched, 1e-5f);

            assertThrows(IllegalArgumentException.class, () -> te.encode(List.of(), 5));
        }
    }
}
