package dev.viditq.nn.vae;

import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.viditq.core.tensor.Tensor.F32_LE;

/**
 * One sample's activation, F32 [channels, height, width], in memory of its own that {@link #close()} frees at
 * once. A VAE at 512 px passes maps of 130–270 MB from layer to layer; left to the garbage collector (which
 * does not see off-heap memory), dozens of them would pile up. Each layer closes what it no longer needs.
 * A map made by {@link #view} borrows its memory and close() leaves it alone.
 */
final class FeatureMap implements AutoCloseable {
    final int channels;
    final int height;
    final int width;
    final MemorySegment data;
    private final Arena arena; // null when borrowed

    private FeatureMap(int channels, int height, int width, MemorySegment data, Arena arena) {
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.data = data;
        this.arena = arena;
    }

    /** A new map (zero-filled), freed by {@link #close()}. */
    static FeatureMap allocate(int channels, int height, int width) {
        Arena arena = Arena.ofShared(); // shared: kernels fill it from the worker threads
        long bytes = (long) channels * height * width * Float.BYTES;
        return new FeatureMap(channels, height, width, arena.allocate(Math.max(bytes, 1), Tensor.ALIGNMENT).asSlice(0, bytes), arena);
    }

    /** A borrowed view of {@code data} (F32, exactly channels·height·width values). */
    static FeatureMap view(MemorySegment data, int channels, int height, int width) {
        if (data.byteSize() != (long) channels * height * width * Float.BYTES) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is not [" + channels + ", " + height + ", " + width + "] F32");
        }
        return new FeatureMap(channels, height, width, data, null);
    }

    long spatial() {
        return (long) height * width;
    }

    long size() {
        return channels * spatial();
    }

    /** The map seen as an F32 tensor of {@code shape} (sharing memory). */
    Tensor asTensor(long... shape) {
        return new Tensor(DType.F32, shape, data);
    }

    /** this += other, element-wise. */
    void add(FeatureMap other) {
        if (other.size() != size()) throw new IllegalArgumentException("cannot add a " + other.describe() + " map to a " + describe() + " one");
        dev.viditq.core.kernels.KernelBackend.get().add(data, other.data, data, size());
    }

    String describe() {
        return "[" + channels + ", " + height + ", " + width + "]";
    }

    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    /** dst[c, r] = src[r, c] for src F32 [rows, cols], in cache-sized tiles spread over the threads. */
    static void transpose(MemorySegment src, int rows, int cols, MemorySegment dst) {
        final int tile = 64;
        int rowTiles = (rows + tile - 1) / tile;
        Parallel.forEach(rowTiles, t -> {
            int r0 = t * tile, r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        dst.setAtIndex(F32_LE, (long) c * rows + r, src.getAtIndex(F32_LE, (long) r * cols + c));
                    }
                }
            }
        });
    }
}
