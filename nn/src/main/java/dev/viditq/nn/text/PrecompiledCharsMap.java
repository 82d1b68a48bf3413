package dev.viditq.nn.text;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SentencePiece's compiled normalization rules ({@code precompiled_charsmap}, e.g. T5's nmt_nfkc: NFKC, control
 * characters dropped, tabs and newlines to spaces). The blob is a little-endian uint32 trie size, a darts-clone
 * double-array trie over UTF-8 byte strings whose values are offsets into the rest of the blob, and that rest:
 * NUL-terminated replacement strings. {@link #normalize} follows SentencePiece: at each position the longest rule that
 * matches a prefix of the remaining bytes is applied; with none, one character is copied unchanged.
 * {@link #normalizeAsTokenizers} follows Hugging Face tokenizers, which reads the same blob per grapheme.
 */
final class PrecompiledCharsMap {
    private final int[] trie;
    private final byte[] replacements;

    /** One normalization step: the replacement (UTF-8) of the first {@code consumed} input bytes. */
    record Step(byte[] output, int consumed) {}

    PrecompiledCharsMap(byte[] blob) {
        if (blob.length <= 4) throw new IllegalArgumentException("precompiled charsmap of " + blob.length + " bytes is too short");
        ByteBuffer bb = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = bb.getInt() & 0xFFFFFFFFL;
        if (trieBytes % 4 != 0 || 4 + trieBytes > blob.length) {
            throw new IllegalArgumentException("precompiled charsmap: trie of " + trieBytes + " bytes does not fit a blob of "
                    + blob.length + " bytes");
        }
        trie = new int[(int) (trieBytes / 4)];
        for (int i = 0; i < trie.length; i++) trie[i] = bb.getInt();
        replacements = new byte[blob.length - 4 - (int) trieBytes];
        bb.get(replacements);
    }

    /** The whole string normalized. */
    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        for (int pos = 0; pos < in.length; ) {
            Step step = step(in, pos);
            out.writeBytes(step.output());
            pos += step.consumed();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * The whole string normalized as Hugging Face tokenizers' Precompiled normalizer does it, which differs from
     * SentencePiece's longest match: per extended grapheme cluster, one shorter than 6 UTF-8 bytes is replaced whole by
     * the replacement of the <em>shortest</em> rule matching a prefix of it; any other grapheme (or one no rule matches)
     * character by character. So "ｶﾞ" (two half-width code points, 6 bytes) becomes "カ" + U+3099 here and "ガ" in
     * SentencePiece.
     */
    String normalizeAsTokenizers(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() + 8);
        Matcher graphemes = GRAPHEME.matcher(text);
        while (graphemes.find()) {
            String grapheme = graphemes.group();
            byte[] g = grapheme.getBytes(StandardCharsets.UTF_8);
            int[] whole = g.length < 6 ? prefix(g, 0, false) : null;
            if (whole != null) {
                out.writeBytes(replacementAt(whole[1]));
                continue;
            }
            grapheme.codePoints().forEach(c -> {
                byte[] ch = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8);
                int[] m = prefix(ch, 0, false);
                out.writeBytes(m != null ? replacementAt(m[1]) : ch);
            });
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static final Pattern GRAPHEME = Pattern.compile("\\X");

    /** The normalization of the longest matching prefix of {@code in[pos..]}, or its first character unchanged. */
    Step step(byte[] in, int pos) {
        int[] match = prefix(in, pos, true);
        if (match != null) return new Step(replacementAt(match[1]), match[0]);
        int len = Math.min(utf8Length(in[pos]), in.length - pos);
        byte[] same = new byte[len];
        System.arraycopy(in, pos, same, 0, len);
        return new Step(same, len);
    }

    /**
     * {length, value} of the longest (or the shortest) key that is a prefix of {@code in[pos..]}, or null
     * (darts-clone commonPrefixSearch, whose results come shortest first).
     */
    private int[] prefix(byte[] in, int pos, boolean longest) {
        if (trie.length == 0) return null;
        int[] found = null;
        int node = offset(trie[0]);
        for (int i = pos; i < in.length; i++) {
            int label = in[i] & 0xFF;
            node ^= label;
            if (node < 0 || node >= trie.length) return found;
            int unit = trie[node];
            if (label(unit) != label) return found;
            node ^= offset(unit);
            if (hasLeaf(unit)) {
                if (node < 0 || node >= trie.length) return found;
                found = new int[]{i - pos + 1, value(trie[node])};
                if (!longest) return found;
            }
        }
        return found;
    }

    private byte[] replacementAt(int offset) {
        if (offset < 0 || offset >= replacements.length) {
            throw new IllegalArgumentException("precompiled charsmap points at offset " + offset + " outside its "
                    + replacements.length + " bytes of replacements");
        }
        int end = offset;
        while (end < replacements.length && replacements[end] != 0) end++;
        byte[] r = new byte[end - offset];
        System.arraycopy(replacements, offset, r, 0, r.length);
        return r;
    }

    // darts-clone unit layout: bits 0-7 label (bit 31 marks leaves), bit 8 has-leaf, bits 10-30 offset
    // (shifted left by 8 more when bit 9 is set), leaves keep their value in bits 0-30.
    private static boolean hasLeaf(int unit) {
        return ((unit >>> 8) & 1) == 1;
    }

    private static int value(int unit) {
        return unit & 0x7FFFFFFF;
    }

    private static int label(int unit) {
        return unit & (0x80000000 | 0xFF);
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /** Bytes of the UTF-8 sequence starting with {@code lead} (1 for stray continuation bytes). */
    static int utf8Length(byte lead) {
        int b = lead & 0xFF;
        if (b < 0x80) return 1;
        if (b >= 0xF0 && b < 0xF8) return 4;
        if (b >= 0xE0) return b < 0xF0 ? 3 : 1;
        if (b >= 0xC0) return 2;
        return 1;
    }
}
