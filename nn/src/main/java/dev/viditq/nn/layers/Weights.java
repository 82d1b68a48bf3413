package dev.viditq.nn.layers;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;

import java.util.*;

/**
 * The checkpoint as a model sees it while it is being built: tensors are taken by key with their expected shape,
 * and {@link #finish()} reports, in one error, every missing, mis-shaped and unexpected key.
 */
public final class Weights {
    private final TensorFile file;
    private final String prefix;
    private final Set<String> taken = new HashSet<>();
    private final List<String> problems = new ArrayList<>();
    private final Set<String> ignoredPatterns = new HashSet<>();

    public Weights(TensorFile file) {
        this(file, "");
    }

    /** Keys are looked up as prefix + key (a state dict nested under "model." for example). */
    public Weights(TensorFile file, String prefix) {
        this.file = file;
        this.prefix = prefix;
    }

    public TensorFile file() {
        return file;
    }

    public boolean has(String key) {
        return file.contains(prefix + key);
    }

    /**
     * The tensor under {@code key}; when {@code shape} is given its shape must match. A missing or mis-shaped key
     * is recorded (and a zero tensor of the expected shape returned) so that all problems are reported together.
     */
    public Tensor take(String key, long... shape) {
        String full = prefix + key;
        if (!file.contains(full)) {
            problems.add("missing key '" + full + "'" + (shape.length > 0 ? " " + Arrays.toString(shape) : ""));
            return Tensor.zeros(shape.length == 0 ? new long[]{1} : shape);
        }
        taken.add(full);
        Tensor t = file.get(full);
        if (shape.length > 0 && !Arrays.equals(t.shape(), shape)) {
            problems.add("key '" + full + "' has shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
            return Tensor.zeros(shape);
        }
        return t;
    }

    /**
     * How the checkpoint stores the weight of Linear {@code key} [out, in]: float, or quantized when it is a
     * {@link QuantizedLinearsView} that declares it so (a declared shape other than [out, in] is recorded like a
     * mis-shaped key; the {@code .weight} key of a layer stored only quantized counts as taken).
     */
    public WeightStorage linearStorage(String key, long out, long in) {
        String full = prefix + key;
        QuantizedLinearsView.QuantizedLinear q = file instanceof QuantizedLinearsView view ? view.quantized(full) : null;
        if (q == null) return WeightStorage.FLOAT;
        if (q.out() != out || q.in() != in) {
            problems.add("quantized layer '" + full + "' has shape [" + q.out() + ", " + q.in() + "], expected [" + out + ", " + in + "]");
        }
        if (q.floatWeightKept()) return WeightStorage.QUANTIZED_WITH_FLOAT;
        taken.add(full + ".weight");
        return WeightStorage.QUANTIZED;
    }

    /** Like {@link #take} but converted to F32 (for small tensors: biases, tables, embeddings). */
    public Tensor takeF32(String key, long... shape) {
        return take(key, shape).toF32();
    }

    /**
     * Size of dimension {@code axis} of the stored tensor {@code key}, or {@code fallback} when the key or axis is
     * absent: for sizes no config states (the timestep sinusoid width), so they follow the checkpoint.
     */
    public int storedDim(String key, int axis, int fallback) {
        if (!has(key)) return fallback;
        long[] shape = file.get(prefix + key).shape();
        return axis < shape.length ? Math.toIntExact(shape[axis]) : fallback;
    }

    /** Optional tensor: null when absent. */
    public Tensor takeOptional(String key, long... shape) {
        return has(key) ? take(key, shape) : null;
    }

    /** Keys matching this regex are known to the format but unused by the model (buffers such as pos_embed). */
    public void ignore(String regex) {
        ignoredPatterns.add(regex);
    }

    /** Throws one {@link CheckpointException} listing every problem, including keys no one took. */
    public void finish() {
        List<String> all = new ArrayList<>(problems);
        for (String name : file.names()) {
            if (!name.startsWith(prefix) || taken.contains(name)) continue;
            String key = name.substring(prefix.length());
            if (ignoredPatterns.stream().noneMatch(key::matches)) all.add("unexpected key '" + name + "'");
        }
        if (!all.isEmpty()) {
            throw new CheckpointException(file.path(), "does not fit the model:\n  " + String.join("\n  ", all));
        }
    }
}
