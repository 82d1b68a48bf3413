package dev.viditq.nn.vae;

import java.lang.foreign.MemorySegment;

/**
 * One sample's video activation, F32 [channels, frames, height, width] (the official [B, C, T, H, W] layout without
 * the batch), held as a {@link FeatureMap} [channels, frames·height, width]: GroupNorm (statistics over a group's
 * channels and every frame), SiLU and additions use that map unchanged. Closing frees it at once, as
 * {@link FeatureMap} does; a view borrows its memory.
 */
final class VideoMap implements AutoCloseable {
    final FeatureMap planes;
    final int frames;
    final int height;
    final int width;

    private VideoMap(FeatureMap planes, int frames) {
        if (frames <= 0 || planes.height % frames != 0) {
            throw new IllegalArgumentException("a map of " + planes.height + " rows does not hold " + frames + " frames");
        }
        this.planes = planes;
        this.frames = frames;
        this.height = planes.height / frames;
        this.width = planes.width;
    }

    /** A new zero-filled map. */
    static VideoMap allocate(int channels, int frames, int height, int width) {
        return new VideoMap(FeatureMap.allocate(channels, frames * height, width), frames);
    }

    /** {@code planes} [channels, frames·height, width] seen as {@code frames} frames; closing this closes them. */
    static VideoMap of(FeatureMap planes, int frames) {
        return new VideoMap(planes, frames);
    }

    /** A borrowed view of {@code data}, F32 [channels, frames, height, width]. */
    static VideoMap view(MemorySegment data, int channels, int frames, int height, int width) {
        return new VideoMap(FeatureMap.view(data, channels, frames * height, width), frames);
    }

    int channels() {
        return planes.channels;
    }

    long planeBytes() {
        return (long) height * width * Float.BYTES;
    }

    /** The [height, width] plane of channel {@code c} at frame {@code t} (shared memory). */
    MemorySegment plane(int c, int t) {
        return planes.data.asSlice(((long) c * frames + t) * planeBytes(), planeBytes());
    }

    String describe() {
        return "[" + channels() + ", " + frames + ", " + height + ", " + width + "]";
    }

    @Override
    public void close() {
        planes.close();
    }
}
