package dev.viditq.eval.run;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.eval.shapes.Kind;
import dev.viditq.eval.shapes.Renderer;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.eval.shapes.Scene;
import dev.viditq.eval.shapes.SceneObject;
import dev.viditq.eval.shapes.Split;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-sample fidelity: median and 10th percentile, and forks told apart from noise and from moved objects. */
class ForksTest {
    @Test
    void medianAndTenthPercentileByNearestRank() {
        double[] psnr = {30, 10, 50, 20, 40, Double.POSITIVE_INFINITY, 35, 25, 45, 15};
        FidelityScores f = new FidelityScores(0, 0, psnr, new double[psnr.length], new double[1], new double[1]);
        assertEquals(32.5, f.medianPsnr(), 1e-12, "mean of the 5th and 6th of 10");
        assertEquals(10, f.p10Psnr(), "the 1st lowest of 10");
        double[] odd = {3, 1, 2};
        assertEquals(2, new FidelityScores(0, 0, odd, new double[3], new double[1], new double[1]).medianPsnr());
        double[] many = new double[32];
        for (int i = 0; i < 32; i++) many[i] = 31 - i;
        assertEquals(3, new FidelityScores(0, 0, many, new double[32], new double[1], new double[1]).p10Psnr(), "the 4th lowest of 32");
    }

    @Test
    void aChangedSceneFarBelowTheMedianIsAForkAMovedObjectIsNot() {
        List<EvalPrompt> prompts = EvalPrompts.shapes(Kind.IMAGE, Split.EVAL, 12);
        List<Sample> reference = new ArrayList<>(), model = new ArrayList<>();
        Random r = new Random(5);
        for (EvalPrompt p : prompts) {
            RgbImage img = Renderer.render(p.truth());
            reference.add(new Sample(p, new RgbVideo(List.of(img))));
            RgbImage noisy = img.copy();
            for (int i = 0; i < noisy.data().length; i++) noisy.data()[i] += (float) (0.01 * r.nextGaussian());
            model.add(new Sample(p, new RgbVideo(List.of(noisy))));
        }
        // sample 3: another prompt's picture (a different scene); sample 7: the same scene, objects 2 px to the right
        model.set(3, new Sample(prompts.get(3), reference.get(4).video()));
        Scene s7 = prompts.get(7).truth();
        Scene moved = new Scene(s7.kind(), s7.background(), s7.objects().stream()
                .map(o -> SceneObject.still(o.shape(), o.color(), o.size(), o.x() + 2, o.y())).toList());
        model.set(7, new Sample(prompts.get(7), new RgbVideo(List.of(Renderer.render(moved)))));

        FidelityScores f = FidelityScores.of(reference, model);
        Forks forks = Forks.of(f, model, ShapesScores.of(model), ShapesScores.of(reference));
        assertEquals(List.of(3), forks.forked().stream().map(Forks.Fork::index).toList(), Forks.describe(f, forks));
        assertEquals(List.of(7), forks.lowPsnr(), "moved within its cell: far below the median, same caption check");
        assertTrue(f.medianPsnr() > 35, "noise of sigma 0.01: ~40 dB, " + f.medianPsnr());

        Forks unchecked = Forks.of(f, model, null, null);
        assertTrue(unchecked.forked().isEmpty(), "without ground truth no fork is confirmed");
        assertEquals(List.of(3, 7), unchecked.lowPsnr());

        ObjectNode o = JsonNodeFactory.instance.objectNode();
        Forks.put(o, f, forks);
        assertEquals(3, o.get("forked").get(0).get("index").asInt());
        assertEquals(12, o.get("psnr_per_sample").size());
        assertTrue(o.get("fork_rule").asText().contains("10 dB"));
    }
}
