package dev.viditq.nn.models;

import dev.viditq.core.tensor.Tensor;

/**
 * The official repos' {@code forward_with_cfg} (DiT, PixArt, Open-Sora 1.0/1.1): the batch is [cond | null], only the
 * first half of x is used (duplicated), and guidance ε = u + s·(c − u) is applied to the first
 * {@code guidedChannels} output channels only (3 in DiT and PixArt: a legacy of the original DiT code); the other
 * channels keep each half's own output.
 */
public final class Guidance {
    private Guidance() {}

    /**
     * @param cond conditioning for the whole batch, [cond | null] halves (DiT: labels [y, null_class])
     */
    public static Tensor forwardWithCfg(Denoiser model, Tensor x, Tensor timesteps, Conditioning cond, double scale,
                                        int guidedChannels) {
        int batch = x.size(0);
        if (batch % 2 != 0) throw new IllegalArgumentException("forward_with_cfg needs an even batch [cond | null], got " + x);
        Tensor xf = x.toF32();
        Tensor half = xf.sliceRows(0, batch / 2);
        Tensor combined = Tensor.zeros(xf.shape());
        long halfBytes = half.byteSize();
        combined.data().asSlice(0, halfBytes).copyFrom(half.data());
        combined.data().asSlice(halfBytes, halfBytes).copyFrom(half.data());

        Tensor out = model.forward(combined, timesteps, cond);
        int channels = out.size(1);
        if (guidedChannels > channels) throw new IllegalArgumentException("cannot guide " + guidedChannels + " of " + channels + " channels");
        long plane = out.numel() / ((long) batch * channels);
        float s = (float) scale;
        int h = batch / 2;
        for (int b = 0; b < h; b++) {
            for (int c = 0; c < guidedChannels; c++) {
                long condAt = ((long) b * channels + c) * plane, uncondAt = ((long) (b + h) * channels + c) * plane;
                for (long i = 0; i < plane; i++) {
                    float cv = out.getFloat(condAt + i), uv = out.getFloat(uncondAt + i);
                    float guided = uv + s * (cv - uv);
                    out.setFloat(condAt + i, guided);
                    out.setFloat(uncondAt + i, guided);
                }
            }
        }
        return out;
    }
}
