package dev.viditq.core.io;

import dev.viditq.core.io.TorchPickle.StorageRef;
import dev.viditq.core.io.TorchPickle.TensorRef;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.*;
import java.util.function.Function;

/**
 * A PyTorch checkpoint written by {@code torch.save} (how PixArt, DiT and Open-Sora publish weights), read
 * without Python and without running anything: the zip format of torch 1.6+ ({@link TorchZip}) and the older
 * pickle-then-storages format ({@link TorchLegacy}). The file is memory-mapped; tensors are zero-copy slices of
 * the storages where those are stored uncompressed (as torch always writes them).
 *
 * <p><b>Which dict is the state dict.</b> Training checkpoints wrap the weights, e.g.
 * {@code {"model": ..., "ema": ..., "opt": ..., "steps": 100}}. With no entry requested, the reader looks at the
 * top-level dict for the keys of {@link #AUTO_ENTRIES}, in that order, and descends into the first whose value
 * is a non-empty dict, repeating while one is found: EMA weights win over raw model weights because they are the ones
 * published models sample with. The choice is reported by {@link #entry()} and the keys left out by
 * {@link #ignored()}. An explicit entry ({@code "model"}, {@code "state_dict/ema"}, or {@code ""} for the top level)
 * overrides this. Nested dicts inside the chosen one are flattened with dots; values that are not tensors are
 * skipped (and listed in {@link #ignored()}).
 *
 * <p>Tensors must be contiguous (a transposed view is refused, naming it); storage offsets and storages shared
 * between tensors are fine.
 */
public final class PthFile implements TensorFile {
    /** Wrapper keys tried, in order, when no entry is requested. */
    public static final List<String> AUTO_ENTRIES = List.of("ema", "model", "state_dict", "module");
    private static final int MAX_DEPTH = 16;
    /** Longest flattened tensor name: real ones have a few dozen characters; a memo-shared 1 MB key at every level would not. */
    private static final int MAX_NAME = 4096;

    private final Path path;
    private final Arena arena;
    private final LinkedHashMap<String, Tensor> tensors;
    private final String entry;
    private final List<String> ignored;

