package dev.viditq.nn;

import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Model folders with seeded random weights of given shapes, for tests that run a model at sizes no golden has. */
public final class RandomCheckpoints {
    private RandomCheckpoints() {}

    /** Uniform values in [-scale, scale), seeded by {@code seed}. */
    public static Tensor uniform(SplittableRandom r, float scale, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * r.nextDouble() - 1) * scale);
        return Tensor.of(v, shape);
    }

    /**
     * Writes {@code dir}/config.json and {@code dir}/model.safetensors holding every tensor of {@code shapes}: uniform in
     * [-scale, scale) with scale = 1/sqrt(fan-in) (the last dimensions after the first), norm weights ("norm" in the
     * name, one dimension) near 1, stored as {@code dtype}.
     */
    public static Path write(Path dir, String configJson, Map<String, long[]> shapes, long seed, DType dtype) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson);
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long fanIn = shape.length < 2 ? 1 : Tensor.numel(shape) / shape[0];
            Tensor t;
            if (isNormScale(e.getKey(), shape)) {
                t = uniform(r, 0.2f, shape);
                for (long i = 0; i < t.numel(); i++) t.setFloat(i, 1 + t.getFloat(i));
            } else {
                t = uniform(r, (float) (1 / Math.sqrt(fanIn)), shape);
            }
            tensors.put(e.getKey(), dtype == DType.F32 ? t : t.to(dtype));
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors);
        return dir;
    }

    /**
     * As {@link #write} but in BF16 and streamed tensor by tensor (a checkpoint of billions of parameters never
     * exists in memory); values uniform in ±1/sqrt(fan-in), norm scales near 1.
     */
    public static Path writeBf16Streamed(Path dir, String configJson, Map<String, long[]> shapes, long seed) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), configJson);
        java.util.List<SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
        long[] counter = {seed};
        for (var e : shapes.entrySet()) {
            long[] shape = e.getValue();
            long n = Tensor.numel(shape), fanIn = shape.length < 2 ? 1 : n / shape[0];
            boolean norm = isNormScale(e.getKey(), shape);
            long tensorSeed = counter[0]++;
            entries.add(new SafetensorsWriter.Entry(e.getKey(), DType.BF16, shape, arena -> {
                Tensor t = new Tensor(DType.BF16, shape, arena.allocate(n * 2, Tensor.ALIGNMENT));
                SplittableRandom r = new SplittableRandom(tensorSeed);
                float scale = norm ? 0.2f : (float) (1 / Math.sqrt(fanIn));
                for (long i = 0; i < n; i++) {
                    float v = (float) ((2 * r.nextDouble() - 1) * scale) + (norm ? 1 : 0);
                    t.data().set(Tensor.I16_LE, i * 2, Tensor.floatToBf16(v));
                }
                return t;
            }));
        }
        SafetensorsWriter.writeEntries(dir.resolve("diffusion_pytorch_model.safetensors"), entries, Map.of("format", "pt"));
        return dir;
    }

    private static boolean isNormScale(String key, long[] shape) {
        boolean vector = Tensor.numel(shape) == shape[0];
        return vector && (key.contains("norm") && (key.endsWith(".weight") || key.endsWith(".gamma")));
    }
}
