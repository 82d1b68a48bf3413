package dev.viditq.bench.e2e;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Bytes of the weights a loaded model's forward pass reads: every {@link Linear} as it executes (its stored weight,
 * or the packed integer weight a quantized executor holds) plus every other checkpoint tensor the model uses
 * (embedding tables, modulation tables, patch embedding). Buffers the loader recomputes instead of reading (the
 * positional-embedding tables {@code pos_embed*}) are left out.
 */
final class ModelBytes {
    private static final Set<String> RECOMPUTED = Set.of("pos_embed", "pos_embed_temporal");

    private ModelBytes() {}

    static long of(Denoiser model, Path modelDir) {
        Set<String> linearKeys = new HashSet<>();
        long bytes = 0;
        for (Linear l : model.linears().values()) {
            linearKeys.add(l.name() + ".weight");
            linearKeys.add(l.name() + ".bias");
            bytes += QuantizedSettings.weightBytes(l);
            if (l.bias() != null) bytes += l.bias().byteSize();
        }
        try (TensorFile file = Checkpoints.open(Checkpoints.findIn(modelDir))) {
            for (String name : file.names()) {
                if (linearKeys.contains(name) || RECOMPUTED.contains(name)) continue;
                bytes += file.get(name).byteSize();
            }
        }
        return bytes;
    }
}
