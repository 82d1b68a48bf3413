package dev.viditq.eval.run;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;
import dev.viditq.nn.media.Frames;

import java.util.ArrayList;
import java.util.List;

/**
 * What a model generated for one prompt, as the 8-bit picture a saved PNG holds (values k/255): scores are
 * computed on exactly what a user gets, so re-analysing a saved PNG (or a video's frames PNG) gives the same result.
 *
 * @param video the frames; an image is a one-frame video
 */
public record Sample(EvalPrompt prompt, RgbVideo video) {
    public boolean isImage() {
        return video.length() == 1;
    }

    public RgbImage image() {
        return video.frame(0);
    }

    /** Element {@code b} of the pipeline's pixels: [B, 3, H, W] or [B, 3, F, H, W] in [-1, 1]. */
    static RgbVideo fromPixels(Tensor pixels, int b) {
        if (pixels.rank() != 4 && pixels.rank() != 5 || pixels.size(1) != 3) {
            throw new IllegalArgumentException("expected RGB pixels [B, 3, (F,) H, W], got " + pixels);
        }
        boolean video = pixels.rank() == 5;
        int frames = video ? pixels.size(2) : 1;
        int h = pixels.size(pixels.rank() - 2), w = pixels.size(pixels.rank() - 1);
        long plane = (long) h * w, channel = frames * plane, base = b * 3 * channel;
        List<RgbImage> out = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            float[] hwc = new float[w * h * 3];
            for (int c = 0; c < 3; c++) {
                long start = base + c * channel + f * plane;
                for (int p = 0; p < plane; p++) hwc[p * 3 + c] = Frames.toByte(pixels.getFloat(start + p)) / 255f;
            }
            out.add(new RgbImage(w, h, hwc));
        }
        return new RgbVideo(out);
    }
}
