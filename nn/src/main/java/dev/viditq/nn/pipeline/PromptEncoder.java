package dev.viditq.nn.pipeline;

import dev.viditq.nn.text.TextEncoder;

import java.util.List;

/** Prompts → caption embeddings padded to a fixed length; the pipeline's only view of the text encoder. */
@FunctionalInterface
public interface PromptEncoder {
    Captions encode(List<String> prompts, int maxLength);

    /** The T5 text encoder (tokenizer + encoder) of a model folder. */
    static PromptEncoder of(TextEncoder encoder) {
        return (prompts, maxLength) -> {
            TextEncoder.Embeddings e = encoder.encode(prompts, maxLength);
            return new Captions(e.hidden(), e.mask());
        };
    }
}
