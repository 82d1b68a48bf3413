package dev.viditq.bench.arch;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model folder (config.json + model.safetensors) with random BF16 weights in an architecture's real layout, written
 * once and reused: the benchmarks load it through the normal model loader, memory-mapped, exactly as a downloaded
 * checkpoint. PixArt-XL/2 is about 1.2 GB.
 *
 * <p>Where: {@code <cache root>/<arch name>/}, the root being {@code -Dviditq.bench.cache}, else
 * {@code $VIDITQ_BENCH_CACHE}, else {@code <java.io.tmpdir>/viditq-bench}. A cached folder is reused when its
 * checkpoint's metadata carries the architecture's {@link Architecture#fingerprint()}, and rewritten otherwise.
 * Values are seeded by tensor name, so a rewritten file has the same content.
 */
public final class RandomCheckpoint {
    /** safetensors metadata key holding the fingerprint. */
    static final String FINGERPRINT_KEY = "viditq.bench.architecture";
    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private RandomCheckpoint() {}

    /** The default cache root (see the class comment). */
    public static Path defaultCacheRoot() {
        String prop = System.getProperty("viditq.bench.cache");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("VIDITQ_BENCH_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of(System.getProperty("java.io.tmpdir"), "viditq-bench");
    }

    /** The folder for {@code arch} under {@code cacheRoot}, written first when absent or stale. */
    public static Path ensure(Architecture arch, Path cacheRoot, java.io.PrintStream log) {
        Path dir = cacheRoot.resolve(arch.name());
        Path weights = dir.resolve("model.safetensors");
        if (isCurrent(arch, dir)) return dir;
        long bytes = arch.parameters() * 2;
        log.printf("writing random %s weights (%,d parameters, %.2f GB BF16) to %s ...%n", arch.name(), arch.parameters(),
                bytes / 1e9, weights);
        long t0 = System.nanoTime();
        write(arch, dir);
        log.printf("written in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    /** True when {@code dir} holds this architecture's config and a complete checkpoint with its fingerprint. */
    static boolean isCurrent(Architecture arch, Path dir) {
        Path weights = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(weights) || !Files.isRegularFile(dir.resolve("config.json"))) return false;
        try (TensorFile f = Checkpoints.open(weights)) {
            return arch.fingerprint().equals(f.metadata().get(FINGERPRINT_KEY));
        } catch (CheckpointException e) {
            return false; // unreadable: rewrite it
        }
    }

    /** Writes config.json and model.safetensors into {@code dir} (both replaced atomically). */
    public static void write(Architecture arch, Path dir) {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Architecture.TensorSpec spec : arch.tensors()) {
            entries.add(new SafetensorsWriter.Entry(spec.name(), DType.BF16, spec.shape(), arena -> {
                Tensor t = new Tensor(DType.BF16, spec.shape(), arena.allocate(spec.numel() * 2, Tensor.ALIGNMENT));
                fill(t.data(), spec.numel(), spec.std(), seed(spec.name()));
                return t;
            }));
        }
        SafetensorsWriter.writeEntries(dir.resolve("model.safetensors"), entries,
                Map.of(FINGERPRINT_KEY, arch.fingerprint(), "format", "pt"));
        writeAtomically(dir.resolve("config.json"), arch.configJson());
    }

    /** Uniform values of standard deviation {@code std} (±std·√3), as BF16. */
    private static void fill(MemorySegment out, long n, double std, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float halfWidth = (float) (std * Math.sqrt(3));
        for (long i = 0; i < n; i++) {
            float v = (float) (rng.nextDouble() * 2 - 1) * halfWidth;
            out.set(BF16, i * 2, Tensor.floatToBf16(v));
        }
    }

    private static long seed(String name) {
        long h = 1125899906842597L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) h = 31 * h + b;
        return h;
    }

    private static void writeAtomically(Path target, String text) {
        try {
            SafeOutput.write(target, tmp -> Files.writeString(tmp, text));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
