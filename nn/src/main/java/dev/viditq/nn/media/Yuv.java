package dev.viditq.nn.media;

import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;

import java.awt.image.BufferedImage;

/**
 * RGB ↔ Y'CbCr 4:2:0, ITU-R BT.601, limited range: Y = 16 + (65.481·R + 128.553·G + 24.966·B)/255,
 * Cb = 128 + (−37.797·R − 74.203·G + 112·B)/255, Cr = 128 + (112·R − 93.786·G − 18.214·B)/255, chroma averaged
 * over 2×2 pixels. jcodec pictures store samples minus 128 in signed bytes.
 */
final class Yuv {
    private Yuv() {}

    /** A jcodec picture (labelled YUV420J, which its encoder requires) holding limited-range BT.601 samples. */
    static Picture bt601Limited(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        Picture pic = Picture.create(w, h, ColorSpace.YUV420J);
        byte[] y = pic.getPlaneData(0), cb = pic.getPlaneData(1), cr = pic.getPlaneData(2);
        int cw = pic.getPlaneWidth(1);
        double[] cbSum = new double[cb.length], crSum = new double[cr.length];
        for (int row = 0; row < h; row++) {
            for (int col = 0; col < w; col++) {
                int rgb = img.getRGB(col, row);
                double r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                y[row * pic.getPlaneWidth(0) + col] = sample(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
                int c = (row / 2) * cw + col / 2;
                cbSum[c] += 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
                crSum[c] += 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
            }
        }
        for (int c = 0; c < cb.length; c++) {
            cb[c] = sample(cbSum[c] / 4);
            cr[c] = sample(crSum[c] / 4);
        }
        return pic;
    }

    /** The inverse for one pixel of a decoded picture, as 0xRRGGBB (used to check encoded videos). */
    static int rgbAt(Picture pic, int col, int row) {
        double y = pic.getPlaneData(0)[row * pic.getPlaneWidth(0) + col] + 128 - 16;
        int c = (row / 2) * pic.getPlaneWidth(1) + col / 2;
        double cb = pic.getPlaneData(1)[c] + 128 - 128, cr = pic.getPlaneData(2)[c] + 128 - 128;
        int r = clamp(255.0 / 219 * y + 255.0 / 224 * 1.402 * cr);
        int g = clamp(255.0 / 219 * y - 255.0 / 224 * (1.772 * 0.114 / 0.587) * cb - 255.0 / 224 * (1.402 * 0.299 / 0.587) * cr);
        int b = clamp(255.0 / 219 * y + 255.0 / 224 * 1.772 * cb);
        return r << 16 | g << 8 | b;
    }

    private static byte sample(double v) {
        return (byte) (clamp(v) - 128);
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
