package dev.viditq.eval.shapes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The Shapes prompt sets, deterministic from their seeds.
 * <ul>
 *   <li>{@link Split#TRAIN}: an endless stream per (kind, seed); prompt {@code i} is computed from (seed, i)
 *       alone, so a trainer or exporter can generate any slice, in parallel, in any order. Scenes may repeat
 *       (with other wording and placement).</li>
 *   <li>{@link Split#CALIB} and {@link Split#EVAL}: fixed lists (their seeds are constants of this class) of
 *       distinct prompt keys, {@link #standardCount standard sizes} calib 64 images / 16 videos and eval
 *       200 images / 64 videos. A longer list extends the standard one (the first entries are the same).</li>
 * </ul>
 */
public final class ShapesGenerator {
    private static final long FIXED_SPLIT_SEED = 0x534841504553L; // "SHAPES" in ASCII; never to change
    private static final int MAX_DRAWS_PER_PROMPT = 5_000;

    private ShapesGenerator() {}

    /** Standard size of a fixed split. */
    public static int standardCount(Kind kind, Split split) {
        return switch (split) {
            case CALIB -> kind == Kind.IMAGE ? 64 : 16;
            case EVAL -> kind == Kind.IMAGE ? 200 : 64;
            case TRAIN -> throw new IllegalArgumentException("the train split is an endless stream; it has no standard size");
        };
    }

    /** Training prompt {@code index} of the stream {@code seed}. */
    public static ShapesPrompt train(Kind kind, long seed, long index) {
        Rng rng = new Rng(Rng.mix(Rng.mix(seed, kind.ordinal()), index));
        while (true) {
            Scene scene = SceneSampler.sample(kind, rng);
            if (Split.of(scene) == Split.TRAIN) return new ShapesPrompt(index, scene, Captioner.caption(scene, rng));
        }
    }

    /** The first {@code count} prompts of a fixed split (calib or eval). */
    public static List<ShapesPrompt> fixed(Kind kind, Split split, int count) {
        if (split == Split.TRAIN) throw new IllegalArgumentException("train is not a fixed split; use train(kind, seed, index)");
        Rng rng = new Rng(Rng.mix(Rng.mix(FIXED_SPLIT_SEED, kind.ordinal()), split.ordinal()));
        List<ShapesPrompt> prompts = new ArrayList<>(count);
        Set<String> keys = new HashSet<>();
        long budget = (long) MAX_DRAWS_PER_PROMPT * Math.max(count, 1);
        while (prompts.size() < count) {
            if (budget-- == 0) {
                throw new IllegalArgumentException("cannot draw " + count + " distinct " + split.id() + " " + kind.id()
                        + " prompts; the split holds fewer");
            }
            Scene scene = SceneSampler.sample(kind, rng);
            if (Split.of(scene) == split && keys.add(scene.promptKey())) {
                prompts.add(new ShapesPrompt(prompts.size(), scene, Captioner.caption(scene, rng)));
            }
        }
        return prompts;
    }

    /** {@code count} prompts of any split: training prompts 0..count-1 of {@code seed}, or a fixed split (seed unused). */
    public static List<ShapesPrompt> prompts(Kind kind, Split split, int count, long seed) {
        if (split != Split.TRAIN) return fixed(kind, split, count);
        List<ShapesPrompt> prompts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) prompts.add(train(kind, seed, i));
        return prompts;
    }
}
