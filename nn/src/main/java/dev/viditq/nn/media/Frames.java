package dev.viditq.nn.media;

import dev.viditq.core.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Decoded pixels (the VAE's output, or a pixel-space model's sample) to 8-bit images. Values in [-1, 1] map to
 * round(clamp((x + 1)/2, 0, 1)·255), with halves rounded to even as diffusers' {@code (x / 2 + 0.5).clamp(0, 1)
 * * 255).round()} does. Three channels are RGB, one channel is grey.
 */
public final class Frames {
    private Frames() {}

    public static int toByte(float x) {
        double v = Math.min(1.0, Math.max(0.0, (x + 1.0) / 2.0));
        return (int) Math.rint(v * 255.0);
    }

    /** An 8-bit RGB image as pixels [1, 3, H, W] in [-1, 1] (byte / 127.5 − 1, the inverse of {@link #toByte}). */
    public static Tensor pixels(BufferedImage image) {
        int h = image.getHeight(), w = image.getWidth();
        Tensor t = Tensor.zeros(1, 3, h, w);
        long plane = (long) h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                for (int c = 0; c < 3; c++) {
                    int v = (rgb >> (16 - 8 * c)) & 0xFF;
                    t.setFloat(c * plane + (long) y * w + x, v / 127.5f - 1f);
                }
            }
        }
        return t;
    }

    /** Image {@code batch} of {@code pixels} [B, C, H, W]. */
    public static BufferedImage image(Tensor pixels, int batch) {
        if (pixels.rank() != 4) throw new IllegalArgumentException("image pixels must be [B, C, H, W], got " + pixels);
        checkBatchAndChannels(pixels, batch);
        int c = pixels.size(1), h = pixels.size(2), w = pixels.size(3);
        return render(pixels, (long) batch * c * h * w, (long) h * w, c, h, w);
    }

    /** The frames of video {@code batch} of {@code pixels} [B, C, F, H, W]. */
    public static List<BufferedImage> video(Tensor pixels, int batch) {
        if (pixels.rank() != 5) throw new IllegalArgumentException("video pixels must be [B, C, F, H, W], got " + pixels);
        checkBatchAndChannels(pixels, batch);
        int c = pixels.size(1), f = pixels.size(2), h = pixels.size(3), w = pixels.size(4);
        long plane = (long) h * w, channelStride = (long) f * plane;
        List<BufferedImage> out = new ArrayList<>(f);
        for (int i = 0; i < f; i++) {
            out.add(render(pixels, (long) batch * c * channelStride + i * plane, channelStride, c, h, w));
        }
        return out;
    }

    /** Every batch element as a list of frames (one frame for images). */
    public static List<List<BufferedImage>> all(Tensor pixels) {
        List<List<BufferedImage>> out = new ArrayList<>();
        for (int b = 0; b < pixels.size(0); b++) {
            out.add(pixels.rank() == 5 ? video(pixels, b) : List.of(image(pixels, b)));
        }
        return out;
    }

    private static void checkBatchAndChannels(Tensor pixels, int batch) {
        if (batch < 0 || batch >= pixels.dim(0)) throw new IllegalArgumentException("batch index " + batch + " out of " + pixels);
        int c = pixels.size(1);
        if (c != 1 && c != 3) throw new IllegalArgumentException("pixels need 1 or 3 channels, got " + c + " in " + pixels);
    }

    /** One H×W image whose channel k starts at {@code base + k·channelStride}. */
    private static BufferedImage render(Tensor t, long base, long channelStride, int channels, int h, int w) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                long i = base + (long) y * w + x;
                int r = toByte(t.getFloat(i));
                int g = channels == 3 ? toByte(t.getFloat(i + channelStride)) : r;
                int b = channels == 3 ? toByte(t.getFloat(i + 2 * channelStride)) : r;
                row[x] = (r << 16) | (g << 8) | b;
            }
            img.setRGB(0, y, w, 1, row, 0, w);
        }
        return img;
    }
}
