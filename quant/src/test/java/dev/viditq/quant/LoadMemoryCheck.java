package dev.viditq.quant;

import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * MANUAL check, not part of the suite: what loading a model folder leaves resident. One folder per process (RSS is
 * the process's): /proc/self/status before the load and after it (after a GC, so heap garbage of the load does not
 * count), split into file-backed pages (the mapped checkpoint) and anonymous ones (heap, packed weights), beside the
 * weights the executors account for (packed integer weights + float Linear weights and biases). One JSON object on
 * stdout.
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp quant/target/test-classes:cli/target/viditq.jar dev.viditq.quant.LoadMemoryCheck /tmp/qr-after/pixart-xl-2-256-w4a8
 * </pre>
 */
final class LoadMemoryCheck {
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Map<String, Long> before = status();
        long accounted;
        Map<String, Long> after;
        long heapUsed;
        try (Denoiser model = ModelLoader.load(dir)) {
            accounted = accountedWeightBytes(model);
            System.gc();
            after = status();
            Runtime rt = Runtime.getRuntime();
            heapUsed = rt.totalMemory() - rt.freeMemory();
        }
        long checkpoint = 0;
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) if (p.getFileName().toString().endsWith(".safetensors")) checkpoint += Files.size(p);
        }
        System.out.printf("{\"model\": \"%s\", \"checkpoint_bytes\": %d, \"rss_before_load_bytes\": %d, \"rss_after_load_bytes\": %d, "
                        + "\"rss_file_after_load_bytes\": %d, \"rss_anon_after_load_bytes\": %d, \"peak_rss_bytes\": %d, "
                        + "\"heap_used_after_load_bytes\": %d, \"accounted_weight_bytes\": %d, \"resident_growth_bytes\": %d}%n",
                dir, checkpoint, before.get("VmRSS"), after.get("VmRSS"), after.get("RssFile"), after.get("RssAnon"), after.get("VmHWM"),
                heapUsed, accounted, after.get("VmRSS") - before.get("VmRSS"));
    }

    /** Packed integer weights (quantized Linears) + float Linear weights and biases. */
    private static long accountedWeightBytes(Denoiser model) {
        long bytes = 0;
        for (Linear l : model.linears().values()) {
            boolean quantized = l.executor().getClass().getPackageName().startsWith("dev.viditq.quant");
            if (!quantized) bytes += l.weight().byteSize();
            if (l.bias() != null) bytes += l.bias().byteSize();
        }
        return bytes + dev.viditq.quant.runtime.QuantizedModel.residentBytes(model);
    }

    private static Map<String, Long> status() throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.endsWith(" kB")) out.put(line.substring(0, colon), 1024 * Long.parseLong(line.substring(colon + 1, line.length() - 3).trim()));
        }
        return out;
    }
}
