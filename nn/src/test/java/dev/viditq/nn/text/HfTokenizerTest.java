package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

import static dev.viditq.nn.text.TokenizerFixtures.Piece;
import static org.junit.jupiter.api.Assertions.*;

/** tokenizer.json files written in the test; expectations by hand (the Unigram vocabulary is the SentencePiece test's). */
class HfTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** T5's layout: Precompiled normalizer, WhitespaceSplit + Metaspace, Unigram, "$A </s>", pad/eos/unk added tokens. */
    private static ObjectNode t5Like(JsonNode normalizer, JsonNode metaspace) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<pad>", "</s>", "<unk>"};
        for (int i = 0; i < specials.length; i++) {
            added.addObject().put("id", i).put("content", specials[i]).put("special", true).put("normalized", false);
        }
        root.set("normalizer", normalizer);
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        pre.putArray("pretokenizers").add(JSON.createObjectNode().put("type", "WhitespaceSplit")).add(metaspace);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").add(seq("A")).addObject().putObject("SpecialToken").put("id", "</s>").put("type_id", 0);
        post.putObject("special_tokens").putObject("</s>").put("id", "</s>").putArray("ids").add(1);
        ObjectNode model = root.putObject("model").put("type", "Unigram").put("unk_id", 2).put("byte_fallback", false);
        ArrayNode vocab = model.putArray("vocab");
        for (Piece p : SentencePieceTokenizerTest.vocab()) vocab.addArray().add(p.text()).add(p.score());
        return root;
    }

    private static ObjectNode seq(String id) {
        ObjectNode n = JSON.createObjectNode();
        n.putObject("Sequence").put("id", id).put("type_id", 0);
        return n;
    }

    private static ObjectNode metaspace(String scheme) {
        return JSON.createObjectNode().put("type", "Metaspace").put("replacement", "▁").put("prepend_scheme", scheme).put("split", true);
    }

    private static ObjectNode precompiled() {
        return JSON.createObjectNode().put("type", "Precompiled")
                .put("precompiled_charsmap", Base64.getEncoder().encodeToString(
                        TokenizerFixtures.charsMap(SentencePieceTokenizerTest.RULES)));
    }

    @Test
    void unigramSegmentsLikeSentencePiece() {
        HfTokenizer t = HfTokenizer.parse(t5Like(precompiled(), metaspace("always")));
        assertArrayEquals(new int[]{6, 1}, t.encode("ab"));
        assertArrayEquals(new int[]{4, 9, 1}, t.encode("abc"));
        assertArrayEquals(new int[]{4, 10, 1}, t.encode("  a   b  "));
        assertArrayEquals(new int[]{3, 2, 4, 1}, t.encode("xy a"));
        assertArrayEquals(new int[]{4, 3, 11, 1}, t.encode("\uFF21\t\uFB01")); // Precompiled rules applied
        // the same text through the SentencePiece implementation
        SentencePieceTokenizer spm = SentencePieceTokenizer.parse(TokenizerFixtures.spmModel(
                SentencePieceTokenizerTest.vocab(), TokenizerFixtures.charsMap(SentencePieceTokenizerTest.RULES), true));
        for (String s : List.of("ab abc", "xy  a\tb", "\uFB01bc"))
            assertArrayEquals(spm.encode(s), t.encode(s), s);
        // where they part: tokenizers applies the charsmap per grapheme ("A", "B"), SentencePiece the longest rule ("AB")
        assertArrayEquals(spm.encode("aB a c"), t.encode("AB A c"));
        assertFalse(java.util.Arrays.equals(spm.encode("AB A c"), t.encode("AB A c")));
    }

    @Test
    void addedTokensAreSplitOffBeforeNormalization() {
        HfTokenizer t = HfTokenizer.parse(t5Like(null, metaspace("always")));
        // "a</s>b": "▁a", </s>, then "b" gets its own ▁ prefix → "▁b"
        assertArrayEquals(new int[]{4, 1, 10}, t.tokenize("a</s>b"));
        HfTokenizer first = HfTokenizer.parse(t5Like(null, metaspace("first")));
        // prepend only where the input starts: "b" after the added token stays "b"; second word "a" not prefixed
        assertArrayEquals(new int[]{4, 1, 5}, first.tokenize("a</s>b"));
        assertArrayEquals(new int[]{4, 7}, first.tokenize("a a"));
        HfTokenizer never = HfTokenizer.parse(t5Like(null, metaspace("never")));
        assertArrayEquals(new int[]{7, 5}, never.tokenize("ab"));
    }

    @Test
    void legacyMetaspaceAddPrefixSpace() {
        ObjectNode legacy = JSON.createObjectNode().put("type", "Metaspace").put("replacement", "▁").put("add_prefix_space", true);
        assertArrayEquals(new int[]{6}, HfTokenizer.parse(t5Like(null, legacy)).tokenize("ab"));
    }

    @Test
    void paddingAndTruncationKeepEos() {
        HfTokenizer t = HfTokenizer.parse(t5Like(null, metaspace("always")));
        Tokenizer.Encoding e = t.encode("abc a", 3);
        assertArrayEquals(new int[]{4, 9, 1}, e.ids());
        e = t.encode("ab", 4);
        assertArrayEquals(new int[]{6, 1, 0, 0}, e.ids());
        assertArrayEquals(new int[]{1, 1, 0, 0}, e.attentionMask());
        assertEquals(1, t.numSpecialTokens());
        assertEquals(0, t.padId());
    }

    /** A WordLevel tokenizer: lowercase + collapse runs of spaces, split words and punctuation, "$A </s>". */
    private static ObjectNode wordLevel() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("added_tokens").addObject().put("id", 3).put("content", "</s>").put("special", true);
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        ObjectNode replace = JSON.createObjectNode().put("type", "Replace").put("content", " ");
        replace.putObject("pattern").put("Regex", " {2,}");
        norm.putArray("normalizers").add(JSON.createObjectNode().put("type", "Lowercase")).add(replace)
                .add(JSON.createObjectNode().put("type", "Strip").put("strip_left", true).put("strip_right", true));
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").add(seq("A")).addObject().putObject("SpecialToken").put("id", "</s>").put("type_id", 0);
        post.putObject("special_tokens").putObject("</s>").put("id", "</s>").putArray("ids").add(3);
        root.putObject("padding").put("pad_id", 4).put("pad_token", "[PAD]");
        ObjectNode model = root.putObject("model").put("type", "WordLevel").put("unk_token", "[UNK]");
        model.putObject("vocab").put("[UNK]", 0).put("hello", 1).put("world", 2).put("</s>", 3).put("[PAD]", 4).put(",", 5);
        return root;
    }

    @Test
    void wordLevelWithNormalizersAndUnknownWords() {
        HfTokenizer t = HfTokenizer.parse(wordLevel());
        // "hello", ",", "world", "!" (unknown) then EOS
        assertArrayEquals(new int[]{1, 5, 2, 0, 3}, t.encode("  Hello,   WORLD! "));
        ObjectNode rightOnly = JSON.createObjectNode().put("type", "Strip").put("strip_left", false).put("strip_right", true);
        assertEquals("  a", HfPipeline.normalizer(rightOnly).apply("  a \t"));
        ObjectNode prepend = JSON.createObjectNode().put("type", "Prepend").put("prepend", "▁");
        assertEquals("▁a", HfPipeline.normalizer(prepend).apply("a"));
        assertArrayEquals(new int[]{1, 3, 2}, t.tokenize("hello</s>world"));
        Tokenizer.Encoding e = t.encode("hello", 4);
        assertArrayEquals(new int[]{1, 3, 4, 4}, e.ids());
        assertEquals("world", t.piece(2));
        assertEquals(6, t.vocabSize());
    }

    @Test
    void unsupportedPartsAreNamed(@TempDir Path tmp) throws Exception {
        ObjectNode bpe = t5Like(null, metaspace("always"));
        bpe.putObject("model").put("type", "BPE");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.parse(bpe));
        assertTrue(e.getMessage().contains("'BPE'"), e.getMessage());
        ObjectNode byteLevel = t5Like(null, JSON.createObjectNode().put("type", "ByteLevel"));
        e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.parse(byteLevel));
        assertTrue(e.getMessage().contains("'ByteLevel'"), e.getMessage());

        Path file = tmp.resolve("tokenizer.json");
        Files.writeString(file, "{\"model\": ");
        CheckpointException c = assertThrows(CheckpointException.class, () -> Tokenizers.load(tmp));
        assertTrue(c.getMessage().contains("tokenizer.json"), c.getMessage());
        Files.writeString(file, JSON.writeValueAsString(t5Like(null, metaspace("always"))));
        assertInstanceOf(HfTokenizer.class, Tokenizers.load(tmp));
    }
}
