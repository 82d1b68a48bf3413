package dev.viditq.nn.vae;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CausalConv3d} (frames gathered onto the 2-D conv kernel) against a scalar oracle written from the
 * official definition: F.pad(x, (k/2, k/2, k/2, k/2, kt − s, 0)) then Conv3d with stride (s, 1, 1).
 */
class CausalConv3dTest {
    /** out[co, t, y, x] = b[co] + Σ w[co, ci, dt, ky, kx] · xpad[ci, t·s + dt, y + ky, x + kx], in double. */
    static double[] oracle(float[] x, int in, int frames, int h, int w, Tensor weight, float[] bias, int stride) {
        int out = weight.size(0), kt = weight.size(2), k = weight.size(3), pad = k / 2, timePad = kt - stride;
        int outFrames = (frames + timePad - kt) / stride + 1;
        double[] y = new double[out * outFrames * h * w];
        for (int co = 0; co < out; co++) for (int t = 0; t < outFrames; t++) for (int r = 0; r < h; r++) for (int c = 0; c < w; c++) {
            double acc = bias == null ? 0 : bias[co];
            for (int ci = 0; ci < in; ci++) for (int dt = 0; dt < kt; dt++) for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
                int f = t * stride + dt - timePad, rr = r + ky - pad, cc = c + kx - pad;
                if (f < 0 || rr < 0 || rr >= h || cc < 0 || cc >= w) continue;
                acc += (double) x[((ci * frames + f) * h + rr) * w + cc]
                        * weight.getFloat(((((long) co * in + ci) * kt + dt) * k + ky) * k + kx);
            }
            y[((co * outFrames + t) * h + r) * w + c] = acc;
        }
        return y;
    }

    static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    private static VideoMap map(float[] values, int channels, int frames, int h, int w) {
        VideoMap m = VideoMap.allocate(channels, frames, h, w);
        for (int i = 0; i < values.length; i++) m.planes.data.setAtIndex(F32_LE, i, values[i]);
        return m;
    }

    @ParameterizedTest(name = "in {0} out {1} k {2} stride {3} frames {4} {5}x{6} {7} bias {8}")
    @CsvSource({
            "3, 5, 3, 1, 4, 5, 7, F32, true",
            "4, 6, 3, 2, 6, 3, 9, F32, true",
            "5, 7, 3, 2, 7, 4, 4, BF16, false",   // odd frame count: the last input frame is never read
            "5, 2, 1, 1, 3, 7, 5, F32, true",     // 1×1×1 (quant convs, shortcuts)
            "17, 33, 3, 1, 2, 1, 13, F16, false", // more channels than a kernel tile, one-row frames
            "2, 3, 3, 1, 1, 6, 6, F32, true"})     // one frame: only the last time tap sees data
    void matchesTheScalarOracle(int in, int out, int k, int stride, int frames, int h, int w, String dtype, boolean withBias) {
        Random rnd = new Random(in * 31 + out * 7 + k + stride + frames);
        Tensor weight = Tensor.of(gaussian(rnd, out * in * k * k * k), out, in, k, k, k).to(DType.valueOf(dtype));
        float[] bias = withBias ? gaussian(rnd, out) : null;
        float[] x = gaussian(rnd, in * frames * h * w);
        CausalConv3d conv = new CausalConv3d("test", weight, bias == null ? null : Tensor.of(bias, out), stride);
        try (VideoMap input = map(x, in, frames, h, w); VideoMap y = conv.apply(input)) {
            double[] expected = oracle(x, in, frames, h, w, weight, bias, stride);
            assertEquals(conv.outputFrames(frames), y.frames);
            assertEquals(expected.length, y.planes.size());
            double num = 0, den = 0;
            for (int i = 0; i < expected.length; i++) {
                double d = y.planes.data.getAtIndex(F32_LE, i) - expected[i];
                num += d * d;
                den += expected[i] * expected[i];
            }
            assertTrue(Math.sqrt(num / den) < 1e-5, "relative error " + Math.sqrt(num / den));
        }
    }

    @Test
    void outputFramesNeverSeeLaterInput() {
        Random rnd = new Random(9);
        int in = 3, out = 4, frames = 8, h = 4, w = 5;
        for (int stride : new int[]{1, 2}) {
            CausalConv3d conv = new CausalConv3d("causal", Tensor.of(gaussian(rnd, out * in * 27), out, in, 3, 3, 3), null, stride);
            float[] x = gaussian(rnd, in * frames * h * w);
            for (int changed = 0; changed < frames; changed++) {
                float[] y = x.clone();
                for (int c = 0; c < in; c++) for (int i = 0; i < h * w; i++) y[(c * frames + changed) * h * w + i] += 1f;
                try (VideoMap a = conv.apply(map(x, in, frames, h, w)); VideoMap b = conv.apply(map(y, in, frames, h, w))) {
                    for (int t = 0; t < a.frames; t++) {
                        // output t reads input frames t·s − (kt − s) .. t·s + s − 1: never a later one
                        boolean reads = changed >= t * stride - (3 - stride) && changed <= t * stride + stride - 1;
                        boolean same = a.plane(0, t).mismatch(b.plane(0, t)) == -1;
                        for (int c = 1; c < out; c++) same &= a.plane(c, t).mismatch(b.plane(c, t)) == -1;
                        assertEquals(!reads, same, "stride " + stride + ": output frame " + t + " after a change of input frame " + changed);
                    }
                }
            }
        }
    }

    @Test
    void firstOutputsAreTheFirstChannels() {
        Random rnd = new Random(4);
        CausalConv3d conv = new CausalConv3d("q", Tensor.of(gaussian(rnd, 8 * 8), 8, 8, 1, 1, 1), Tensor.of(gaussian(rnd, 8), 8), 1);
        try (VideoMap x = map(gaussian(rnd, 8 * 3 * 2 * 3), 8, 3, 2, 3); VideoMap all = conv.apply(x);
             VideoMap mean = conv.firstOutputs(4).apply(x)) {
            assertEquals(4, mean.channels());
            assertEquals(-1, mean.planes.data.mismatch(all.planes.data.asSlice(0, mean.planes.data.byteSize())));
        }
    }

    @Test
    void depthToTimeInterleavesChannelPairsIntoFrames() {
        float[] v = new float[4 * 2]; // [C = 2·2, T = 2, 1, 1]: value = 10·channel + frame
        for (int c = 0; c < 4; c++) for (int t = 0; t < 2; t++) v[c * 2 + t] = 10 * c + t;
        try (VideoMap x = map(v, 4, 2, 1, 1); VideoMap y = TemporalVae.depthToTime(x, 2)) {
            assertEquals(2, y.channels());
            assertEquals(4, y.frames);
            float[] expected = {0, 10, 1, 11, 20, 30, 21, 31}; // channel c, frame 2t + s ← channel 2c + s, frame t
            for (int i = 0; i < expected.length; i++) assertEquals(expected[i], y.planes.data.getAtIndex(F32_LE, i), "at " + i);
        }
    }
}
