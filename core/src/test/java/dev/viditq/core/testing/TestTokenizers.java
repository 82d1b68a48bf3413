package dev.viditq.core.testing;

import java.util.StringJoiner;

/** Tokenizer files for the tiny test models. */
public final class TestTokenizers {
    private TestTokenizers() {}

    /**
     * A T5-like Hugging Face WordLevel {@code tokenizer.json}: pad 0, eos 1, unk 2, then {@code words} from id 3 in
     * order; lowercased, split on whitespace, "$A &lt;/s&gt;".
     */
    public static String wordLevel(String... words) {
        StringJoiner vocab = new StringJoiner(", ", "{\"<pad>\": 0, \"</s>\": 1, \"<unk>\": 2, ", "}");
        for (int i = 0; i < words.length; i++) vocab.add("\"" + words[i] + "\": " + (i + 3));
        return """
                {"added_tokens": [{"id": 1, "content": "</s>", "special": true}],
                 "normalizer": {"type": "Lowercase"},
                 "pre_tokenizer": {"type": "Whitespace"},
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                   "special_tokens": {"</s>": {"id": "</s>", "ids": [1]}}},
                 "padding": {"pad_id": 0, "pad_token": "<pad>"},
                 "model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": %s}}
                """.formatted(vocab);
    }
}
