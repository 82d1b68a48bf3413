package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GuidanceTest {
    /** out[b, c, i] = x[b, c, i] + 10·c + 100·label_b: cond and null halves differ by their label. */
    private static final class Fake implements Denoiser {
        Tensor seenX;

        @Override public ModelInfo info() {
            return ModelInfo.builder(ModelFamily.DIT).inChannels(2).outChannels(4).patchSize(1).sampleSize(2).hidden(4).depth(1)
                    .heads(1).numClasses(3).build();
        }

        @Override public Tensor forward(Tensor x, Tensor t, Conditioning cond) {
            seenX = x.copy();
            int b = x.size(0), plane = x.size(2) * x.size(3);
            Tensor out = Tensor.zeros(b, 4, x.dim(2), x.dim(3));
            for (int s = 0; s < b; s++) for (int c = 0; c < 4; c++) for (int i = 0; i < plane; i++) {
                float base = x.getFloat(((long) s * 2 + c % 2) * plane + i);
                out.setFloat(((long) s * 4 + c) * plane + i, base + 10 * c + 100 * cond.classLabels().getFloat(s));
            }
            return out;
        }

        @Override public Map<String, Linear> linears() { return Map.of(); }
        @Override public void close() {}
    }

    @Test
    void guidesTheFirstChannelsFromTheDuplicatedFirstHalf() {
        Fake model = new Fake();
        float[] xs = new float[2 * 2 * 2 * 2];
        for (int i = 0; i < xs.length; i++) xs[i] = i;
        Tensor x = Tensor.of(xs, 2, 2, 2, 2);
        Tensor labels = Tensor.of(new float[]{1, 3}, 2); // [cond | null]
        Tensor out = Guidance.forwardWithCfg(model, x, Tensor.of(new float[]{5}, 1), Conditioning.classLabels(labels), 4.0, 3);

        // the model saw the first half twice
        for (int i = 0; i < 8; i++) {
            assertEquals(xs[i], model.seenX.getFloat(i));
            assertEquals(xs[i], model.seenX.getFloat(8 + i));
        }
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < 4; i++) {
                float base = xs[(c % 2) * 4 + i] + 10 * c;
                float cond = base + 100, uncond = base + 300;
                float guided = uncond + 4f * (cond - uncond);
                assertEquals(c < 3 ? guided : cond, out.getFloat((long) c * 4 + i), 1e-4, "cond half, channel " + c);
                assertEquals(c < 3 ? guided : uncond, out.getFloat((long) (4 + c) * 4 + i), 1e-4, "null half, channel " + c);
            }
        }
    }

    @Test
    void refusesAnOddBatch() {
        Tensor x = Tensor.zeros(3, 2, 2, 2);
        assertThrows(IllegalArgumentException.class,
                () -> Guidance.forwardWithCfg(new Fake(), x, Tensor.zeros(1), Conditioning.classLabels(Tensor.zeros(3)), 2, 3));
    }
}
