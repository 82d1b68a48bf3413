package dev.viditq.nn.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Unigram language-model segmentation shared by SentencePiece and the tokenizers library: the segmentation
 * of a (normalized) string that maximises the sum of piece scores, found by Viterbi over character positions.
 * A character no piece starts with becomes the unknown token with score {@code minScore - 10} (both reference
 * implementations use this penalty), and runs of unknown tokens are fused into one, as both do.
 * With byte fallback, an unknown run is spelled as its UTF-8 bytes ({@code <0xAB>} pieces) instead.
 */
final class UnigramModel {
    /** Score penalty of an unknown character below the lowest piece score (kUnkPenalty in both references). */
    static final double UNK_PENALTY = 10.0;

    /** How a piece takes part in segmentation. */
    enum Kind {
        /** An ordinary piece, matched in text with its score. */
        NORMAL,
        /** SentencePiece USER_DEFINED: scored (characters × highest normal score + 1), favouring it over pieces. */
        USER_DEFINED,
        /** Never matched in text: control symbols, the unknown token, unused and byte pieces. */
        RESERVED
    }

    private final String[] pieces;
    private final double[] scores;
    private final Kind[] kinds;
    private final Map<String, Integer> matchable = new HashMap<>();
    private final int unkId;
    private final boolean byteFallback;
    private final Map<Integer, Integer> byteIds;
    private final int maxPieceChars;
    private final double unkScore;
    private final double maxScore;

    /**
     * @param unkId        id of the unknown token, or -1 when the vocabulary has none (unknown text is an error)
     * @param byteFallback spell unknown characters as {@code <0xAB>} byte pieces when those exist
     */
    UnigramModel(String[] pieces, double[] scores, Kind[] kinds, int unkId, boolean byteFallback) {
        if (pieces.length != scores.length || pieces.length != kinds.length) {
            throw new IllegalArgumentException("pieces, scores and kinds differ in length");
        }
        if (unkId >= pieces.length) throw new IllegalArgumentException("unknown-token id " + unkId + " outside the vocabulary");
        this.pieces = pieces;
        this.scores = scores;
        this.kinds = kinds;
        this.unkId = unkId;
        this.byteFallback = byteFallback;
        this.byteIds = byteFallback ? findBytePieces(pieces) : Map.of();
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        int longest = 0;
        for (int id = 0; id < pieces.length; id++) {
            if (kinds[id] == Kind.RESERVED || pieces[id].isEmpty()) continue;
            matchable.putIfAbsent(pieces[id], id); // the first of duplicate pieces wins, as in the references
            longest = Math.max(longest, pieces[id].length());
            if (kinds[id] == Kind.NORMAL) {
                min = Math.min(min, scores[id]);
                max = Math.max(max, scores[id]);
            }
        }
        this.maxPieceChars = longest;
        this.unkScore = (min == Double.POSITIVE_INFINITY ? 0 : min) - UNK_PENALTY;
        this.maxScore = max == Double.NEGATIVE_INFINITY ? 0 : max;
    }

    int size() {
        return pieces.length;
    }

    String piece(int id) {
        return pieces[id];
    }

    /** The unknown token's id, or -1 when there is none. */
    int unkId() {
        return unkId;
    }

    /** The id of {@code piece} when it can be matched in text, else -1. */
    int idOf(String piece) {
        return matchable.getOrDefault(piece, -1);
    }

    /** Best segmentation of {@code text} as ids (unknown runs fused or byte-spelled). */
    List<Integer> encode(String text) {
        int n = text.length();
        if (n == 0) return new ArrayList<>();
        // best[e]: best score of a segmentation of text[0, e); start[e] / token[e]: the last piece of it.
        double[] best = new double[n + 1];
        int[] start = new int[n + 1];
        int[] token = new int[n + 1];
        java.util.Arrays.fill(start, -1);
        start[0] = 0;
        for (int s = 0; s < n; s = next(text, s)) {
            if (start[s] < 0) continue; // not a character boundary reached by any path (cannot happen: unk covers all)
            int charEnd = next(text, s);
            boolean singleCharPiece = false;
            for (int e = charEnd; e <= Math.min(n, s + maxPieceChars); e = e < n ? next(text, e) : e + 1) {
                Integer id = matchable.get(text.substring(s, e));
                if (id == null) continue;
                relax(best, start, token, s, e, id, pieceScore(id, text.codePointCount(s, e)));
                if (e == charEnd) singleCharPiece = true;
            }
            if (!singleCharPiece) relax(best, start, token, s, charEnd, unkId, unkScore);
        }
        return backtrack(text, start, token);
    }

    private double pieceScore(int id, int chars) {
        // SentencePiece gives user-defined symbols a score that beats any segmentation of the same span.
        return kinds[id] == Kind.USER_DEFINED ? chars * maxScore + 1.0 : scores[id];
    }

    private static void relax(double[] best, int[] start, int[] token, int s, int e, int id, double score) {
        double candidate = best[s] + score;
        if (start[e] < 0 || candidate > best[e]) {
            best[e] = candidate;
            start[e] = s;
            token[e] = id;
        }
    }

    private List<Integer> backtrack(String text, int[] start, int[] token) {
        List<int[]> spans = new ArrayList<>(); // {start, end, id}, last first
        for (int e = text.length(); e > 0; e = start[e]) spans.add(new int[]{start[e], e, token[e]});
        List<Integer> ids = new ArrayList<>(spans.size());
        for (int i = spans.size() - 1; i >= 0; i--) {
            int[] span = spans.get(i);
            if (span[2] != unkId) {
                ids.add(span[2]);
                continue;
            }
            int runStart = span[0], runEnd = span[1];
            while (i > 0 && spans.get(i - 1)[2] == unkId) runEnd = spans.get(--i)[1];
            addUnknown(text.substring(runStart, runEnd), ids);
        }
        return ids;
    }

    private void addUnknown(String surface, List<Integer> ids) {
        if (unkId < 0 && !byteFallback) {
            throw new IllegalArgumentException("text '" + surface + "' has no piece in the vocabulary and there is no unknown token");
        }
        if (byteFallback) {
            List<Integer> bytes = new ArrayList<>();
            for (byte b : surface.getBytes(StandardCharsets.UTF_8)) {
                Integer id = byteIds.get(b & 0xFF);
                if (id == null) {
                    bytes = null;
                    break;
                }
                bytes.add(id);
            }
            if (bytes != null) {
                ids.addAll(bytes);
                return;
            }
            if (unkId < 0) throw new IllegalArgumentException("text '" + surface + "' cannot be spelled in byte pieces");
        }
        ids.add(unkId);
    }

    /** Byte value → id of its {@code <0xAB>} piece. */
    private static Map<Integer, Integer> findBytePieces(String[] pieces) {
        Map<Integer, Integer> m = new HashMap<>();
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                try {
                    m.putIfAbsent(Integer.parseInt(p.substring(3, 5), 16), id);
                } catch (NumberFormatException ignored) {
                    // an ordinary piece that only looks like a byte piece
                }
            }
        }
        return m;
    }

    /** Index after the character (code point) at {@code i}. */
    private static int next(String s, int i) {
        return i + Character.charCount(s.codePointAt(i));
    }
}
