package dev.viditq.nn.vae;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.RandomCheckpoints;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The causal 3D convolution against a scalar oracle (the definition, in float64) on random inputs of odd sizes,
 * with zero frames in front, temporal strides 1 and 2, kernels 1 and 3, and stacks split into bands; and its stream
 * against one pass over the whole sequence.
 */
class WanCausalConv3dTest {
    /** out[o, t, y, x] = b[o] + Σ w[o, i, dt, ky, kx] · in[t·s + dt][i, y + ky − p, x + kx − p], zero outside. */
    static float[][] oracle(Tensor w5, float[] bias, List<float[]> frames, int cin, int h, int w, int stride) {
        int cout = w5.size(0), kt = w5.size(2), k = w5.size(3), p = k / 2;
        List<float[]> out = new ArrayList<>();
        for (int t = 0; t + kt <= frames.size(); t += stride) {
            float[] y = new float[cout * h * w];
            for (int o = 0; o < cout; o++) {
                for (int yy = 0; yy < h; yy++) {
                    for (int xx = 0; xx < w; xx++) {
                        double acc = bias[o];
                        for (int i = 0; i < cin; i++) {
                            for (int dt = 0; dt < kt; dt++) {
                                float[] f = frames.get(t * 1 + dt);
                                if (f == null) continue;
                                for (int ky = 0; ky < k; ky++) {
                                    int sy = yy + ky - p;
                                    if (sy < 0 || sy >= h) continue;
                                    for (int kx = 0; kx < k; kx++) {
                                        int sx = xx + kx - p;
                                        if (sx < 0 || sx >= w) continue;
                                        acc += (double) w5.getFloat(((((long) o * cin + i) * kt + dt) * k + ky) * k + kx)
                                                * f[(i * h + sy) * w + sx];
                                    }
                                }
                            }
                        }
                        y[(o * h + yy) * w + xx] = (float) acc;
                    }
                }
            }
            out.add(y);
        }
        return out.toArray(new float[0][]);
    }

    private static FeatureMap map(float[] v, int c, int h, int w) {
        FeatureMap m = FeatureMap.allocate(c, h, w);
        java.lang.foreign.MemorySegment.copy(v, 0, m.data, F32_LE, 0, v.length);
        return m;
    }

    private static float[] values(FeatureMap m) {
        float[] v = new float[(int) m.size()];
        java.lang.foreign.MemorySegment.copy(m.data, F32_LE, 0, v, 0, v.length);
        return v;
    }

    @ParameterizedTest
    @CsvSource({"3, 5, 3, 3, 7, 9, 6, 1, 2, 1000000", "2, 3, 3, 3, 5, 11, 5, 1, 1, 40", "5, 4, 3, 1, 6, 7, 7, 2, 0, 1000000",
            "3, 7, 1, 1, 9, 5, 3, 1, 0, 1000000", "4, 6, 3, 3, 13, 3, 4, 1, 2, 90", "1, 1, 3, 3, 1, 1, 3, 1, 2, 1000000"})
    void matchesTheOracle(int cin, int cout, int kt, int k, int h, int w, int frames, int stride, int zeroFrames, long band) {
        SplittableRandom r = new SplittableRandom(cin * 31 + cout * 7 + h);
        Tensor w5 = RandomCheckpoints.uniform(r, 0.5f, cout, cin, kt, k, k);
        float[] bias = RandomCheckpoints.uniform(r, 0.5f, cout).toFloatArray();
        WanCausalConv3d conv = new WanCausalConv3d("test", w5, Tensor.of(bias, cout));
        List<float[]> seq = new ArrayList<>();
        List<FeatureMap> maps = new ArrayList<>();
        for (int t = 0; t < frames; t++) {
            boolean zero = t < zeroFrames;
            float[] f = zero ? null : RandomCheckpoints.uniform(r, 1f, cin, h, w).toFloatArray();
            seq.add(f);
            maps.add(zero ? null : map(f, cin, h, w));
        }
        float[][] expected = oracle(w5, bias, seq, cin, h, w, stride);
        List<FeatureMap> got = conv.apply(maps, stride, band);
        assertEquals(expected.length, got.size());
        for (int j = 0; j < expected.length; j++) {
            float[] g = values(got.get(j));
            for (int i = 0; i < g.length; i++) {
                assertEquals(expected[j][i], g[i], 1e-5f * Math.max(1, Math.abs(expected[j][i])), "frame " + j + " element " + i);
            }
        }
        got.forEach(FeatureMap::close);
        maps.stream().filter(m -> m != null).forEach(FeatureMap::close);
    }

    @ParameterizedTest
    @CsvSource({"1, 4, 4, 4", "2, 2, 3, 1", "1, 1, 1, 1"})
    void streamingEqualsOnePassWithZeroFramesInFront(int first, int second, int third, int fourth) {
        int cin = 3, cout = 4, h = 5, w = 6;
        SplittableRandom r = new SplittableRandom(first * 100 + second);
        WanCausalConv3d conv = new WanCausalConv3d("test", RandomCheckpoints.uniform(r, 0.5f, cout, cin, 3, 3, 3),
                RandomCheckpoints.uniform(r, 0.5f, cout));
        List<FeatureMap> all = new ArrayList<>();
        for (int t = 0; t < first + second + third + fourth; t++) all.add(map(RandomCheckpoints.uniform(r, 1f, cin, h, w).toFloatArray(), cin, h, w));
        List<FeatureMap> padded = new ArrayList<>(Arrays.asList(null, null));
        padded.addAll(all);
        List<FeatureMap> whole = conv.apply(padded, 1);
        List<FeatureMap> streamed = new ArrayList<>();
        try (WanCausalConv3d.Stream s = conv.new Stream()) {
            int at = 0;
            for (int n : new int[]{first, second, third, fourth}) {
                streamed.addAll(s.forward(all.subList(at, at + n)));
                at += n;
            }
        }
        assertEquals(whole.size(), streamed.size());
        for (int i = 0; i < whole.size(); i++) assertArrayEquals(values(whole.get(i)), values(streamed.get(i)), 0f, "frame " + i);
    }
}
