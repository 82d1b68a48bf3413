package dev.viditq.eval.shapes;

import java.util.List;

/** A sequence of same-sized frames. */
public record RgbVideo(List<RgbImage> frames) {
    public RgbVideo {
        frames = List.copyOf(frames);
        if (frames.isEmpty()) throw new IllegalArgumentException("a video needs at least one frame");
        for (RgbImage f : frames) {
            if (!f.sameSize(frames.getFirst())) throw new IllegalArgumentException("video frames differ in size");
        }
    }

    public int length() { return frames.size(); }
    public RgbImage frame(int t) { return frames.get(t); }
    public int width() { return frames.getFirst().width(); }
    public int height() { return frames.getFirst().height(); }
}
