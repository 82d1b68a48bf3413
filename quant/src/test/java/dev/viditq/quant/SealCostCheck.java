package dev.viditq.quant;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.quant.checkpoint.FolderSeal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MANUAL check, not part of the suite: what verifying a quantized folder's seal costs at load. Per folder, medians of
 * {@code ROUNDS} rounds with the page cache warm, each on a fresh open (the seal is verified once per open file):
 * reading every byte of the checkpoint (the floor any verification pays), {@link FolderSeal#verify} (SHA-256 of every
 * tensor plus the NaN pass, the files, the comparison), and for a model folder the whole {@link ModelLoader#load}
 * (which verifies). Arguments: quantized folders; with {@code --random GIB DIR} it first writes a sealed folder of
 * GIB GiB of random I8/F32 tensors there. One line per folder on stdout.
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp quant/target/test-classes:cli/target/viditq.jar dev.viditq.quant.SealCostCheck /tmp/t2i-w8a8 --random 1 /tmp/seal-1g
 * </pre>
 */
final class SealCostCheck {
    private static final int ROUNDS = 7;

    public static void main(String[] args) throws IOException {
        List<Path> folders = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--random")) {
                folders.add(randomFolder(Double.parseDouble(args[i + 1]), Path.of(args[i + 2])));
                i += 2;
            } else {
                folders.add(Path.of(args[i]));
            }
        }
        for (Path f : folders) measure(f);
    }

    private static void measure(Path folder) {
        Path checkpoint = Checkpoints.findIn(folder);
        boolean model = !Files.exists(folder.resolve("random.marker"));
        double[] read = new double[ROUNDS], verify = new double[ROUNDS], load = new double[ROUNDS];
        long bytes = 0;
        PrintStream err = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream())); // the loader's lines, not the figures
        try {
            for (int r = 0; r < ROUNDS; r++) {
                try (TensorFile f = Checkpoints.open(checkpoint)) {
                    long t = System.nanoTime();
                    bytes = readAll(f);
                    read[r] = (System.nanoTime() - t) / 1e6;
                }
                try (TensorFile f = Checkpoints.open(checkpoint)) {
                    long t = System.nanoTime();
                    FolderSeal.verify(f);
                    verify[r] = (System.nanoTime() - t) / 1e6;
                }
                if (model) {
                    long t = System.nanoTime();
                    try (Denoiser d = ModelLoader.load(folder)) {
                        load[r] = (System.nanoTime() - t) / 1e6;
                    }
                }
            }
        } finally {
            System.setErr(err);
        }
        System.out.printf(Locale.ROOT, "%s: %.1f MiB checkpoint; median of %d: read every byte %.1f ms, verify the seal %.1f ms"
                        + " (%.2f× the read, %.2f GB/s)%s%n", folder, bytes / 1048576.0, ROUNDS, median(read), median(verify),
                median(verify) / median(read), bytes / median(verify) / 1e6,
                model ? String.format(Locale.ROOT, ", whole load %.1f ms (verification %.0f%% of it)", median(load),
                        100 * median(verify) / median(load)) : "");
    }

    /** Sums every byte as longs: the cheapest pass that touches all of them. */
    private static long readAll(TensorFile f) {
        long bytes = 0, sink = 0;
        for (String n : f.names()) {
            MemorySegment s = f.get(n).data();
            long words = s.byteSize() / 8;
            for (long i = 0; i < words; i++) sink += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i * 8);
            bytes += s.byteSize();
        }
        if (sink == 42) System.out.print("");
        return bytes;
    }

    /** A sealed folder of random tensors (half I8 [n, 4096], half F32 scales and weights), about {@code gib} GiB. */
    private static Path randomFolder(double gib, Path dir) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom r = new SplittableRandom(1);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        long target = (long) (gib * (1L << 30)), total = 0;
        for (int layer = 0; total < target; layer++) {
            Tensor q = Tensor.zeros(DType.I8, 4096, 4096);
            byte[] b = new byte[4096 * 4096];
            r.nextBytes(b);
            MemorySegment.copy(b, 0, q.data(), ValueLayout.JAVA_BYTE, 0, b.length);
            float[] w = new float[1024 * 1024];
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            tensors.put("blocks." + layer + ".w8.q", q);
            tensors.put("blocks." + layer + ".weight", Tensor.of(w, 1024, 1024));
            total += q.byteSize() + 4L * w.length;
        }
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("viditq.quantization", "{}"));
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.writeString(dir.resolve("random.marker"), "not a model: no whole-load figure");
        FolderSeal.write(dir, dir.resolve("model.safetensors"));
        return dir;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
