package dev.viditq.core.io;

import dev.viditq.core.io.TorchPickle.StorageRef;
import dev.viditq.core.io.TorchPickle.StorageType;
import dev.viditq.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The format of {@code torch.save} before torch 1.6 (and with {@code _use_new_zipfile_serialization=False}):
 * five pickles back to back (magic number, protocol version 1001, sys_info, the object, the sorted storage keys),
 * then for each key an int64 element count and the storage's raw bytes. Storages are slices of the mapping.
 */
final class TorchLegacy {
    private static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long PROTOCOL_VERSION = 1001;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Object root;
    private final Map<String, MemorySegment> storages;

    private TorchLegacy(Path path, Object root, Map<String, MemorySegment> storages) {
        this.path = path;
        this.root = root;
        this.storages = storages;
    }

    static TorchLegacy read(Path path, MemorySegment whole) {
        TorchPickle torch = new TorchPickle(path);
        Unpickler pickles = new Unpickler(path, "stream", whole, 0, torch);
        if (!MAGIC.equals(pickles.load())) {
            throw new CheckpointException(path, "is neither a zip nor a legacy torch.save file (no torch magic number)");
        }
        Object version = pickles.load();
        if (!Long.valueOf(PROTOCOL_VERSION).equals(version)) {
            throw new CheckpointException(path, "uses legacy torch.save protocol " + version + ", expected " + PROTOCOL_VERSION);
        }
        if (!(pickles.load() instanceof Map<?, ?> sysInfo) || !Boolean.TRUE.equals(sysInfo.get("little_endian"))) {
            throw new CheckpointException(path, "was saved on a big-endian machine or lacks sys_info; not supported");
        }
        Object root = pickles.load();
        if (!(pickles.load() instanceof List<?> keys)) {
            throw new CheckpointException(path, "lacks the list of storage keys after the pickled object");
        }
        return new TorchLegacy(path, root, readStorages(path, whole, pickles.position(), keys, torch.storageTypes()));
    }

    /** Walks the storage records: per key, an int64 element count then that many elements. */
    private static Map<String, MemorySegment> readStorages(Path path, MemorySegment whole, long pos, List<?> keys,
                                                           Map<String, StorageType> types) {
        Map<String, MemorySegment> out = new HashMap<>();
        for (Object k : keys) {
            StorageType type = k instanceof String key ? types.get(key) : null;
            if (type == null) throw new CheckpointException(path, "lists storage " + Unpickler.typeName(k) + " '" + k
                    + "' that no tensor uses");
            DType dtype = type.dtype();
            if (dtype == null) {
                throw new CheckpointException(path, "holds a storage of " + type.name() + ", which cannot be read");
            }
            if (pos > whole.byteSize() - 8) throw new CheckpointException(path, "ends before storage '" + k + "' (truncated?)");
            long count = whole.get(I64, pos);
            pos += 8;
            long size = count < 0 || count > whole.byteSize() ? -1 : count * dtype.elementBytes();
            if (size < 0 || size > whole.byteSize() - pos) {
                throw new CheckpointException(path, "storage '" + k + "' claims " + count + " elements, more than"
                        + " the file holds (truncated?)");
            }
            out.put((String) k, whole.asSlice(pos, size));
            pos += size;
        }
        return out;
    }

    Object root() {
        return root;
    }

    MemorySegment storage(StorageRef ref) {
        MemorySegment bytes = storages.get(ref.key());
        if (bytes == null) throw new CheckpointException(path, "lacks the bytes of storage '" + ref.key() + "'");
        return bytes;
    }
}
