package dev.viditq.nn.text;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Unknown words are named once per prompt; a prompt longer than the captions says how much is cut. */
class PromptNotesTest {
    private static final Tokenizer SHAPES = Tokenizers.load(Path.of("..", "assets", "models", "shapes-t2i", "tokenizer"));

    private static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void unknownWordsAreNamedOncePerPrompt() {
        String prompt = "a red circel on a frobnicated background " + System.nanoTime();
        String first = stderrOf(() -> SHAPES.encode(prompt, 32));
        assertTrue(first.startsWith("warning: prompt 'a red circel on a frobnicated background"), first);
        assertTrue(first.contains("encoded as the unknown token: 'circel', 'frobnicated'"), first);
        assertFalse(first.contains("'red'") || first.contains("'background'"), first);
        assertEquals("", stderrOf(() -> SHAPES.encode(prompt, 32)), "reported once");
        assertEquals("", stderrOf(() -> SHAPES.encode("a red circle on a black background", 32)), "known words: silent");
    }

    @Test
    void aPromptLongerThanTheCaptionsSaysItIsCut() {
        String prompt = "a red circle and a blue square and a green triangle " + "and a red circle ".repeat(6);
        int tokens = SHAPES.tokenize(prompt).length;
        String err = stderrOf(() -> {
            Tokenizer.Encoding e = SHAPES.encode(prompt, 12);
            assertEquals(12, e.validLength());
        });
        assertTrue(err.contains("note: prompt 'a red circle and a blue square") && err.contains("has " + tokens + " tokens; the model's"
                + " captions hold 11, so the last " + (tokens - 11) + " are cut"), err);
    }
}
