package dev.viditq.eval.shapes;

import java.util.List;

/**
 * What the analyzer read from a video.
 *
 * @param background    the palette background nearest to {@code backgroundRgb}
 * @param backgroundRgb dominant border color over all frames, RGB in [0, 1]
 * @param tracks        the objects followed through the video
 * @param frames        the per-frame analyses (against the video's background)
 */
public record VideoAnalysis(Background background, float[] backgroundRgb, List<Track> tracks, List<ImageAnalysis> frames) {
    public VideoAnalysis {
        tracks = List.copyOf(tracks);
        frames = List.copyOf(frames);
    }
}
