package dev.viditq.eval.shapes;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Captions read back to the scene they state: every template and synonym, both kinds. */
class CaptionParseTest {
    @Test
    void everyGeneratedCaptionReadsBackToItsPromptKey() {
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 3000; i++) {
                ShapesPrompt p = ShapesGenerator.train(kind, 17, i);
                Scene parsed = Captioner.parse(p.caption(), kind).orElseThrow(() -> new AssertionError("not parsed: " + p.caption()));
                assertEquals(p.scene().promptKey(), parsed.promptKey(), p.caption());
                assertEquals(Split.of(p.scene()), Split.of(parsed), "the split follows the key");
            }
        }
    }

    @Test
    void otherTextIsNotACaption() {
        assertTrue(Captioner.parse("a big red circle on a black background", Kind.IMAGE).isEmpty(), "no position: not this grammar");
        assertTrue(Captioner.parse("a big red circle in the center on a black background", Kind.VIDEO).isEmpty(), "an image caption");
        assertTrue(Captioner.parse("a purple circle in the center on a black background", Kind.IMAGE).isEmpty());
        assertTrue(Captioner.parse("  A big red circle   in the center on a black background ", Kind.IMAGE).isPresent(),
                "case and spacing do not matter");
    }
}
