package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Prompts → caption embeddings, as a text-to-image/video pipeline needs them: tokenize each prompt to exactly
 * {@code maxLength} tokens (EOS kept, padded, mask), then run the T5 encoder on the whole batch in one forward pass.
 * PixArt-α uses maxLength 120, PixArt-Σ 300 (the family descriptor's caption length).
 */
public final class TextEncoder implements AutoCloseable {
    private final Tokenizer tokenizer;
    private final T5Encoder encoder;

    public TextEncoder(Tokenizer tokenizer, T5Encoder encoder) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        if (tokenizer.vocabSize() > encoder.config().vocabSize()) {
            // T5's embedding is padded beyond the tokenizer (32128 rows for 32100 ids), never the other way round
            throw new IllegalArgumentException("tokenizer has " + tokenizer.vocabSize() + " ids but the encoder embeds only "
                    + encoder.config().vocabSize());
        }
    }

    /**
     * Loads both parts from a diffusers pipeline folder ({@code text_encoder/} + {@code tokenizer/}) or from one
     * folder holding config.json, the weights and tokenizer.json or spiece.model.
     */
    public static TextEncoder load(Path dir) {
        if (Files.isDirectory(dir.resolve("text_encoder"))) return load(dir.resolve("text_encoder"), dir.resolve("tokenizer"));
        return load(dir, dir);
    }

    /** Loads the encoder from {@code encoderDir} and the tokenizer from {@code tokenizerPath} (file or folder). */
    public static TextEncoder load(Path encoderDir, Path tokenizerPath) {
        if (!Files.exists(tokenizerPath)) throw new CheckpointException(tokenizerPath, "no tokenizer here");
        Tokenizer tokenizer = Tokenizers.load(tokenizerPath);
        T5Encoder encoder = T5Encoder.load(encoderDir);
        try {
            return new TextEncoder(tokenizer, encoder);
        } catch (RuntimeException e) {
            encoder.close();
            throw e;
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public T5Encoder encoder() {
        return encoder;
    }

    /** Caption width (d_model: 4096 for T5-XXL). */
    public int width() {
        return encoder.config().dModel();
    }

    /**
     * Embeddings of {@code prompts}, each tokenized to exactly {@code maxLength} tokens: T5's last_hidden_state
     * [B, L, d_model] (rows past a caption's tokens are defined but unused), the mask (1 for real tokens, EOS
     * included) and each caption's token count as the tokenizer made it.
     */
    public Captions encode(List<String> prompts, int maxLength) {
        if (prompts.isEmpty()) throw new IllegalArgumentException("no prompts to encode");
        if (maxLength < 1) throw new IllegalArgumentException("max length must be positive, is " + maxLength);
        int batch = prompts.size();
        int[][] ids = new int[batch][];
        int[][] mask = new int[batch][];
        int[] valid = new int[batch];
        float[] maskValues = new float[batch * maxLength];
        for (int b = 0; b < batch; b++) {
            Tokenizer.Encoding e = tokenizer.encode(prompts.get(b), maxLength);
            ids[b] = e.ids();
            mask[b] = e.attentionMask();
            valid[b] = e.validLength();
            for (int t = 0; t < maxLength; t++) maskValues[b * maxLength + t] = mask[b][t];
        }
        Tensor hidden = encoder.forward(ids, mask);
        return new Captions(hidden, Tensor.of(maskValues, batch, maxLength), valid);
    }

    @Override
    public void close() {
        encoder.close();
    }
}