    private PthFile(Path path, Arena arena, LinkedHashMap<String, Tensor> tensors, String entry, List<String> ignored) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.entry = entry;
        this.ignored = ignored;
    }

    /** Opens {@code path}, choosing the state dict automatically (see the class comment). */
    public static PthFile open(Path path) {
        return open(path, null);
    }

    /**
     * Opens {@code path}. {@code entry} is a '/'-separated key path to the state dict ({@code ""}: the top-level
     * dict), or null to choose automatically.
     */
    public static PthFile open(Path path, String entry) {
        CheckpointFiles.requireReadableFile(path);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment whole = CheckpointFiles.mapReadOnly(path, arena);
            if (TorchZip.isZip(whole)) {
                try (TorchZip zip = TorchZip.open(path, whole, arena)) {
                    return build(path, arena, zip.load(), entry, zip::storage);
                }
            }
            TorchLegacy legacy = TorchLegacy.read(path, whole);
            return build(path, arena, legacy.root(), entry, legacy::storage);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static PthFile build(Path path, Arena arena, Object root, String requested,
                                 Function<StorageRef, MemorySegment> storages) {
        List<String> ignored = new ArrayList<>();
        Chosen chosen = choose(path, root, requested, ignored);
        LinkedHashMap<String, TensorRef> refs = new LinkedHashMap<>();
        flatten(path, chosen.dict(), "", refs, ignored, new IdentityHashMap<>(), 0);
        if (refs.isEmpty()) {
            throw new CheckpointException(path, "holds no tensors in " + describeEntry(chosen.entry())
                    + "; its keys are " + keysOf(chosen.dict()) + " (choose another entry)");
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        refs.forEach((name, ref) -> tensors.put(name, resolve(path, name, ref, storages)));
        return new PthFile(path, arena, tensors, chosen.entry(), List.copyOf(ignored));
    }

    // ---- choosing the state dict ----

    private record Chosen(String entry, Map<?, ?> dict) {}

    private static Chosen choose(Path path, Object root, String requested, List<String> ignored) {
        if (!(root instanceof Map<?, ?> dict)) {
            throw new CheckpointException(path, "holds a pickled " + Unpickler.typeName(root)
                    + ", not a dict of tensors (a state dict)");
        }
        return requested == null ? chooseAuto(dict, ignored) : chooseRequested(path, dict, requested);
    }

    private static Chosen chooseAuto(Map<?, ?> dict, List<String> ignored) {
        String entry = "";
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            String key = firstWrapperKey(dict);
            if (key == null) break;
            String prefix = entry.isEmpty() ? "" : entry + "/";
            for (Object other : dict.keySet()) {
                if (!key.equals(other)) ignored.add(prefix + other);
            }
            dict = (Map<?, ?>) dict.get(key);
            entry = prefix + key;
        }
        return new Chosen(entry, dict);
    }

    private static String firstWrapperKey(Map<?, ?> dict) {
        for (String key : AUTO_ENTRIES) {
            if (dict.get(key) instanceof Map<?, ?> m && !m.isEmpty()) return key;
        }
        return null;
    }

    private static Chosen chooseRequested(Path path, Map<?, ?> dict, String requested) {
        if (requested.isEmpty()) return new Chosen("", dict);
        String walked = "";
        for (String key : requested.split("/", -1)) {
            Object next = dict.get(key);
            walked = walked.isEmpty() ? key : walked + "/" + key;
            if (!(next instanceof Map<?, ?> m)) {
                throw new CheckpointException(path, "has no dict at entry '" + walked + "' (keys there: "
                        + keysOf(dict) + ")");
            }
            dict = m;
        }
        return new Chosen(requested, dict);
    }

    private static String describeEntry(String entry) {
        return entry.isEmpty() ? "the top-level dict" : "entry '" + entry + "'";
    }

    /** Up to 20 keys of {@code dict}, for messages. */
    private static String keysOf(Map<?, ?> dict) {
        List<String> keys = dict.keySet().stream().limit(20).map(String::valueOf).toList();
        return keys + (dict.size() > keys.size() ? " and " + (dict.size() - keys.size()) + " more" : "");
    }

    /**
     * Tensors of {@code dict} by dotted name; nested dicts flattened, other values listed as ignored. Each dict is
     * walked once ({@code walked}: dict → where it was met): a pickle can reference one dict from many keys through
     * its memo, and ten levels of ten keys sharing one dict each would otherwise be 10^10 paths to walk.
     */
    private static void flatten(Path path, Map<?, ?> dict, String prefix, Map<String, TensorRef> out,
                                List<String> ignored, Map<Object, String> walked, int depth) {
        if (depth >= MAX_DEPTH) throw new CheckpointException(path, "nests dicts more than " + MAX_DEPTH + " deep at '" + prefix + "'");
        String first = walked.putIfAbsent(dict, prefix);
        if (first != null) {
            throw new CheckpointException(path, "holds one dict under two keys, " + where(first) + " and " + where(prefix)
                    + " (shared through the pickle's memo, or a cycle); a state dict names each tensor once"
                    + " (choose one entry with --entry)");
        }
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (prefix.length() + key.length() > MAX_NAME) {
                throw new CheckpointException(path, "has a key path longer than " + MAX_NAME + " characters under " + where(prefix));
            }
            String name = prefix + key;
            switch (e.getValue()) {
                case TensorRef t -> {
                    if (out.putIfAbsent(name, t) != null) {
                        throw new CheckpointException(path, "has two tensors named '" + name + "' after flattening");
                    }
                }
                case Map<?, ?> m -> flatten(path, m, name + ".", out, ignored, walked, depth + 1);
                case null, default -> ignored.add(name);
            }
        }
    }

    private static String where(String prefix) {
        return prefix.isEmpty() ? "the top level" : "'" + prefix.substring(0, Math.min(prefix.length() - 1, 200)) + "'";
    }

    // ---- from storage to tensor ----

    /** The tensor {@code ref} describes, as a slice of its storage's bytes, after checking it fits. */
    private static Tensor resolve(Path path, String name, TensorRef ref, Function<StorageRef, MemorySegment> storages) {
        StorageRef storage = ref.storage();
        DType dtype = storage.type().dtype();
        if (dtype == null) {
            throw CheckpointException.tensor(path, name, "is stored as " + storage.type().name()
                    + ", a dtype this project does not support");
        }
        long numel;
        try {
            numel = Tensor.numel(ref.shape());
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(path, name, "has shape " + Arrays.toString(ref.shape()) + " whose size overflows");
        }
        requireContiguous(path, name, ref, numel);
        long eb = dtype.elementBytes();
        if (numel > 0 && (ref.offset() > storage.numel() || numel > storage.numel() - ref.offset())) {
            throw CheckpointException.tensor(path, name, "needs elements [" + ref.offset() + ", " + (ref.offset() + numel)
                    + ") of storage '" + storage.key() + "' which has " + storage.numel());
        }
        MemorySegment bytes = storages.apply(storage);
        long begin, length;
        try {
            begin = Math.multiplyExact(Math.addExact(storage.viewOffset(), ref.offset()), eb);
            length = Math.multiplyExact(numel, eb);
        } catch (ArithmeticException e) {
            throw CheckpointException.tensor(path, name, "has an offset or size that overflows");
        }
        if (numel == 0) return new Tensor(dtype, ref.shape(), bytes.asSlice(0, 0));
        if (begin > bytes.byteSize() || length > bytes.byteSize() - begin) {
            throw CheckpointException.tensor(path, name, "needs bytes [" + begin + ", " + (begin + length)
                    + ") of storage '" + storage.key() + "' which holds " + bytes.byteSize() + " (truncated file?)");
        }
        return new Tensor(dtype, ref.shape(), bytes.asSlice(begin, length));
    }

    /** Row-major strides are the only layout a {@link Tensor} can view without copying. */
    private static void requireContiguous(Path path, String name, TensorRef ref, long numel) {
        if (numel == 0) return;
        long[] shape = ref.shape(), stride = ref.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                throw CheckpointException.tensor(path, name, "is not contiguous (shape " + Arrays.toString(shape)
                        + ", stride " + Arrays.toString(stride) + "); save it after .contiguous()");
            }
            expected *= shape[i];
        }
    }

    // ---- TensorFile ----

    @Override public Path path() { return path; }
    @Override public Set<String> names() { return Collections.unmodifiableSet(tensors.keySet()); }

    /** PyTorch files carry no string metadata. */
    @Override public Map<String, String> metadata() { return Map.of(); }

    /** The '/'-separated key path of the dict the tensors came from; "" for the top level. */
    public String entry() { return entry; }

    /** Keys not read: siblings of the chosen entry and non-tensor values inside it ('/'- and '.'-joined paths). */
    public List<String> ignored() { return ignored; }

    @Override
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new CheckpointException(path, "no tensor named '" + name + "'");
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}
