package dev.viditq.core.kernels;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.viditq.core.kernels.MicroKernel.MR;
import static dev.viditq.core.kernels.MicroKernel.NR;
import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * 2-D convolution as a matrix product, out[cout, pixels] = W[cout, cin·kh·kw] · col[cin·kh·kw, pixels], on
 * {@link MicroKernel} tiles: x = the weight rows (widened to float once per call: conv kernels are small),
 * panel = im2col of NR consecutive output pixels, built slice by slice of {@link Gemm#KC} and never stored
 * whole. Output rows are channels, so a tile's rows are rows of {@code out} ([cout, oh, ow]): no transpose.
 * Threads take pixel panels.
 */
final class Conv2d {
    private Conv2d() {}

    /** The shape of one call, shared by its tasks. */
    private record Shape(int cin, int h, int w, int cout, int kh, int kw, int stride, int padding, int oh, int ow) {
        int depth() {
            return cin * kh * kw;
        }

        int pixels() {
            return oh * ow;
        }
    }

    static void conv2d(MemorySegment x, int cin, int h, int w, Tensor weight, MemorySegment bias, int stride, int padding,
                       MemorySegment out) {
        WeightRows.checkFloatWeight(weight, "conv2d weight");
        if (weight.rank() != 4 || weight.dim(1) != cin) {
            throw new IllegalArgumentException("conv weight " + weight + " does not take " + cin + " channels");
        }
        if (stride < 1 || padding < 0) throw new IllegalArgumentException("conv2d stride " + stride + ", padding " + padding);
        int cout = weight.size(0), kh = weight.size(2), kw = weight.size(3);
        int oh = (h + 2 * padding - kh) / stride + 1, ow = (w + 2 * padding - kw) / stride + 1;
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("conv2d kernel " + kh + "×" + kw + " larger than padded input " + h + "×" + w);
        }
        Shape s = new Shape(cin, h, w, cout, kh, kw, stride, padding, oh, ow);
        Gemm.need(x, (long) cin * h * w, "conv2d input [" + cin + ", " + h + ", " + w + "]");
        Gemm.need(out, (long) cout * s.pixels(), "conv2d output [" + cout + ", " + oh + ", " + ow + "]");
        if (bias != null) Gemm.need(bias, cout, "conv2d bias [" + cout + "]");

        int depth = s.depth(), coutPad = Gemm.roundUp(cout, MR);
        float[] weights = Scratch.floats(Scratch.Slot.KEYS, (long) coutPad * depth);
        for (int co = 0; co < cout; co++) WeightRows.widen(weight, (long) co * depth, depth, weights, co * depth);
        Arrays.fill(weights, cout * depth, coutPad * depth, 0f);
        int panels = (s.pixels() + NR - 1) / NR;
        Parallel.forEach(panels, pp -> panel(x, s, weights, bias, out, pp * NR));
    }

    /**
     * Output pixels [pix0, pix0 + NR) of every channel. The tile accumulates in a heap strip [cout, NR] that is
     * copied to {@code out} at the end, rather than in {@code out} itself: output rows are a whole image apart
     * (a page or more), and for a shallow kernel (a patch embedding: cin·k² = 16) initialising, re-reading and
     * re-writing them in place cost more than the arithmetic (0.11 of the FMA peak with 2 threads, against 0.4).
     */
    private static void panel(MemorySegment x, Shape s, float[] weights, MemorySegment bias, MemorySegment out, int pix0) {
        int depth = s.depth(), cout = s.cout(), pixels = s.pixels();
        int np = Math.min(NR, pixels - pix0), coutPad = Gemm.roundUp(cout, MR);
        float[] packed = Scratch.floats(Scratch.Slot.PANEL, (long) Math.min(Gemm.KC, depth) * NR);
        float[] strip = Scratch.floats(Scratch.Slot.STRIP, (long) coutPad * NR);
        for (int co = 0; co < coutPad; co++) {
            Arrays.fill(strip, co * NR, (co + 1) * NR, bias == null || co >= cout ? 0f : bias.getAtIndex(F32_LE, co));
        }
        for (int p0 = 0; p0 < depth; p0 += Gemm.KC) {
            int kc = Math.min(Gemm.KC, depth - p0);
            im2col(x, s, p0, kc, pix0, np, packed);
            for (int co = 0; co < coutPad; co += MR) {
                MicroKernel.tileToArray(weights, co * depth + p0, depth, packed, kc, strip, co * NR, NR);
            }
        }
        for (int co = 0; co < cout; co++) {
            MemorySegment.copy(strip, co * NR, out, F32_LE, ((long) co * pixels + pix0) * Float.BYTES, np);
        }
    }

    /**
     * packed[(p - p0)·NR + c] = input value that weight element p meets at output pixel pix0 + c (0 in the padding),
     * for p in [p0, p0 + kc). Pixels are handled in runs along one output row, where stride-1 reads are one copy.
     */
    private static void im2col(MemorySegment x, Shape s, int p0, int kc, int pix0, int np, float[] packed) {
        int taps = s.kh() * s.kw();
        for (int p = p0; p < p0 + kc; p++) {
            int ci = p / taps, ky = p % taps / s.kw(), kx = p % s.kw();
            int row = (p - p0) * NR;
            for (int c = 0; c < np; ) {
                int oy = (pix0 + c) / s.ow(), ox = (pix0 + c) % s.ow();
                int run = Math.min(np - c, s.ow() - ox);
                int iy = oy * s.stride() - s.padding() + ky;
                if (iy < 0 || iy >= s.h()) {
                    Arrays.fill(packed, row + c, row + c + run, 0f);
                } else {
                    long rowStart = ((long) ci * s.h() + iy) * s.w();
                    copyRun(x, rowStart, s, ox, kx, run, packed, row + c);
                }
                c += run;
            }
            Arrays.fill(packed, row + np, row + NR, 0f);
        }
    }

    /** packed[at + i] = x[rowStart + ix] for output columns ox .. ox+run of one input row, ix = (ox+i)·stride - pad + kx. */
    private static void copyRun(MemorySegment x, long rowStart, Shape s, int ox, int kx, int run, float[] packed, int at) {
        int ix0 = ox * s.stride() - s.padding() + kx;
        if (s.stride() == 1) {
            int lo = Math.max(0, -ix0), hi = Math.min(run, s.w() - ix0);   // i range with ix inside the row
            if (lo >= hi) {
                Arrays.fill(packed, at, at + run, 0f);
                return;
            }
            Arrays.fill(packed, at, at + lo, 0f);
            MemorySegment.copy(x, F32_LE, (rowStart + ix0 + lo) * Float.BYTES, packed, at + lo, hi - lo);
            Arrays.fill(packed, at + hi, at + run, 0f);
            return;
        }
        for (int i = 0; i < run; i++) {
            int ix = ix0 + i * s.stride();
            packed[at + i] = ix < 0 || ix >= s.w() ? 0f : x.getAtIndex(F32_LE, rowStart + ix);
        }
    }
}
