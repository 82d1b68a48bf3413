package dev.viditq.eval.run;

import dev.viditq.eval.shapes.Scene;

/**
 * One prompt of an evaluation.
 *
 * @param index   position in the prompt list (names the saved files and fixes the seed, see {@link EvalSettings})
 * @param caption the text given to the model
 * @param truth   the scene the caption describes, or null for free text (then only fidelity can be scored)
 */
public record EvalPrompt(int index, String caption, Scene truth) {
    public boolean hasTruth() {
        return truth != null;
    }
}
