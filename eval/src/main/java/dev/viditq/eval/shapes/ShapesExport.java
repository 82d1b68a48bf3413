package dev.viditq.eval.shapes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a Shapes split as a safetensors file (gzip-compressed when the name ends in {@code .gz}) for the PyTorch
 * trainer, which must never render scenes itself. The format is specified in {@code package-info.java}.
 */
public final class ShapesExport {
    /** Value of the {@code format} metadata key; bump the number on any incompatible change. */
    public static final String FORMAT = "viditq-shapes/1";
    /** Columns of the {@code objects} tensor. */
    public static final List<String> OBJECT_FIELDS =
            List.of("present", "shape", "color", "size", "row", "col", "direction", "speed");
    private static final int CHUNK = 256;

    private ShapesExport() {}

    /** What was written. */
    public record Summary(Path file, int count, long rawBytes, long fileBytes, double seconds) {}

    /** Exports {@code count} prompts of a split (see {@link ShapesGenerator#prompts}) to {@code out}. */
    public static Summary export(Kind kind, Split split, int count, long seed, Path out) {
        if (count <= 0) throw new IllegalArgumentException("--count must be positive, got " + count);
        long start = System.nanoTime();
        List<ShapesPrompt> prompts = prompts(kind, split, count, seed);
        Map<String, Tensor> tensors = tensors(kind, prompts);
        long raw = tensors.values().stream().mapToLong(Tensor::byteSize).sum();
        write(out, tensors, metadata(kind, split, count, seed));
        long size;
        try {
            size = Files.size(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Summary(out, count, raw, size, (System.nanoTime() - start) / 1e9);
    }

    private static List<ShapesPrompt> prompts(Kind kind, Split split, int count, long seed) {
        if (split != Split.TRAIN) return ShapesGenerator.fixed(kind, split, count);
        ShapesPrompt[] out = new ShapesPrompt[count];
        Parallel.forEach(chunks(count), c -> {
            for (int i = c * CHUNK; i < Math.min(count, (c + 1) * CHUNK); i++) out[i] = ShapesGenerator.train(kind, seed, i);
        });
        return Arrays.asList(out);
    }

    /** The tensors of the file, in file order. */
    static Map<String, Tensor> tensors(Kind kind, List<ShapesPrompt> prompts) {
        int n = prompts.size();
        int itemBytes = Scene.WIDTH * Scene.HEIGHT * 3 * kind.frames();
        long[] pixelShape = kind == Kind.IMAGE
                ? new long[]{n, Scene.HEIGHT, Scene.WIDTH, 3}
                : new long[]{n, kind.frames(), Scene.HEIGHT, Scene.WIDTH, 3};
        Tensor pixels = Tensor.zeros(DType.U8, pixelShape);
        MemorySegment seg = pixels.data();
        Parallel.forEach(chunks(n), c -> {
            byte[] buf = new byte[itemBytes];
            for (int i = c * CHUNK; i < Math.min(n, (c + 1) * CHUNK); i++) {
                Renderer.renderU8(prompts.get(i).scene(), buf, 0);
                MemorySegment.copy(buf, 0, seg, ValueLayout.JAVA_BYTE, (long) i * itemBytes, itemBytes);
            }
        });

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("pixels", pixels);
        putCaptions(prompts, tensors);
        putScenes(prompts, tensors);
        return tensors;
    }

    private static void putCaptions(List<ShapesPrompt> prompts, Map<String, Tensor> tensors) {
        int n = prompts.size();
        byte[][] utf8 = new byte[n][];
        long total = 0;
        for (int i = 0; i < n; i++) {
            utf8[i] = prompts.get(i).caption().getBytes(StandardCharsets.UTF_8);
            total += utf8[i].length;
        }
        Tensor bytes = Tensor.zeros(DType.U8, total);
        Tensor offsets = Tensor.zeros(DType.I64, n + 1);
        long at = 0;
        for (int i = 0; i < n; i++) {
            offsets.data().setAtIndex(Tensor.I64_LE, i, at);
            MemorySegment.copy(utf8[i], 0, bytes.data(), ValueLayout.JAVA_BYTE, at, utf8[i].length);
            at += utf8[i].length;
        }
        offsets.data().setAtIndex(Tensor.I64_LE, n, at);
        tensors.put("caption_bytes", bytes);
        tensors.put("caption_offsets", offsets);
    }

    private static void putScenes(List<ShapesPrompt> prompts, Map<String, Tensor> tensors) {
        int n = prompts.size(), slots = Scene.MAX_OBJECTS, fields = OBJECT_FIELDS.size();
        Tensor index = Tensor.zeros(DType.I64, n);
        Tensor background = Tensor.zeros(DType.I8, n);
        Tensor objects = Tensor.zeros(DType.I8, n, slots, fields);
        Tensor centers = Tensor.zeros(DType.F32, n, slots, 2);
        for (int i = 0; i < n; i++) {
            Scene s = prompts.get(i).scene();
            index.data().setAtIndex(Tensor.I64_LE, i, prompts.get(i).index());
            background.setFloat(i, s.background().ordinal());
            for (int k = 0; k < slots; k++) {
                long row = ((long) i * slots + k) * fields;
                if (k >= s.objects().size()) {
                    for (int f = 1; f < fields; f++) objects.setFloat(row + f, -1);
                    continue;
                }
                SceneObject o = s.objects().get(k);
                int[] values = {1, o.shape().ordinal(), o.color().ordinal(), o.size().ordinal(), o.position().row(),
                        o.position().col(), o.moving() ? o.direction().ordinal() : -1, o.moving() ? o.speed().ordinal() : -1};
                for (int f = 0; f < fields; f++) objects.setFloat(row + f, values[f]);
                centers.setFloat(((long) i * slots + k) * 2, (float) o.x());
                centers.setFloat(((long) i * slots + k) * 2 + 1, (float) o.y());
            }
        }
        tensors.put("index", index);
        tensors.put("background", background);
        tensors.put("objects", objects);
        tensors.put("centers", centers);
    }

    static Map<String, String> metadata(Kind kind, Split split, int count, long seed) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("kind", kind.id());
        m.put("split", split.id());
        m.put("seed", split == Split.TRAIN ? Long.toString(seed) : "fixed");
        m.put("count", Integer.toString(count));
        m.put("frames", Integer.toString(kind.frames()));
        m.put("height", Integer.toString(Scene.HEIGHT));
        m.put("width", Integer.toString(Scene.WIDTH));
        m.put("pixel_layout", kind == Kind.IMAGE ? "NHWC" : "NTHWC");
        m.put("object_fields", json(OBJECT_FIELDS));
        m.put("shapes", json(Stream.of(Shape.values()).map(Shape::word).toList()));
        m.put("colors", json(Stream.of(ObjectColor.values()).map(ObjectColor::word).toList()));
        m.put("sizes", json(Stream.of(Size.values()).map(s -> s.words()[0]).toList()));
        m.put("directions", json(Stream.of(Direction.values()).map(Direction::word).toList()));
        m.put("speeds", json(Stream.of(Speed.values()).map(s -> s.words()[0]).toList()));
        m.put("backgrounds", json(Stream.of(Background.values()).map(Background::words).toList()));
        m.put("vocabulary", json(ShapesVocabulary.words()));
        m.put("tokenize", "lower-case; split on whitespace; ',' and ':' are tokens of their own");
        return m;
    }

    private static String json(List<String> values) {
        try {
            return new ObjectMapper().writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Plain safetensors, or, for a name ending in .gz, the same bytes gzip-compressed; atomic either way. */
    private static void write(Path out, Map<String, Tensor> tensors, Map<String, String> metadata) {
        if (!out.getFileName().toString().endsWith(".gz")) {
            SafetensorsWriter.write(out, tensors, metadata);
            return;
        }
        Path raw = out.toAbsolutePath().resolveSibling(SafeOutput.tempName(out.getFileName() + ".raw"));
        try {
            SafetensorsWriter.write(raw, tensors, metadata);
            SafeOutput.write(out, tmp -> {
                try (InputStream in = Files.newInputStream(raw);
                     OutputStream gz = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                    in.transferTo(gz);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(raw);
            } catch (IOException ignored) { /* best effort: a leftover is swept by the next run */ }
        }
    }

    private static int chunks(int n) {
        return (n + CHUNK - 1) / CHUNK;
    }
}
