package dev.viditq.core.kernels;

import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * The oracle: every kernel as the plain loop a reader can check against the formula, accumulating in double
 * where it costs nothing to be exact. Fast kernels are tested against these.
 */
public final class ScalarKernels implements Kernels {
    @Override
    public String name() {
        return "scalar";
    }

    private static float f(MemorySegment s, long i) {
        return s.getAtIndex(F32_LE, i);
    }

    private static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F32_LE, i, v);
    }

    @Override
    public void gemm(MemorySegment x, int m, int k, Tensor w, MemorySegment bias, MemorySegment out) {
        int n = w.size(0);
        if (w.dim(1) != k) throw new IllegalArgumentException("weight " + w + " does not take k=" + k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = bias == null ? 0 : f(bias, j);
                for (int p = 0; p < k; p++) acc += (double) f(x, (long) i * k + p) * w.getFloat((long) j * k + p);
                set(out, (long) i * n + j, (float) acc);
            }
        }
    }

    @Override
    public void layerNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, MemorySegment beta, float eps, MemorySegment out) {
        for (int r = 0; r < rows; r++) {
            long o = (long) r * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += f(x, o + i);
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) { double d = f(x, o + i) - mean; var += d * d; }
            var /= dim;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int i = 0; i < dim; i++) {
                double y = (f(x, o + i) - mean) * inv;
                if (gamma != null) y *= f(gamma, i);
                if (beta != null) y += f(beta, i);
                set(out, o + i, (float) y);
            }
        }
    }

    @Override
    public void rmsNorm(MemorySegment x, int rows, int dim, MemorySegment gamma, float eps, MemorySegment out) {
        for (int r = 0; r < rows; r++) {
            long o = (long) r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) { double v = f(x, o + i); ss += v * v; }
            double inv = 1.0 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) {
                double y = f(x, o + i) * inv;
                if (gamma != null) y *= f(gamma, i);
                set(out, o + i, (float) y);
            }
        }
    }

    @Override
    public void groupNorm(MemorySegment x, int channels, int spatial, int groups, MemorySegment gamma, MemorySegment beta,
                          float eps, MemorySegment out) {
        if (channels % groups != 0) throw new IllegalArgumentException(channels + " channels in " + groups + " groups");
        int per = channels / groups;
        for (int g = 0; g < groups; g++) {
            long base = (long) g * per * spatial, count = (long) per * spatial;
            double mean = 0;
            for (long i = 0; i < count; i++) mean += f(x, base + i);
            mean /= count;
            double var = 0;
            for (long i = 0; i < count; i++) { double d = f(x, base + i) - mean; var += d * d; }
            var /= count;
            double inv = 1.0 / Math.sqrt(var + eps);
            for (int c = g * per; c < (g + 1) * per; c++) {
                double ga = gamma == null ? 1 : f(gamma, c), be = beta == null ? 0 : f(beta, c);
                for (int s = 0; s < spatial; s++) {
                    long i = (long) c * spatial + s;
                    set(out, i, (float) ((f(x, i) - mean) * inv * ga + be));
                }
            }
        }
    }

    @Override
    public void geluTanh(MemorySegment x, long n) {
        double c = Math.sqrt(2.0 / Math.PI);
        for (long i = 0; i < n; i++) {
            double v = f(x, i);
            set(x, i, (float) (0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)))));
        }
    }

    @Override
    public void geluErf(MemorySegment x, long n) {
        for (long i = 0; i < n; i++) {
            double v = f(x, i);
            set(x, i, (float) (0.5 * v * (1 + erf(v / Math.sqrt(2)))));
        }
    }

    /** erf to ~1e-15 (W. J. Cody's rational approximations are overkill here; this series/continued fraction mix suffices). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2.5) { // Taylor series, converges fast here
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 100; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else { // continued fraction for erfc
            double t = 0;
            for (int n = 60; n >= 1; n--) t = n / 2.0 / (ax + t);
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + t);
        }
        return x < 0 ? -r : r;
    }

    @Override
    public void silu(MemorySegment x, long n) {
        for (long i = 0; i < n; i++) {
            double v = f(x, i);
            set(x, i, (float) (v / (1 + Math.exp(-v))));
        }
    }

    @Override
    public void softmax(MemorySegment x, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long o = (long) r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < cols; i++) max = Math.max(max, f(x, o + i));
            double sum = 0;
            for (int i = 0; i < cols; i++) sum += Math.exp(f(x, o + i) - max);
            for (int i = 0; i < cols; i++) set(x, o + i, (float) (Math.exp(f(x, o + i) - max) / sum));
        }
    }

    @Override
    public void add(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) set(out, i, f(a, i) + f(b, i));
    }

    @Override
    public void mul(MemorySegment a, MemorySegment b, MemorySegment out, long n) {
        for (long i = 0; i < n; i++) set(out, i, f(a, i) * f(b, i));
    }

    @Override
    public void attention(MemorySegment q, int qStride, MemorySegment k, int kStride, MemorySegment v, int vStride,
                          MemorySegment out, int oStride, int lq, int lk, int heads, int headDim, float scale,
                          AttentionBias bias) {
        double[] s = new double[lk];
        for (int h = 0; h < heads; h++) {
            int c = h * headDim;
            for (int i = 0; i < lq; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += (double) f(q, (long) i * qStride + c + d) * f(k, (long) j * kStride + c + d);
                    }
                    dot *= scale;
                    if (bias.perKey() != null) dot += f(bias.perKey(), j);
                    if (bias.perHead() != null) dot += f(bias.perHead(), ((long) h * lq + i) * lk + j);
                    s[j] = dot;
                    max = Math.max(max, dot);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) { s[j] = Math.exp(s[j] - max); sum += s[j]; }
                for (int d = 0; d < headDim; d++) {
                    double acc = 0;
                    for (int j = 0; j < lk; j++) acc += s[j] * f(v, (long) j * vStride + c + d);
                    set(out, (long) i * oStride + c + d, (float) (acc / sum));
                }
            }
        }
    }

    @Override
    public void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        int cout = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        if (weight.dim(1) != cin) throw new IllegalArgumentException("conv weight " + weight + " does not take " + cin + " channels");
        int oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1;
        for (int co = 0; co < cout; co++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double acc = bias == null ? 0 : f(bias, co);
                    for (int ci = 0; ci < cin; ci++) {
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * stride - padding + ky;
                            if (iy < 0 || iy >= h) continue;
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * stride - padding + kx;
                                if (ix < 0 || ix >= w) continue;
                                acc += (double) f(x, ((long) ci * h + iy) * w + ix)
                                        * weight.getFloat((((long) co * cin + ci) * kh + ky) * kw + kx);
                            }
                        }
                    }
                    set(out, ((long) co * oh + oy) * ow + ox, (float) acc);
                }
            }
        }
    }
}
