package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The closed word list of Shapes captions, from which the word-level tokenizer of the bundled text encoder is
 * built. It is derived from the caption templates and attribute words themselves, so it cannot drift from what
 * {@link Captioner} writes.
 */
public final class ShapesVocabulary {
    private static final List<String> WORDS = build();

    private ShapesVocabulary() {}

    /** Every token a caption can contain, sorted (punctuation "," and ":" first), without duplicates. */
    public static List<String> words() {
        return WORDS;
    }

    /**
     * Splits a caption into tokens: lower-cases it, splits on whitespace and splits "," and ":" off as tokens of
     * their own. "two shapes: a red circle" → [two, shapes, :, a, red, circle].
     */
    public static List<String> tokenize(String caption) {
        List<String> tokens = new ArrayList<>();
        for (String word : caption.toLowerCase(Locale.ROOT).replace(",", " , ").replace(":", " : ").trim().split("\\s+")) {
            if (!word.isEmpty()) tokens.add(word);
        }
        return tokens;
    }

    private static List<String> build() {
        TreeSet<String> words = new TreeSet<>();
        Captioner.allText().forEach(text -> {
            for (String token : tokenize(text.replaceAll("\\{[a-z0-9]+}", " "))) words.add(token);
        });
        return List.copyOf(words);
    }
}
