package dev.viditq.quant.mp;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytes a quantized layer stores for one weight bit width and weight method, counted as the quantized checkpoint
 * stores them ({@link QuantizedWeight#storedBytes(int, int, int, int, boolean, QuantConfig.ScaleType)}, {@link LowRankBranch#storedBytes(int, int, int)}):
 * the integers (one byte per value for 5–8 bits, two values per byte for 2–4 bits), a scale (F32 or BF16, as the weights store them) per output channel (or
 * per group) and, for asymmetric weights, a zero point per scale, and the BF16 low-rank factors. A layer whose plan
 * needs two bit widths stores both, so a group's bytes depend on the set of widths its ranges use, not on their sum.
 *
 * @param shapes  [out, in] of every layer, by name
 * @param weights the preset's weight scheme (symmetric or not; the grouping of bits-only candidates)
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

    /** Stored bytes of {@code layer} at {@code bits} with the preset's grouping (per channel above 4 bits). */
    public long bytes(String layer, int bits) {
        int group = weights.granularity() == QuantConfig.WeightGranularity.GROUP && bits <= 4 ? weights.groupSize() : 0;
        return bytes(layer, bits, group);
    }

    /** Stored integers, scales and zero points of {@code layer} at {@code bits} with {@code groupSize} inputs per scale (0: per channel). */
    public long bytes(String layer, int bits, int groupSize) {
        int[] s = shape(layer);
        return QuantizedWeight.storedBytes(bits, s[0], s[1], groupSize == 0 ? s[1] : Math.min(groupSize, s[1]), weights.symmetric(),
                weights.scaleType());
    }

    /** Stored bytes of a rank-{@code rank} low-rank branch of {@code layer} (the rank cut to the layer's smaller side, as planning does). */
    public long branchBytes(String layer, int rank) {
        if (rank == 0) return 0;
        int[] s = shape(layer);
        return LowRankBranch.storedBytes(Math.min(rank, Math.min(s[0], s[1])), s[0], s[1]);
    }

    private int[] shape(String layer) {
        int[] s = shapes.get(layer);
        if (s == null) throw new IllegalArgumentException("no shape known for layer " + layer);
        return s;
    }

    /** Parameters of {@code layer}'s weight. */
    public long params(String layer) {
        int[] s = shapes.get(layer);
        return (long) s[0] * s[1];
    }
}
