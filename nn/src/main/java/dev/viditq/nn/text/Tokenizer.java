package dev.viditq.nn.text;


import java.util.Arrays;

/**
 * Text → token ids, as the text encoder of a pipeline needs them: the model's segmentation, the special tokens its
 * post-processor adds (T5: {@code </s>} at the end), truncation that keeps those special tokens, and padding with an
 * attention mask. Implementations: {@link HfTokenizer} (Hugging Face {@code tokenizer.json}) and
 * {@link SentencePieceTokenizer} ({@code spiece.model}).
 */
public interface Tokenizer {
    /** Ids of {@code text} without special tokens, neither truncated nor padded. */
    int[] tokenize(String text);

    /** {@code content} with the special tokens of a single sequence added (T5: EOS appended). */
    int[] addSpecialTokens(int[] content);

    /** How many ids {@link #addSpecialTokens} adds, so that truncation leaves room for them. */
    int numSpecialTokens();

    /** The id written into padded positions. */
    int padId();

    int vocabSize();

    /** The id of the unknown token text outside the vocabulary becomes, or -1 when there is none. */
    default int unkId() {
        return -1;
    }

    /** The piece (token text) of {@code id}, for messages and tests. */
    String piece(int id);

    /** Ids of {@code text} with special tokens, untruncated. */
    default int[] encode(String text) {
        return addSpecialTokens(tokenize(text));
    }

    /**
     * Ids of {@code text} with special tokens, truncated on the right so that the special tokens still fit
     * (as transformers does with {@code truncation=True}), then padded to exactly {@code maxLength}.
     */
    default Encoding encode(String text, int maxLength) {
        int room = maxLength - numSpecialTokens();
        if (room < 0) {
            throw new IllegalArgumentException("max length " + maxLength + " leaves no room for the "
                    + numSpecialTokens() + " special tokens");
        }
        int[] content = tokenize(text);
        PromptNotes.report(unkId(), this::tokenize, text, content, room);
        if (content.length > room) content = Arrays.copyOf(content, room);
        int[] real = addSpecialTokens(content);
        int[] ids = Arrays.copyOf(real, maxLength);
        Arrays.fill(ids, real.length, maxLength, padId());
        return new Encoding(ids, real.length);
    }

    /**
     * Ids padded on the right to a fixed length.
     *
     * @param validLength real tokens (special tokens included), the first ones of {@code ids}; the rest is padding
     */
    record Encoding(int[] ids, int validLength) {
        public Encoding {
            if (validLength < 0 || validLength > ids.length) {
                throw new IllegalArgumentException(validLength + " real tokens in " + ids.length + " ids");
            }
        }

        /** The attention mask: 1 for the real tokens, 0 for padding. */
        public int[] attentionMask() {
            int[] mask = new int[ids.length];
            Arrays.fill(mask, 0, validLength, 1);
            return mask;
        }
    }
}
