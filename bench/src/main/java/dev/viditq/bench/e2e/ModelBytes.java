package dev.viditq.bench.e2e;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;

import java.nio.file.Path;
import java.util.Set;

/**
 * Bytes of the weights a model's forward pass reads, as its checkpoint stores them: BF16 for the float setting; packed
 * INT8/INT4 weights with their scales, zero points and balancing vectors, plus the layers kept in float, for a
 * quantized one. Buffers the loader recomputes instead of reading (the positional-embedding tables
 * {@code pos_embed*}) are left out. The same definition for every setting, so the figures compare.
 */
final class ModelBytes {
    private static final Set<String> RECOMPUTED = Set.of("pos_embed", "pos_embed_temporal");

    private ModelBytes() {}

    static long of(Path modelDir) {
        long bytes = 0;
        try (TensorFile file = Checkpoints.open(Checkpoints.findIn(modelDir))) {
            for (String name : file.names()) {
                if (!RECOMPUTED.contains(name)) bytes += file.get(name).byteSize();
            }
        }
        return bytes;
    }
}
