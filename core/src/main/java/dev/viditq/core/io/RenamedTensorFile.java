package dev.viditq.core.io;

import dev.viditq.core.tensor.Tensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A checkpoint seen under other tensor names (a published layout read by code written for another one): each stored
 * name is mapped once by {@code rename}; tensors stay where they are (memory-mapped, not copied). Two stored names
 * mapped to the same new name are an error naming both. Closing the view closes the file.
 */
public final class RenamedTensorFile implements TensorFile {
    private final TensorFile file;
    private final Map<String, String> stored = new LinkedHashMap<>(); // new name → stored name

    public RenamedTensorFile(TensorFile file, UnaryOperator<String> rename) {
        this.file = file;
        for (String name : file.names()) {
            String to = rename.apply(name);
            String before = stored.put(to, name);
            if (before != null) {
                throw CheckpointException.tensor(file.path(), name, "and '" + before + "' both map to '" + to + "'");
            }
        }
    }

    @Override public Path path() { return file.path(); }
    @Override public Set<String> names() { return Collections.unmodifiableSet(stored.keySet()); }
    @Override public Map<String, String> metadata() { return file.metadata(); }
    @Override public void close() { file.close(); }

    @Override
    public Tensor get(String name) {
        String original = stored.get(name);
        if (original == null) throw CheckpointException.tensor(file.path(), name, "is not in the checkpoint");
        return file.get(original);
    }

    /** The stored name of {@code name} (for messages), or null. */
    public String storedName(String name) {
        return stored.get(name);
    }
}
