package dev.viditq.eval.run;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.eval.shapes.ShapesGenerator;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.media.Frames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Prompts, recipes, settings and the pixel layout: the inputs of an evaluation. */
class RunInputsTest {

    @Test
    void splitPromptsCarryTheirScenesAndStandardCounts() {
        List<EvalPrompt> p = EvalPrompts.shapes(Kind.IMAGE, Split.EVAL, null);
        assertEquals(ShapesGenerator.standardCount(Kind.IMAGE, Split.EVAL), p.size());
        assertTrue(p.stream().allMatch(EvalPrompt::hasTruth));
        assertEquals(ShapesGenerator.fixed(Kind.IMAGE, Split.EVAL, 3).get(2).caption(), p.get(2).caption());
        assertThrows(IllegalArgumentException.class, () -> EvalPrompts.shapes(Kind.VIDEO, Split.CALIB, 0));
    }

    @Test
    void promptFilesSkipBlanksAndComments(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("p.txt"), "# header\n a red fox \n\nwaves at dusk\nthird\n");
        List<EvalPrompt> all = EvalPrompts.file(f, null);
        assertEquals(List.of("a red fox", "waves at dusk", "third"), all.stream().map(EvalPrompt::caption).toList());
        assertEquals(1, all.get(1).index());
        assertFalse(all.getFirst().hasTruth());
        assertEquals(2, EvalPrompts.file(f, 2).size());
        Exception missing = assertThrows(IllegalArgumentException.class, () -> EvalPrompts.file(tmp.resolve("nope.txt"), null));
        assertTrue(missing.getMessage().contains("nope.txt"));
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "# nothing\n\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalPrompts.file(empty, null)).getMessage().contains("no prompts"));
    }

    @Test
    void promptFilesOfTheShapesGrammarCarryTheSceneTheyState(@TempDir Path tmp) throws Exception {
        Path f = Files.writeString(tmp.resolve("p.txt"), "# held out\na big red circle in the center on a black background\n"
                + "two shapes: a small blue ring in the top left and a big white cross at the bottom on a dark gray background\n");
        List<EvalPrompt> p = EvalPrompts.file(f, null, Kind.IMAGE);
        assertTrue(p.stream().allMatch(EvalPrompt::hasTruth));
        assertEquals(2, p.get(1).truth().objects().size());
        assertFalse(EvalPrompts.file(f, null, Kind.VIDEO).getFirst().hasTruth(), "image captions state no motion");
        Path mixed = Files.writeString(tmp.resolve("m.txt"), "a big red circle in the center on a black background\na red fox\n");
        assertFalse(EvalPrompts.file(mixed, null, Kind.IMAGE).stream().anyMatch(EvalPrompt::hasTruth), "one free line: all free text");
    }

    @Test
    void recipeComesFromTheConfigPipelineBlock(@TempDir Path tmp) throws Exception {
        Path model = Files.createDirectories(tmp.resolve("m"));
        Files.writeString(model.resolve("config.json"), "{\"family\": \"pixart\", \"pipeline\": {\"sampler\": \"dpm-solver++\", \"steps\": 20, \"cfg_scale\": 4.5}}");
        Recipe r = Recipe.of(model);
        assertEquals("dpm-solver", r.sampler(), "PixArt's DPM-Solver++ is the toolkit's dpm-solver");
        assertEquals(20, r.steps());
        assertEquals(4.5, r.cfgScale());

        EvalSettings given = new EvalSettings(null, 7, null, 3, 4).withDefaults(r);
        assertEquals(new EvalSettings("dpm-solver", 7, 4.5, 3, 4), given, "options win, the recipe fills the rest");

        Files.writeString(model.resolve("config.json"), "{\"family\": \"pixart\"}");
        assertSame(Recipe.NONE, Recipe.of(model));

        Files.writeString(model.resolve("config.json"), "{\"pipeline\": {\"sampler\": \"euler-a\"}}");
        Exception bad = assertThrows(IllegalArgumentException.class, () -> Recipe.of(model));
        assertTrue(bad.getMessage().contains("config.json") && bad.getMessage().contains("euler-a"), bad.getMessage());

        Files.writeString(model.resolve("config.json"), "{\"pipeline\": {\"steps\": 0}}");
        assertThrows(IllegalArgumentException.class, () -> Recipe.of(model));
    }

    @Test
    void settingsRejectNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new EvalSettings(null, null, null, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new EvalSettings(null, 0, null, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new EvalSettings(null, null, Double.NaN, 0, 1));
    }

    @Test
    void pixelsOfVideoBatchesLandInTheRightFrameChannelAndPlace() {
        int b = 2, f = 3, h = 4, w = 5;
        float[] v = new float[b * 3 * f * h * w];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.37); // distinct values in [-1, 1]
        Tensor pixels = Tensor.of(v, b, 3, f, h, w);
        RgbVideo second = Sample.fromPixels(pixels, 1);
        assertEquals(f, second.length());
        for (int t = 0; t < f; t++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int src = (((1 * 3 + c) * f + t) * h + y) * w + x;
                        assertEquals(Frames.toByte(v[src]) / 255f, second.frame(t).get(x, y, c), 0f);
                    }
                }
            }
        }
        RgbVideo image = Sample.fromPixels(Tensor.of(v, b * f, 3, h, w), 4);
        assertEquals(1, image.length());
        assertEquals(Frames.toByte(v[(4 * 3 + 2) * h * w + 7]) / 255f, image.frame(0).get(2, 1, 2), 0f);
    }
}
