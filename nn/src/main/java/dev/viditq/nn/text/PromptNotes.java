package dev.viditq.nn.text;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Tells the user, once per prompt and process, what the tokenizer did to a prompt that they would otherwise never
 * see: words outside the vocabulary (encoded as the unknown token, which the model conditions on as noise) and a
 * prompt longer than the model's caption length (cut at the end). Printed on stderr, like the other notes.
 */
final class PromptNotes {
    /** Prompts already reported (a prompt is encoded again for every batch and guidance half). */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
    private static final int SHOWN_WORDS = 10, SHOWN_CHARS = 80;

    private PromptNotes() {}

    /**
     * {@code content}: the prompt's ids without special tokens; {@code room}: how many of them the caption holds;
     * {@code unkId} and {@code tokenize}: the tokenizer's unknown token (negative when it has none) and its word-level
     * tokenization, to name the unknown words.
     */
    static void report(int unkId, Function<String, int[]> tokenize, String text, int[] content, int room) {
        boolean unknown = hasUnknown(unkId, content);
        if ((!unknown && content.length <= room) || !REPORTED.add(text)) return;
        if (unknown) {
            System.err.println("warning: prompt " + quoted(text) + ": not in the tokenizer's vocabulary, encoded as the unknown"
                    + " token: " + unknownWords(unkId, tokenize, text));
        }
        if (content.length > room) {
            System.err.println("note: prompt " + quoted(text) + " has " + content.length + " tokens; the model's captions hold "
                    + room + ", so the last " + (content.length - room) + " are cut");
        }
    }

    private static boolean hasUnknown(int unk, int[] ids) {
        if (unk < 0) return false;
        for (int id : ids) if (id == unk) return true;
        return false;
    }

    /** The whitespace-separated words that alone encode to the unknown token. */
    private static String unknownWords(int unkId, Function<String, int[]> tokenize, String text) {
        Set<String> words = new LinkedHashSet<>();
        for (String word : text.strip().split("\\s+")) {
            if (!word.isEmpty() && hasUnknown(unkId, tokenize.apply(word))) words.add(quoted(word));
            if (words.size() == SHOWN_WORDS) break;
        }
        return words.isEmpty() ? "some of its characters" : String.join(", ", words);
    }

    private static String quoted(String s) {
        String clean = s.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return "'" + (clean.length() > SHOWN_CHARS ? clean.substring(0, SHOWN_CHARS) + "…" : clean) + "'";
    }
}
