package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.viditq.nn.text.TokenizerFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Segmentations checked against Viterbi by hand. The vocabulary (ids after pad 0, eos 1, unk 2):
 * 3 "▁" -2, 4 "▁a" -1, 5 "b" -4, 6 "▁ab" -4.5, 7 "a" -3.5, 8 "c" -6, 9 "bc" -1, 10 "▁b" -3, 11 "fi" -2.
 * The unknown score is min(-6) - 10 = -16.
 */
class SentencePieceTokenizerTest {
    static List<Piece> vocab() {
        List<Piece> v = t5Specials();
        v.addAll(List.of(normal("▁", -2), normal("▁a", -1), normal("b", -4), normal("▁ab", -4.5f), normal("a", -3.5f),
                normal("c", -6), normal("bc", -1), normal("▁b", -3), normal("fi", -2)));
        return v;
    }

    /** Fullwidth Ａ → a, tab → space, the ﬁ ligature → fi, and "AB" → c beside "A" → a (longest rule wins). */
    static final Map<String, String> RULES = Map.of("\uFF21", "a", "\t", " ", "\uFB01", "fi", "A", "a", "AB", "c");

    private static SentencePieceTokenizer tokenizer(byte[] charsMap, boolean dummyPrefix) {
        return SentencePieceTokenizer.parse(spmModel(vocab(), charsMap, dummyPrefix));
    }

    @Test
    void viterbiPicksTheBestTotalScoreNotTheLongestPiece() {
        SentencePieceTokenizer t = tokenizer(null, true);
        // "▁ab": ▁ab (-4.5) beats ▁a+b (-5) and ▁+a+b (-9.5)
        assertArrayEquals(new int[]{6}, t.tokenize("ab"));
        // "▁abc": ▁a+bc (-2) beats the longest-first ▁ab+c (-10.5)
        assertArrayEquals(new int[]{4, 9}, t.tokenize("abc"));
        // repeated spaces collapse: "▁a▁b" = ▁a + ▁b (-4)
        assertArrayEquals(new int[]{4, 10}, t.tokenize("  a   b  "));
    }

    @Test
    void unknownCharactersFuseIntoOneUnknownToken() {
        SentencePieceTokenizer t = tokenizer(null, true);
        // "▁xy▁a": ▁, then x and y have no piece → one <unk>, then ▁a
        assertArrayEquals(new int[]{3, 2, 4}, t.tokenize("xy a"));
        // separated unknowns stay separate: "▁a" "x" "b" ... x alone, then bc
        assertArrayEquals(new int[]{4, 2, 9}, t.tokenize("axbc"));
        assertEquals("<unk>", t.piece(2));
    }

    @Test
    void emptyAndBlankTextGiveOnlyEos() {
        SentencePieceTokenizer t = tokenizer(null, true);
        assertArrayEquals(new int[]{1}, t.encode(""));
        assertArrayEquals(new int[]{1}, t.encode("   "));
    }

    @Test
    void eosPaddingAndTruncation() {
        SentencePieceTokenizer t = tokenizer(null, true);
        Tokenizer.Encoding e = t.encode("abc", 6);
        assertArrayEquals(new int[]{4, 9, 1, 0, 0, 0}, e.ids());
        assertArrayEquals(new int[]{1, 1, 1, 0, 0, 0}, e.attentionMask());
        assertEquals(3, e.validLength());
        // "▁abc▁a" = ▁a bc ▁a; truncated to two pieces, EOS kept last
        assertArrayEquals(new int[]{4, 9, 1}, t.encode("abc a", 3).ids());
        assertArrayEquals(new int[]{1}, t.encode("abc a", 1).ids());
        assertThrows(IllegalArgumentException.class, () -> t.encode("abc", 0));
    }

    @Test
    void precompiledCharsMapNormalizesLongestRuleFirst() {
        SentencePieceTokenizer t = tokenizer(charsMap(RULES), true);
        assertEquals("▁a▁fi", t.normalize("\uFF21\t\uFB01"));
        assertArrayEquals(new int[]{4, 3, 11}, t.tokenize("\uFF21\t\uFB01"));
        assertEquals("▁c▁a", t.normalize("AB A"));
        // without the charsmap the same text is unknown: "▁" then one fused <unk>... and a tab is not a space
        assertEquals("▁\uFF21\t\uFB01", tokenizer(null, true).normalize("\uFF21\t\uFB01"));
    }

    @Test
    void withoutDummyPrefixTheFirstWordHasNoSpaceSymbol() {
        SentencePieceTokenizer t = tokenizer(null, false);
        assertEquals("ab▁a", t.normalize(" ab a "));
        assertArrayEquals(new int[]{7, 5, 4}, t.tokenize("ab a"));
    }

    @Test
    void userDefinedPiecesMatchAndUnusedPiecesNever() {
        List<Piece> v = vocab();
        v.add(new Piece("x", -100, USER_DEFINED)); // 12: scored 1 char · max score (-1) + 1 = 0, its own score ignored
        v.add(new Piece("▁abc", 0, UNUSED));       // 13: would win "abc" if it were matched
        SentencePieceTokenizer t = SentencePieceTokenizer.parse(spmModel(v, null, true));
        assertArrayEquals(new int[]{4, 12, 9}, t.tokenize("axbc"));
        assertArrayEquals(new int[]{4, 9}, t.tokenize("abc"));
    }

    @Test
    void loadsFromFileAndReportsCorruptFiles(@TempDir Path tmp) throws Exception {
        Path good = tmp.resolve("spiece.model");
        Files.write(good, spmModel(vocab(), charsMap(RULES), true));
        Tokenizer t = Tokenizers.load(tmp);
        assertInstanceOf(SentencePieceTokenizer.class, t);
        assertEquals(12, t.vocabSize());
        assertEquals(0, t.padId());
        assertArrayEquals(new int[]{6, 1}, t.encode("ab"));

        byte[] bytes = spmModel(vocab(), null, true);
        Path cut = tmp.resolve("cut.model");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 3));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SentencePieceTokenizer.load(cut));
        assertTrue(e.getMessage().contains("cut.model"), e.getMessage());
        assertThrows(CheckpointException.class, () -> Tokenizers.load(tmp.resolve("absent.model")));
    }

    @Test
    void nonUnigramModelsAreRefused() {
        TokenizerFixtures.Proto model = new TokenizerFixtures.Proto()
                .message(1, new TokenizerFixtures.Proto().string(1, "<unk>").float32(2, 0).int32(3, UNKNOWN))
                .message(2, new TokenizerFixtures.Proto().int32(3, 2)); // BPE
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SentencePieceTokenizer.parse(model.toBytes()));
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
    }
}
