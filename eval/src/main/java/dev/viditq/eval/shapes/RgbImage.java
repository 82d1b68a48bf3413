package dev.viditq.eval.shapes;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.util.Arrays;

/**
 * A float RGB image, values nominally in [0, 1], stored row-major with channels last (HWC). This is what the
 * renderer produces, the analyzer reads and the metrics compare; model outputs come in through
 * {@link #fromTensor}.
 */
public final class RgbImage {
    private final int width, height;
    private final float[] data;

    public RgbImage(int width, int height, float[] data) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("empty image " + width + "x" + height);
        if (data.length != width * height * 3) {
            throw new IllegalArgumentException(width + "x" + height + " RGB needs " + width * height * 3
                    + " values, got " + data.length);
        }
        this.width = width;
        this.height = height;
        this.data = data;
    }

    public static RgbImage filled(int width, int height, float[] rgb) {
        float[] d = new float[width * height * 3];
        for (int i = 0; i < d.length; i += 3) System.arraycopy(rgb, 0, d, i, 3);
        return new RgbImage(width, height, d);
    }

    /** From 8-bit HWC RGB bytes starting at {@code offset}. */
    public static RgbImage fromU8(byte[] hwc, int offset, int width, int height) {
        float[] d = new float[width * height * 3];
        for (int i = 0; i < d.length; i++) d[i] = (hwc[offset + i] & 0xFF) / 255f;
        return new RgbImage(width, height, d);
    }

    /**
     * From a model output: an F32 tensor of shape [H, W, 3] (channels last) or [3, H, W] (channels first), whose
     * values span [lo, hi] (e.g. -1 and 1 for a VAE decoder), mapped to [0, 1] and clamped.
     */
    public static RgbImage fromTensor(Tensor t, boolean channelsFirst, float lo, float hi) {
        if (t.dtype() != DType.F32 || t.rank() != 3 || t.dim(channelsFirst ? 0 : 2) != 3) {
            throw new IllegalArgumentException("expected an F32 image tensor of shape " + (channelsFirst ? "[3,H,W]" : "[H,W,3]")
                    + ", got " + t.dtype() + " " + Arrays.toString(t.shape()));
        }
        int h = (int) t.dim(channelsFirst ? 1 : 0), w = (int) t.dim(channelsFirst ? 2 : 1);
        float[] d = new float[w * h * 3];
        float scale = 1f / (hi - lo);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    long src = channelsFirst ? ((long) c * h + y) * w + x : ((long) y * w + x) * 3 + c;
                    d[(y * w + x) * 3 + c] = Math.clamp((t.getFloat(src) - lo) * scale, 0f, 1f);
                }
            }
        }
        return new RgbImage(w, h, d);
    }

    public int width() { return width; }
    public int height() { return height; }

    /** The backing array (HWC); writes show through. */
    public float[] data() { return data; }

    public float get(int x, int y, int c) {
        return data[(y * width + x) * 3 + c];
    }

    public void set(int x, int y, int c, float v) {
        data[(y * width + x) * 3 + c] = v;
    }

    public RgbImage copy() {
        return new RgbImage(width, height, data.clone());
    }

    /** Rounds to 8 bits per channel into {@code out} at {@code offset}, clamping to [0, 1] first. */
    public void toU8(byte[] out, int offset) {
        for (int i = 0; i < data.length; i++) out[offset + i] = (byte) Math.round(Math.clamp(data[i], 0f, 1f) * 255f);
    }

    public boolean sameSize(RgbImage other) {
        return width == other.width && height == other.height;
    }
}
