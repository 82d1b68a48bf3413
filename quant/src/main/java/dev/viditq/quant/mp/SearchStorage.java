package dev.viditq.quant.mp;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.config.QuantConfig;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytes a quantized layer stores for one weight bit width, counted as the quantized checkpoint stores them
 * ({@code QuantizedModel.storedWeightBytes}): the integers (one byte per value for 5–8 bits, two values per byte for
 * 2–4 bits), a scale (F32 or BF16, as the weights store them) per output channel (or per group) and, for asymmetric
 * weights, an int8 zero point per scale. A layer whose plan needs two bit widths stores both, so a group's bytes depend on the set of widths its
 * ranges use, not on their sum.
 *
 * @param shapes [out, in] of every layer, by name
 */
public record SearchStorage(Map<String, int[]> shapes, QuantConfig.WeightSpec weights) {
    public SearchStorage {
        shapes = Collections.unmodifiableMap(new LinkedHashMap<>(shapes));
    }

    /** The layer shapes of the model's denoiser checkpoint ({@code NAME.weight} tensors of rank 2). */
    public static SearchStorage fromModel(Path modelDir, List<String> layers, QuantConfig.WeightSpec weights) {
        ModelFolder folder = ModelFolder.resolve(modelDir);
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(folder.denoiser()))) {
            for (String layer : layers) {
                String key = layer + ".weight";
                if (!f.contains(key)) {
                    throw new IllegalArgumentException(modelDir + ": the sensitivity names layer " + layer
                            + ", but the model's checkpoint has no tensor " + key + " (sensitivity of another model?)");
                }
                Tensor w = f.get(key);
                if (w.rank() != 2) throw new IllegalArgumentException(modelDir + ": " + key + " is not a matrix");
                shapes.put(layer, new int[]{w.size(0), w.size(1)});
            }
        }
        return new SearchStorage(shapes, weights);
    }

    /** Stored bytes of {@code layer} at {@code bits}. */
    public long bytes(String layer, int bits) {
        int[] s = shapes.get(layer);
        if (s == null) throw new IllegalArgumentException("no shape known for layer " + layer);
        long n = s[0], k = s[1];
        long values = bits <= 4 ? (n * k + 1) / 2 : n * k;
        int groupSize = weights.granularity() == QuantConfig.WeightGranularity.GROUP && bits <= 4 ? Math.min(weights.groupSize(), s[1]) : s[1];
        long scales = n * Math.ceilDiv(s[1], groupSize);
        return values + weights.scaleType().dtype().byteSize(scales) + (weights.symmetric() ? 0 : scales);
    }

    /** Parameters of {@code layer}'s weight. */
    public long params(String layer) {
        int[] s = shapes.get(layer);
        return (long) s[0] * s[1];
    }
}
