package dev.viditq.nn.layers;

import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;

/**
 * Patchify: a convolution with kernel = stride = p (Conv2d, or Conv3d with kernel (1, p, p) applied per frame),
 * computed as gathering each p×p patch into a row (channel, row, column order, as the conv weight is laid out)
 * and one gemm with the weight seen as [H, C·p·p]. Tokens come out row-major per frame:
 * (sample, frame, patch row, patch column).
 *
 * <p>Kept out of the models' {@code linears()}: it is a convolution in the checkpoint, and quantization leaves it
 * in float (as ViDiT-Q does).
 */
public final class PatchEmbed {
    private final String name;
    private final Tensor weight2d;
    private final Tensor bias;
    private final int channels;
    private final int patch;
    private final int hidden;

    private PatchEmbed(String name, Tensor weight2d, Tensor bias, int channels, int patch) {
        this.name = name;
        this.weight2d = weight2d;
        this.bias = bias;
        this.channels = channels;
        this.patch = patch;
        this.hidden = weight2d.size(0);
    }

    /** Conv2d weights {@code key.weight} [H, C, p, p] and {@code key.bias} [H]. */
    public static PatchEmbed load2d(Weights w, String key, int channels, int hidden, int patch) {
        Tensor weight = w.take(key + ".weight", hidden, channels, patch, patch);
        return new PatchEmbed(key, weight.reshape(hidden, (long) channels * patch * patch),
                w.takeF32(key + ".bias", hidden), channels, patch);
    }

    /** Conv3d weights {@code key.weight} [H, C, 1, p, p] (Open-Sora's PatchEmbed3D with a temporal patch of 1). */
    public static PatchEmbed load3dFramewise(Weights w, String key, int channels, int hidden, int patch) {
        Tensor weight = w.take(key + ".weight", hidden, channels, 1, patch, patch);
        return new PatchEmbed(key, weight.reshape(hidden, (long) channels * patch * patch),
                w.takeF32(key + ".bias", hidden), channels, patch);
    }

    public int patchSize() { return patch; }
    public int hidden() { return hidden; }

    /**
     * x [B, C, H, W] (frames = 1) or [B, C, T, H, W] → tokens [B, T·(H/p)·(W/p), hidden].
     */
    public Tensor forward(Tensor x) {
        Grid g = grid(x);
        Tensor patches = gather(x.toF32(), g);
        long tokens = (long) g.batch * g.frames * g.gh * g.gw;
        Tensor out = Tensor.zeros(g.batch, (long) g.frames * g.gh * g.gw, hidden);
        KernelBackend.get().gemm(patches.data(), Math.toIntExact(tokens), channels * patch * patch, weight2d,
                bias.data(), out.data());
        return out;
    }

    /** Sizes of the token grid an input gives. */
    public record Grid(int batch, int frames, int gh, int gw) {
        public int tokensPerFrame() { return gh * gw; }
    }

    /** The token grid of {@code x} ([B, C, H, W] or [B, C, T, H, W]), checking channels and divisibility. */
    public Grid grid(Tensor x) {
        if (x.rank() != 4 && x.rank() != 5) {
            throw new IllegalArgumentException(name + ": input must be [B, C, H, W] or [B, C, T, H, W], got " + x);
        }
        long[] s = x.shape();
        int h = (int) s[s.length - 2], w = (int) s[s.length - 1];
        if (s[1] != channels) throw new IllegalArgumentException(name + ": input has " + s[1] + " channels, model takes " + channels);
        if (h % patch != 0 || w % patch != 0) {
            throw new IllegalArgumentException(name + ": latent size " + h + "×" + w + " is not a multiple of the patch size " + patch);
        }
        int frames = x.rank() == 5 ? (int) s[2] : 1;
        return new Grid((int) s[0], frames, h / patch, w / patch);
    }

    /**
     * The patches of x as rows [tokens, C·p·p]. On float arrays with bulk copies at either end: the model calls this
     * once per forward pass, too rarely for the JIT to compile it early, and in the interpreter a segment access per
     * element cost a PixArt-XL/2 step ~3 ms (here and in {@link #unpatchify}).
     */
    private Tensor gather(Tensor x, Grid g) {
        int p = patch, h = g.gh * p, w = g.gw * p;
        int k = channels * p * p;
        long tokens = (long) g.batch * g.frames * g.gh * g.gw;
        float[] src = x.toFloatArray(), dst = new float[Math.toIntExact(tokens * k)];
        int frameSize = h * w;
        int o = 0;
        for (int b = 0; b < g.batch; b++) {
            for (int t = 0; t < g.frames; t++) {
                for (int py = 0; py < g.gh; py++) {
                    for (int px = 0; px < g.gw; px++) {
                        for (int c = 0; c < channels; c++) {
                            // x[b, c, t, y, x] with T = frames (a 4-D input is the frames = 1 case)
                            int plane = ((b * channels + c) * g.frames + t) * frameSize;
                            for (int ky = 0; ky < p; ky++) {
                                int row = plane + (py * p + ky) * w + px * p;
                                for (int kx = 0; kx < p; kx++) dst[o++] = src[row + kx];
                            }
                        }
                    }
                }
            }
        }
        return Tensor.of(dst, tokens, k);
    }

    /**
     * The inverse layout of the final linear: tokens [B·T·gh·gw, p·p·C] with channel fastest inside a patch
     * (feature (py·p + px)·C + c) → [B, C, H, W] when {@code video} is false (T must be 1), else [B, C, T, H, W].
     */
    public static Tensor unpatchify(Tensor tokens, Grid g, int p, int outChannels, boolean video) {
        int c = outChannels;
        long[] shape = video ? new long[]{g.batch, c, g.frames, (long) g.gh * p, (long) g.gw * p}
                : new long[]{g.batch, c, (long) g.gh * p, (long) g.gw * p};
        if (!video && g.frames != 1) throw new IllegalArgumentException("image output with " + g.frames + " frames");
        long expected = (long) g.batch * g.frames * g.gh * g.gw * p * p * c;
        if (tokens.numel() != expected) {
            throw new IllegalArgumentException("cannot unpatchify " + tokens + " into " + Arrays.toString(shape));
        }
        float[] src = tokens.toFloatArray(), dst = new float[Math.toIntExact(expected)];
        int h = g.gh * p, w = g.gw * p;
        int frameSize = h * w;
        int in = 0;
        for (int b = 0; b < g.batch; b++) {
            for (int t = 0; t < g.frames; t++) {
                for (int py = 0; py < g.gh; py++) {
                    for (int px = 0; px < g.gw; px++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                for (int ch = 0; ch < c; ch++) {
                                    int plane = ((b * c + ch) * g.frames + t) * frameSize;
                                    dst[plane + (py * p + ky) * w + px * p + kx] = src[in++];
                                }
                            }
                        }
                    }
                }
            }
        }
        return Tensor.of(dst, shape);
    }
}
