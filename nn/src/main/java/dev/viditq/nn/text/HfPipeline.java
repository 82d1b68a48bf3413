package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.JsonNode;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The normalizers and pre-tokenizers of a {@code tokenizer.json} (tokenizers library format) that T5-style
 * tokenizers use, built from their JSON. Offsets are not tracked (only ids are needed), except whether a piece
 * starts the input, which Metaspace's {@code prepend_scheme: "first"} asks.
 */
final class HfPipeline {
    private HfPipeline() {}

    /** A piece of pre-tokenized text and where it starts in the (normalized) input. */
    record Piece(String text, int start) {}

    interface PreTokenizer {
        List<Piece> split(List<Piece> pieces);
    }

    // ---------------------------------------------------------------- normalizers

    /** The normalizer of a {@code "normalizer"} node; identity for null. */
    static UnaryOperator<String> normalizer(JsonNode n) {
        if (n == null || n.isNull()) return UnaryOperator.identity();
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> parts = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) parts.add(normalizer(c));
                yield s -> {
                    for (UnaryOperator<String> p : parts) s = p.apply(s);
                    return s;
                };
            }
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "StripAccents" -> s -> s.replaceAll("\\p{Mn}", "");
            case "Strip" -> {
                boolean left = n.path("strip_left").asBoolean(n.path("left").asBoolean(true));
                boolean right = n.path("strip_right").asBoolean(n.path("right").asBoolean(true));
                yield s -> {
                    if (left) s = s.stripLeading();
                    if (right) s = s.stripTrailing();
                    return s;
                };
            }
            case "Prepend" -> {
                String prefix = requiredText(n, "prepend");
                yield s -> s.isEmpty() ? s : prefix + s;
            }
            case "Replace" -> {
                Pattern pattern = pattern(n.path("pattern"));
                String content = requiredText(n, "content");
                yield s -> pattern.matcher(s).replaceAll(Matcher.quoteReplacement(content));
            }
            case "Precompiled" -> {
                String b64 = n.path("precompiled_charsmap").asText("");
                if (b64.isEmpty()) yield UnaryOperator.identity();
                PrecompiledCharsMap map = new PrecompiledCharsMap(Base64.getDecoder().decode(b64));
                yield map::normalizeAsTokenizers;
            }
            default -> throw new IllegalArgumentException("normalizer type '" + type + "' is not supported (supported: "
                    + "Sequence, Lowercase, NFC, NFD, NFKC, NFKD, StripAccents, Strip, Prepend, Replace, Precompiled)");
        };
    }

    /** A Replace/Split pattern: {"String": literal} or {"Regex": regex}. */
    private static Pattern pattern(JsonNode p) {
        if (p.has("String")) return Pattern.compile(Pattern.quote(p.get("String").asText()));
        if (p.has("Regex")) return Pattern.compile(p.get("Regex").asText(), Pattern.UNICODE_CHARACTER_CLASS);
        throw new IllegalArgumentException("pattern " + p + " is neither {\"String\": ...} nor {\"Regex\": ...}");
    }

    // ---------------------------------------------------------------- pre-tokenizers

    /** The pre-tokenizer of a {@code "pre_tokenizer"} node; none (the whole text is one piece) for null. */
    static PreTokenizer preTokenizer(JsonNode n) {
        if (n == null || n.isNull()) return pieces -> pieces;
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) parts.add(preTokenizer(c));
                yield pieces -> {
                    for (PreTokenizer p : parts) pieces = p.split(pieces);
                    return pieces;
                };
            }
            case "WhitespaceSplit" -> pieces -> splitEach(pieces, HfPipeline::whitespaceSplit);
            case "Whitespace" -> pieces -> splitEach(pieces, p -> matches(p, WORDS_OR_PUNCTUATION));
            case "Metaspace" -> metaspace(n);
            default -> throw new IllegalArgumentException("pre-tokenizer type '" + type + "' is not supported (supported: "
                    + "Sequence, WhitespaceSplit, Whitespace, Metaspace)");
        };
    }

    /** tokenizers' Whitespace pre-tokenizer: runs of word characters, or runs of other non-space characters. */
    private static final Pattern WORDS_OR_PUNCTUATION = Pattern.compile("\\w+|[^\\w\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    private static List<Piece> splitEach(List<Piece> pieces, java.util.function.Function<Piece, List<Piece>> f) {
        List<Piece> out = new ArrayList<>();
        for (Piece p : pieces) out.addAll(f.apply(p));
        return out;
    }

    /**
     * Runs between Unicode White_Space characters (Rust's char::is_whitespace, which tokenizers uses): unlike Java's
     * Character.isWhitespace it counts the no-break spaces (U+00A0, U+2007, U+202F) and U+0085, not U+001C..U+001F.
     */
    private static final Pattern NOT_WHITE_SPACE = Pattern.compile("\\P{IsWhite_Space}+");

    private static List<Piece> whitespaceSplit(Piece p) {
        return matches(p, NOT_WHITE_SPACE);
    }

    private static List<Piece> matches(Piece p, Pattern pattern) {
        List<Piece> out = new ArrayList<>();
        Matcher m = pattern.matcher(p.text());
        while (m.find()) out.add(new Piece(m.group(), p.start() + m.start()));
        return out;
    }

    /**
     * Metaspace: spaces become the replacement character (U+2581), which is prepended (always, or only to the
     * piece that starts the input, or never), and with {@code split} each replacement starts a new piece.
     * Reads both the current ({@code prepend_scheme}, {@code split}) and the older ({@code add_prefix_space}) form.
     */
    private static PreTokenizer metaspace(JsonNode n) {
        String replacement = n.path("replacement").asText(SentencePieceTokenizer.SPACE_SYMBOL);
        String scheme = n.has("prepend_scheme") ? n.get("prepend_scheme").asText()
                : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw new IllegalArgumentException("Metaspace prepend_scheme '" + scheme + "' is not always, first or never");
        }
        boolean split = n.path("split").asBoolean(true);
        return pieces -> splitEach(pieces, p -> {
            String s = p.text().replace(" ", replacement);
            boolean prepend = scheme.equals("always") || (scheme.equals("first") && p.start() == 0);
            if (prepend && !s.startsWith(replacement)) s = replacement + s;
            Piece replaced = new Piece(s, p.start());
            return split ? mergedWithNext(replaced, replacement) : List.of(replaced);
        });
    }

    /** Splits before every occurrence of {@code delimiter}, keeping it at the start of the following piece. */
    private static List<Piece> mergedWithNext(Piece p, String delimiter) {
        List<Piece> out = new ArrayList<>();
        String s = p.text();
        int start = 0;
        for (int i = s.indexOf(delimiter, 1); i >= 0; i = s.indexOf(delimiter, i + delimiter.length())) {
            out.add(new Piece(s.substring(start, i), p.start() + start));
            start = i;
        }
        if (start < s.length()) out.add(new Piece(s.substring(start), p.start() + start));
        return out;
    }

    static String requiredText(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(n.path("type").asText() + " lacks the text field '" + field + "'");
        return v.asText();
    }
}
