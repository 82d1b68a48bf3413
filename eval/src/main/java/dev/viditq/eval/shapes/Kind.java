package dev.viditq.eval.shapes;

/** Images are one 32×32 frame; videos are 16. */
public enum Kind {
    IMAGE(1), VIDEO(16);

    private final int frames;

    Kind(int frames) {
        this.frames = frames;
    }

    public int frames() {
        return frames;
    }

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
