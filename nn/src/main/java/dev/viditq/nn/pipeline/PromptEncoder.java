package dev.viditq.nn.pipeline;

import dev.viditq.nn.text.Captions;
import dev.viditq.nn.text.TextEncoder;

import java.util.List;

/**
 * Prompts → caption embeddings padded to a fixed length, with each caption's token count; the pipeline's only view
 * of the text encoder, called once per generation with every text of the batch.
 */
@FunctionalInterface
public interface PromptEncoder {
    Captions encode(List<String> prompts, int maxLength);

    /** The T5 text encoder (tokenizer + encoder) of a model folder. */
    static PromptEncoder of(TextEncoder encoder) {
        return encoder::encode;
    }
}
