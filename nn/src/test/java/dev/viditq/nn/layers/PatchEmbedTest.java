package dev.viditq.nn.layers;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.kernels.ScalarKernels;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class PatchEmbedTest {
    /** An in-memory checkpoint. */
    static TensorFile memory(Map<String, Tensor> tensors) {
        return new TensorFile() {
            @Override public Path path() { return Path.of("<memory>"); }
            @Override public Set<String> names() { return tensors.keySet(); }
            @Override public Tensor get(String name) { return tensors.get(name); }
            @Override public Map<String, String> metadata() { return Map.of(); }
            @Override public void close() {}
        };
    }

    static Tensor random(Random rnd, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.of(v, shape);
    }

    @Test
    void equalsTheConvolutionOracleOnVideoWithOddSizes() {
        Random rnd = new Random(1);
        int b = 2, c = 3, t = 3, p = 2, gh = 3, gw = 5, hidden = 7;
        Map<String, Tensor> w = new LinkedHashMap<>();
        Tensor weight = random(rnd, hidden, c, 1, p, p);
        w.put("proj.weight", weight.to(DType.BF16)); // weights stay as stored: BF16 used in place
        w.put("proj.bias", random(rnd, hidden));
        PatchEmbed pe = PatchEmbed.load3dFramewise(new Weights(memory(w)), "proj", c, hidden, p);
        Tensor x = random(rnd, b, c, t, gh * p, gw * p);

        Tensor tokens = pe.forward(x);
        assertArrayEquals(new long[]{b, (long) t * gh * gw, hidden}, tokens.shape());

        Tensor w4 = w.get("proj.weight").reshape(hidden, c, p, p);
        ScalarKernels oracle = new ScalarKernels();
        int h = gh * p, wd = gw * p;
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                // the frame x[bi, :, ti] as [c, h, w]
                float[] frame = new float[c * h * wd];
                for (int ci = 0; ci < c; ci++) {
                    for (int i = 0; i < h * wd; i++) {
                        frame[ci * h * wd + i] = x.getFloat((((long) bi * c + ci) * t + ti) * h * wd + i);
                    }
                }
                Tensor conv = Tensor.zeros(hidden, gh, gw);
                oracle.conv2d(Tensor.of(frame, c, h, wd).data(), c, h, wd, w4, w.get("proj.bias").data(), p, 0, conv.data());
                for (int o = 0; o < hidden; o++) {
                    for (int s = 0; s < gh * gw; s++) {
                        long token = ((long) bi * t + ti) * gh * gw + s;
                        assertEquals(conv.getFloat((long) o * gh * gw + s), tokens.getFloat(token * hidden + o), 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void unpatchifyPutsChannelFastestInsideAPatch() {
        int b = 2, t = 2, gh = 2, gw = 3, p = 2, c = 3;
        PatchEmbed.Grid grid = new PatchEmbed.Grid(b, t, gh, gw);
        int feat = p * p * c;
        float[] v = new float[b * t * gh * gw * feat];
        for (int i = 0; i < v.length; i++) v[i] = i;
        Tensor out = PatchEmbed.unpatchify(Tensor.of(v, (long) b * t * gh * gw, feat), grid, p, c, true);
        assertArrayEquals(new long[]{b, c, t, gh * p, gw * p}, out.shape());
        int h = gh * p, w = gw * p;
        for (int bi = 0; bi < b; bi++) for (int ch = 0; ch < c; ch++) for (int ti = 0; ti < t; ti++)
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) {
                long token = (((long) bi * t + ti) * gh + y / p) * gw + x / p;
                long feature = (long) ((y % p) * p + (x % p)) * c + ch;
                long at = ((((long) bi * c + ch) * t + ti) * h + y) * w + x;
                assertEquals(token * feat + feature, out.getFloat(at));
            }
    }

    @Test
    void refusesLatentsThatAreNotMultiplesOfThePatch() {
        Random rnd = new Random(2);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("proj.weight", random(rnd, 4, 3, 2, 2));
        w.put("proj.bias", random(rnd, 4));
        PatchEmbed pe = PatchEmbed.load2d(new Weights(memory(w)), "proj", 3, 4, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pe.forward(random(rnd, 1, 3, 5, 4)));
        assertTrue(e.getMessage().contains("multiple of the patch size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pe.forward(random(rnd, 1, 2, 4, 4)));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
    }
}
