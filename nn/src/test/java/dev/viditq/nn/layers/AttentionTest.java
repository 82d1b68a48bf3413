package dev.viditq.nn.layers;

import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.kernels.ScalarKernels;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static dev.viditq.nn.layers.PatchEmbedTest.memory;
import static dev.viditq.nn.layers.PatchEmbedTest.random;
import static org.junit.jupiter.api.Assertions.*;

class AttentionTest {
    static final int DIM = 12, HEADS = 3;

    private static Map<String, Tensor> fusedWeights(Random rnd) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("a.qkv.weight", random(rnd, 3 * DIM, DIM));
        w.put("a.qkv.bias", random(rnd, 3 * DIM));
        w.put("a.proj.weight", random(rnd, DIM, DIM));
        w.put("a.proj.bias", random(rnd, DIM));
        return w;
    }

    /** Equal within {@code tol} relative to max(1, |expected|): values here reach ~10, kernels sum in float. */
    private static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape());
        for (long i = 0; i < expected.numel(); i++) {
            float e = expected.getFloat(i);
            assertEquals(e, actual.getFloat(i), tol * Math.max(1, Math.abs(e)), "element " + i);
        }
    }

    /** Rows [from, to) of a [rows, dim] tensor as a new [to - from, dim] tensor. */
    private static Tensor copyRows(Tensor x, long from, long to) {
        int dim = x.size(-1);
        Tensor y = Tensor.zeros(to - from, dim);
        y.data().copyFrom(x.data().asSlice(from * dim * 4L, (to - from) * dim * 4L));
        return y;
    }

    /** Rows {@code rows} of x gathered into a new [rows.length, DIM] tensor. */
    private static Tensor gather(Tensor x, long[] rows) {
        float[] v = new float[rows.length * DIM];
        for (int i = 0; i < rows.length; i++) for (int c = 0; c < DIM; c++) v[i * DIM + c] = x.getFloat(rows[i] * DIM + c);
        return Tensor.of(v, rows.length, DIM);
    }

    /**
     * Temporal sequences read in place from the fused buffer (kernels that attend interleaved groups so) and copied
     * into dense rows first (kernels that do not, like the scalar oracle) both equal attention over the gathered rows.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void temporalAndSpatialGroupingsEqualAttentionOnGatheredSequences(boolean inPlace) {
        Kernels kernels = inPlace ? new JavaKernels() : new ScalarKernels();
        assertEquals(inPlace, kernels.attendsInterleavedGroupsInPlace());
        Kernels before = KernelBackend.get();
        KernelBackend.set(kernels);
        try {
            checkGroupings();
        } finally {
            KernelBackend.set(before);
        }
    }

    private static void checkGroupings() {
        Random rnd = new Random(3);
        SelfAttention attn = SelfAttention.loadFused(new Weights(memory(fusedWeights(rnd))), "a", DIM, HEADS);
        int batch = 2, frames = 3, perFrame = 5;
        Tensor x = random(rnd, (long) batch * frames * perFrame, DIM);
        Tensor temporal = attn.forward(x, Sequences.temporal(batch, frames, perFrame));
        Tensor spatial = attn.forward(x, Sequences.spatial(batch, frames, perFrame));
        for (int b = 0; b < batch; b++) {
            for (int s = 0; s < perFrame; s++) {
                long[] rows = new long[frames];
                for (int t = 0; t < frames; t++) rows[t] = ((long) b * frames + t) * perFrame + s;
                assertClose(attn.forward(gather(x, rows), Sequences.whole(1, frames)), gather(temporal, rows), 1e-5);
            }
            for (int t = 0; t < frames; t++) {
                long[] rows = new long[perFrame];
                for (int s = 0; s < perFrame; s++) rows[s] = ((long) b * frames + t) * perFrame + s;
                assertClose(attn.forward(gather(x, rows), Sequences.whole(1, perFrame)), gather(spatial, rows), 1e-5);
            }
        }
    }

    @Test
    void splitProjectionsEqualTheFusedOnes() {
        Random rnd = new Random(4);
        Map<String, Tensor> fused = fusedWeights(rnd);
        Map<String, Tensor> split = new LinkedHashMap<>();
        String[] names = {"to_q", "to_k", "to_v"};
        for (int i = 0; i < 3; i++) {
            split.put("a." + names[i] + ".weight", copyRows(fused.get("a.qkv.weight"), (long) i * DIM, (long) (i + 1) * DIM));
            split.put("a." + names[i] + ".bias", copyRows(fused.get("a.qkv.bias").reshape(3, DIM), i, i + 1).reshape(DIM));
        }
        split.put("a.to_out.0.weight", fused.get("a.proj.weight"));
        split.put("a.to_out.0.bias", fused.get("a.proj.bias"));
        SelfAttention a = SelfAttention.loadFused(new Weights(memory(fused)), "a", DIM, HEADS);
        SelfAttention b = SelfAttention.loadSplit(new Weights(memory(split)), "a", DIM, HEADS, true, true);
        Tensor x = random(rnd, 300, DIM);
        assertClose(a.forward(x, Sequences.whole(2, 150)), b.forward(x, Sequences.whole(2, 150)), 1e-5);
    }

    /** A fused-layout cross-attention of width DIM with random weights. */
    static CrossAttention cross(Random rnd) {
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("c.q_linear.weight", random(rnd, DIM, DIM));
        w.put("c.q_linear.bias", random(rnd, DIM));
        w.put("c.kv_linear.weight", random(rnd, 2 * DIM, DIM));
        w.put("c.kv_linear.bias", random(rnd, 2 * DIM));
        w.put("c.proj.weight", random(rnd, DIM, DIM));
        w.put("c.proj.bias", random(rnd, DIM));
        return CrossAttention.loadFused(new Weights(memory(w)), "c", DIM, HEADS);
    }

    @Test
    void droppedTokensAreIgnoredAndAnEmptyCaptionGivesOnlyTheProjectionBias() {
        Random rnd = new Random(5);
        CrossAttention ca = cross(rnd);
        Tensor x = random(rnd, 2 * 4, DIM);
        Tensor caption = random(rnd, 2, 5, DIM);
        Tensor mask = Tensor.of(new float[]{1, 0, 1, 0, 0, /* sample 1: nothing valid */ 0, 0, 0, 0, 0}, 2, 5);
        Tensor out = ca.forward(x, 2, caption, CaptionMask.dropMasked(mask, 5));

        // changing the masked tokens changes nothing
        Tensor other = caption.copy();
        for (int c = 0; c < DIM; c++) {
            other.setFloat(DIM + c, 100f);              // sample 0, token 1
            other.setFloat((5 + 2) * DIM + c, -7f);     // sample 1, token 2
        }
        assertClose(out, ca.forward(x, 2, other, CaptionMask.dropMasked(mask, 5)), 1e-6);
        // sample 1 attends to nothing: its rows are the projection bias alone
        for (int r = 4; r < 8; r++) {
            for (int c = 0; c < DIM; c++) assertEquals(ca.linears().getLast().bias().getFloat(c), out.getFloat((long) r * DIM + c), 1e-6);
        }
    }

    @Test
    void additiveMaskOfAnEmptyCaptionAttendsUniformly() {
        Random rnd = new Random(6);
        CrossAttention ca = cross(rnd);
        Tensor x = random(rnd, 3, DIM);
        Tensor caption = random(rnd, 1, 4, DIM);
        Tensor none = Tensor.of(new float[]{0, 0, 0, 0}, 1, 4);
        Tensor masked = ca.forward(x, 1, caption, CaptionMask.additive(none, 4, -10000f));
        Tensor unmasked = ca.forward(x, 1, caption, CaptionMask.none());
        // every score shifted by the same -10000: softmax unchanged (diffusers' behaviour, unlike the original repos);
        // float32 kernels lose ~1e-3 of the scores to the large shift, as PyTorch does
        assertClose(unmasked, masked, 5e-3);
    }

    @Test
    void aMaskRowTilesTheBatch() {
        Random rnd = new Random(7);
        CrossAttention ca = cross(rnd);
        Tensor x = random(rnd, 4 * 3, DIM);
        Tensor caption = random(rnd, 4, 3, DIM);
        Tensor one = Tensor.of(new float[]{1, 1, 0}, 1, 3);
        Tensor four = Tensor.of(new float[]{1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0}, 4, 3);
        assertClose(ca.forward(x, 4, caption, CaptionMask.dropMasked(four, 3)),
                ca.forward(x, 4, caption, CaptionMask.dropMasked(one, 3)), 0);
        Tensor three = Tensor.of(new float[]{1, 1, 0, 1, 1, 0, 1, 1, 0}, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> ca.forward(x, 4, caption, CaptionMask.dropMasked(three, 3)));
    }
}
