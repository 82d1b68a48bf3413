package dev.viditq.core.io;

import dev.viditq.core.tensor.DType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * The meaning of the few Python names a {@code torch.save} state dict refers to, as inert Java stand-ins.
 * Nothing is ever executed: an allowed global becomes a marker, and "calling" it builds plain data
 * ({@link TensorRef}, {@link LinkedHashMap}, ...). Any other global is refused with its name, e.g.
 * {@code pickle global 'posix.system' is not allowed}.
 *
 * <p>Allowed: {@code torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter /
 * _rebuild_parameter_with_state}, {@code torch._tensor._rebuild_from_type_v2}, the {@code torch.*Storage} classes,
 * {@code collections.OrderedDict}, {@code torch.Size}, sets, {@code _codecs.encode} (how protocol 2 spells bytes),
 * and some harmless objects training checkpoints carry beside the weights (torch dtypes and devices,
 * {@code argparse.Namespace}, numpy scalars and arrays): those become {@link Opaque} placeholders that no tensor
 * can come from.
 */
final class TorchPickle implements Unpickler.Resolver {
    /** A storage class such as {@code torch.FloatStorage}; {@code dtype} is null when this project lacks it. */
    record StorageType(String name, DType dtype) {}

    /**
     * A persistent storage: {@code key} names its bytes (zip entry {@code data/<key>}, or the legacy record),
     * {@code numel} counts elements of {@code type}, {@code viewOffset} (legacy views only) is where it starts
     * inside the storage {@code key}, in elements.
     */
    record StorageRef(String key, StorageType type, long numel, long viewOffset) {}

    /** A tensor as torch rebuilds it: a storage, an element offset into it, a shape and strides. */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {}

    /** An inert stand-in for an allowed object that is not a tensor (never interpreted). */
    record Opaque(String name) {}

    private enum Fn {
        REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2,
        ORDERED_DICT, SET, CODECS_ENCODE, TORCH_SIZE, CLASS_MARKER, INERT
    }

    private record Callable(String name, Fn fn) {}

