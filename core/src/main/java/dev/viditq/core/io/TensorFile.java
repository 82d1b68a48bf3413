package dev.viditq.core.io;

import dev.viditq.core.tensor.Tensor;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/** A read-only set of named tensors from one checkpoint file (safetensors or PyTorch zip). */
public interface TensorFile extends AutoCloseable {
    Path path();

    /** Tensor names in file order. */
    Set<String> names();

    /** The tensor, or throws {@link CheckpointException} naming the missing key. */
    Tensor get(String name);

    default boolean contains(String name) {
        return names().contains(name);
    }

    /** Free-form string metadata (safetensors {@code __metadata__}); empty when the format has none. */
    Map<String, String> metadata();

    @Override
    void close();
}
