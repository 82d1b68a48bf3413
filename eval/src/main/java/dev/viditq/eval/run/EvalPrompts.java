package dev.viditq.eval.run;

import dev.viditq.eval.shapes.Captioner;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.ShapesGenerator;
import dev.viditq.eval.shapes.ShapesPrompt;
import dev.viditq.eval.shapes.Split;
import dev.viditq.nn.text.PromptFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the prompts of an evaluation come from: a fixed Shapes split (with ground truth) or a caption file (with ground
 * truth when every caption is of the Shapes grammar, else free text).
 */
public final class EvalPrompts {
    private EvalPrompts() {}

    /**
     * The first {@code count} prompts of a fixed split (calib or eval), each with its ground-truth scene; null
     * count: the split's standard size (eval 200 images / 64 videos, calib 64 / 16).
     */
    public static List<EvalPrompt> shapes(Kind kind, Split split, Integer count) {
        int n = count != null ? count : ShapesGenerator.standardCount(kind, split);
        if (n < 1) throw new IllegalArgumentException("the prompt count must be positive, got " + n);
        List<EvalPrompt> out = new ArrayList<>(n);
        for (ShapesPrompt p : ShapesGenerator.fixed(kind, split, n)) out.add(new EvalPrompt((int) p.index(), p.caption(), p.scene()));
        return out;
    }

    /**
     * A caption file for a model of {@code kind}: when every caption is one of the Shapes grammar
     * ({@link Captioner#parse}), each carries the scene it states as ground truth, so alignment and forks can be
     * scored on captions outside the fixed splits; otherwise none does (free text).
     */
    public static List<EvalPrompt> file(Path file, Integer count, Kind kind) {
        List<EvalPrompt> free = file(file, count);
        List<EvalPrompt> scored = new ArrayList<>(free.size());
        for (EvalPrompt p : free) {
            var scene = Captioner.parse(p.caption(), kind);
            if (scene.isEmpty()) return free;
            scored.add(new EvalPrompt(p.index(), p.caption(), scene.get()));
        }
        return scored;
    }

    /**
     * One caption per line (blank lines and lines starting with # skipped), without ground truth; at most
     * {@code count} of them when count is given.
     */
    public static List<EvalPrompt> file(Path file, Integer count) {
        if (count != null && count < 1) throw new IllegalArgumentException("the prompt count must be positive, got " + count);
        List<EvalPrompt> out = new ArrayList<>();
        for (String caption : PromptFile.read(file)) {
            if (count != null && out.size() == count) break;
            out.add(new EvalPrompt(out.size(), caption, null));
        }
        return out;
    }
}