    private static final Map<String, Fn> FUNCTIONS = Map.ofEntries(
            Map.entry("torch._utils._rebuild_tensor_v2", Fn.REBUILD_TENSOR_V2),
            Map.entry("torch._utils._rebuild_tensor", Fn.REBUILD_TENSOR),
            Map.entry("torch._utils._rebuild_parameter", Fn.REBUILD_PARAMETER),
            Map.entry("torch._utils._rebuild_parameter_with_state", Fn.REBUILD_PARAMETER_WITH_STATE),
            Map.entry("torch._tensor._rebuild_from_type_v2", Fn.REBUILD_FROM_TYPE_V2),
            Map.entry("collections.OrderedDict", Fn.ORDERED_DICT),
            Map.entry("builtins.set", Fn.SET), Map.entry("builtins.frozenset", Fn.SET),
            Map.entry("__builtin__.set", Fn.SET), Map.entry("__builtin__.frozenset", Fn.SET),
            Map.entry("_codecs.encode", Fn.CODECS_ENCODE),
            Map.entry("torch.Size", Fn.TORCH_SIZE),
            Map.entry("torch.nn.parameter.Parameter", Fn.CLASS_MARKER),
            Map.entry("torch.Tensor", Fn.CLASS_MARKER),
            Map.entry("torch.device", Fn.INERT),
            Map.entry("argparse.Namespace", Fn.INERT),
            Map.entry("numpy.core.multiarray.scalar", Fn.INERT), Map.entry("numpy._core.multiarray.scalar", Fn.INERT),
            Map.entry("numpy.core.multiarray._reconstruct", Fn.INERT), Map.entry("numpy._core.multiarray._reconstruct", Fn.INERT),
            Map.entry("numpy.dtype", Fn.INERT), Map.entry("numpy.ndarray", Fn.INERT));

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("DoubleStorage", DType.F64), Map.entry("FloatStorage", DType.F32),
            Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8),
            Map.entry("ByteStorage", DType.U8), Map.entry("BoolStorage", DType.BOOL));

    /** torch dtype objects (e.g. a saved {@code torch.float16}) are harmless values. */
    private static final Set<String> TORCH_DTYPES = Set.of("float64", "float32", "float16", "bfloat16", "int64",
            "int32", "int16", "int8", "uint8", "bool", "double", "float", "half", "long", "int", "short");

    /** torch dtypes without a storage class of their own (saved through _rebuild_tensor_v3) that we cannot hold. */
    private static final java.util.regex.Pattern UNSUPPORTED_DTYPE =
            java.util.regex.Pattern.compile("float8_\\w+|uint(16|32|64)|complex\\d*|c(float|double)|q(u?int\\w+)");

    private final Path file;
    private final Map<String, StorageType> storageTypes = new HashMap<>();

    TorchPickle(Path file) {
        this.file = file;
    }

    /** The type of every storage key seen in a persistent id so far (the first, if a key comes with several). */
    Map<String, StorageType> storageTypes() {
        return storageTypes;
    }

    @Override
    public Object global(String module, String name) {
        String qualified = module + "." + name;
        Fn fn = FUNCTIONS.get(qualified);
        if (fn != null) return new Callable(qualified, fn);
        if (module.equals("torch") && name.endsWith("Storage")) {
            return new StorageType(qualified, STORAGES.get(name));
        }
        if (module.equals("torch") && TORCH_DTYPES.contains(name)) return new Opaque(qualified);
        if (module.equals("torch") && UNSUPPORTED_DTYPE.matcher(name).matches()) {
            throw new CheckpointException(file, "holds tensors of dtype " + qualified + ", which is not supported");
        }
        throw new CheckpointException(file, "pickle global '" + qualified + "' is not allowed: only state dicts of"
                + " tensors can be read, and nothing in a checkpoint is ever executed"
                + (module.equals("__main__") ? " (the file pickles a whole Python object; save model.state_dict())" : ""));
    }

    @Override
    public Object call(Object callable, List<Object> args) {
        if (!(callable instanceof Callable c)) {
            throw new CheckpointException(file, "pickle calls " + describe(callable) + ", which is not callable");
        }
        return switch (c.fn()) {
            case REBUILD_TENSOR_V2, REBUILD_TENSOR -> rebuildTensor(c, args);
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> arg(c, args, 0, TensorRef.class);
            case REBUILD_FROM_TYPE_V2 -> rebuildFromType(c, args);
            case ORDERED_DICT -> orderedDict(c, args);
            case SET, TORCH_SIZE -> args.isEmpty() ? new ArrayList<>() : new ArrayList<>(arg(c, args, 0, List.class));
            case CODECS_ENCODE -> encode(c, args);
            case CLASS_MARKER, INERT -> new Opaque(c.name());
        };
    }

    @Override
    public Object persistentLoad(Object pid) {
        // ('storage', storage_type, key, location, numel) and, in the legacy format, a sixth view_metadata.
        if (!(pid instanceof List<?> t) || t.size() < 5 || !"storage".equals(t.get(0))) {
            throw new CheckpointException(file, "pickle has a persistent id that is not a torch storage");
        }
        if (!(t.get(1) instanceof StorageType type) || !(t.get(2) instanceof String key)
                || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw new CheckpointException(file, "pickle has a malformed torch storage id");
        }
        storageTypes.putIfAbsent(key, type);
        StorageRef storage = new StorageRef(key, type, numel, 0);
        if (t.size() > 5 && t.get(5) != null) {
            // legacy view_metadata: (view_key, offset, view_size) inside the root storage `key`
            if (!(t.get(5) instanceof List<?> view) || view.size() != 3 || !(view.get(1) instanceof Long offset)
                    || !(view.get(2) instanceof Long size) || offset < 0 || size < 0 || size > numel - offset) {
                throw new CheckpointException(file, "pickle has a malformed storage view of storage " + key);
            }
            storage = new StorageRef(key, type, size, offset);
        }
        return storage;
    }

    @Override
    public Object build(Object obj, Object state) {
        // OrderedDict state (state_dict()._metadata), Parameter/tensor python attributes, inert objects: ignored.
        if (obj instanceof Map || obj instanceof TensorRef || obj instanceof Opaque) return obj;
        throw new CheckpointException(file, "pickle sets the state of " + describe(obj) + ", which cannot have one");
    }

    private TensorRef rebuildTensor(Callable c, List<Object> args) {
        StorageRef storage = arg(c, args, 0, StorageRef.class);
        long offset = arg(c, args, 1, Long.class);
        long[] shape = longs(c, arg(c, args, 2, List.class), "size");
        long[] stride = longs(c, arg(c, args, 3, List.class), "stride");
        if (offset < 0 || stride.length != shape.length) {
            throw new CheckpointException(file, c.name() + " got offset " + offset + ", " + shape.length
                    + " sizes and " + stride.length + " strides");
        }
        return new TensorRef(storage, offset, shape, stride);
    }

    /** {@code _rebuild_from_type_v2(func, new_type, args, state)}: a tensor (subclass) rebuilt by {@code func(*args)}. */
    private Object rebuildFromType(Callable c, List<Object> args) {
        Callable func = arg(c, args, 0, Callable.class);
        if (func.fn() == Fn.REBUILD_FROM_TYPE_V2) throw new CheckpointException(file, c.name() + " nested in itself");
        List<Object> inner = new ArrayList<>(arg(c, args, 2, List.class));
        return call(func, inner);
    }

    private long[] longs(Callable c, List<?> values, String what) {
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(values.get(i) instanceof Long v) || v < 0) {
                throw new CheckpointException(file, c.name() + " got a " + what + " entry that is not a non-negative int");
            }
            out[i] = v;
        }
        return out;
    }

    private Map<Object, Object> orderedDict(Callable c, List<Object> args) {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (!args.isEmpty()) {
            for (Object pair : arg(c, args, 0, List.class)) {
                if (!(pair instanceof List<?> kv) || kv.size() != 2 || !(kv.get(0) instanceof String k)) {
                    throw new CheckpointException(file, c.name() + " got an item that is not a (str, value) pair");
                }
                m.put(k, kv.get(1));
            }
        }
        return m;
    }

    private byte[] encode(Callable c, List<Object> args) {
        String text = arg(c, args, 0, String.class);
        String enc = args.size() > 1 && args.get(1) instanceof String s ? s : "utf-8";
        return text.getBytes(enc.replace("-", "").equalsIgnoreCase("latin1") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    private <T> T arg(Callable c, List<Object> args, int i, Class<T> type) {
        if (i >= args.size() || !type.isInstance(args.get(i))) {
            throw new CheckpointException(file, c.name() + " expects argument " + i + " to be " + type.getSimpleName()
                    + ", got " + (i >= args.size() ? "nothing" : describe(args.get(i))));
        }
        return type.cast(args.get(i));
    }

    private static String describe(Object o) {
        if (o instanceof Callable c) return c.name();
        if (o instanceof StorageType s) return s.name();
        if (o instanceof Opaque op) return op.name();
        return Unpickler.typeName(o);
    }
}
