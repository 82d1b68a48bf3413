package dev.viditq.core.io;

import dev.viditq.core.io.TorchPickle.StorageRef;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * The zip container of {@code torch.save} (torch 1.6+): {@code <archive>/data.pkl} holds the pickled object,
 * {@code <archive>/data/<key>} the raw little-endian bytes of each storage, stored uncompressed and 64-byte
 * aligned. The zip library only locates entries; stored entries are then sliced straight out of the file's
 * mapping (zero copy), and only entries someone re-compressed are inflated, into off-heap memory.
 */
final class TorchZip implements AutoCloseable {
    private static final String PICKLE = "data.pkl";
    /** Deflate expands at most about 1032:1; a larger claimed size is corruption. */
    private static final long MAX_DEFLATE_RATIO = 1100;
    /**
     * Largest data.pkl read: torch's pickle of a state dict takes ~100 bytes a tensor (a few MB for the largest
     * models); a deflated pickle claiming gigabytes is an inflation bomb, refused before anything is inflated.
     */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    private final Path path;
    private final MemorySegment whole;
    private final Arena arena;
    private final ZipFile zip;
    private final String prefix;
    private final Map<String, MemorySegment> storages = new HashMap<>();
    /** Bytes inflated into native memory so far (all entries together must fit). */
    private long inflated;

    private TorchZip(Path path, MemorySegment whole, Arena arena, ZipFile zip, String prefix) {
        this.path = path;
        this.whole = whole;
        this.arena = arena;
        this.zip = zip;
        this.prefix = prefix;
    }

    static boolean isZip(MemorySegment whole) {
        byte[] magic = {'P', 'K', 3, 4};
        if (whole.byteSize() < magic.length) return false;
        for (int i = 0; i < magic.length; i++) {
            if (whole.get(ValueLayout.JAVA_BYTE, i) != magic[i]) return false;
        }
        return true;
    }

    static TorchZip open(Path path, MemorySegment whole, Arena arena) {
        ZipFile zip;
        try {
            zip = ZipFile.builder().setPath(path).get();
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(path, "is not a readable zip archive (truncated or corrupt?): " + e.getMessage());
        }
        try {
            String prefix = findPicklePrefix(path, zip);
            TorchZip torchZip = new TorchZip(path, whole, arena, zip, prefix);
            torchZip.requireLittleEndian();
            return torchZip;
        } catch (RuntimeException | Error e) {
            ZipFile.closeQuietly(zip);
            throw e;
        }
    }

    /** The archive folder ("archive/" or the file's stem) holding data.pkl, which must be unique. */
    private static String findPicklePrefix(Path path, ZipFile zip) {
        List<String> found = new ArrayList<>();
        for (ZipArchiveEntry e : Collections.list(zip.getEntries())) {
            String name = e.getName();
            if (name.equals(PICKLE) || (name.endsWith("/" + PICKLE) && name.indexOf('/') == name.length() - PICKLE.length() - 1)) {
                found.add(name.substring(0, name.length() - PICKLE.length()));
            }
        }
        if (found.isEmpty()) {
            throw new CheckpointException(path, "is a zip archive without " + PICKLE + ", so not a PyTorch checkpoint");
        }
        if (found.size() > 1) throw new CheckpointException(path, "holds several " + PICKLE + " (" + found + ")");
        return found.getFirst();
    }

    /** torch 2.x records the byte order of the storages; older files are little-endian. */
    private void requireLittleEndian() {
        ZipArchiveEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) return;
        String order = new String(bytes(e, 16, "byteorder").toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).trim();
        if (!order.equals("little")) {
            throw new CheckpointException(path, "stores tensors in byte order '" + order + "'; only little-endian is supported");
        }
    }

    /** The object pickled in data.pkl. */
    Object load() {
        ZipArchiveEntry e = zip.getEntry(prefix + PICKLE);
        if (e.getSize() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(path, "zip entry " + prefix + PICKLE + " declares " + MemoryBudget.human(e.getSize())
                    + " of pickle; a state dict's pickle is a few MB, so more than " + MemoryBudget.human(MAX_PICKLE_BYTES)
                    + " is refused (an inflation bomb?)");
        }
        MemorySegment pickle = bytes(e, Long.MAX_VALUE, prefix + PICKLE);
        requireCrc(e, pickle, prefix + PICKLE);
        return new Unpickler(path, prefix + PICKLE, pickle, 0, new TorchPickle(path)).load();
    }

    /**
     * Checks the small pickle against its zip CRC, so a corrupted data.pkl is reported as such. Storages are not
     * checked: that would read gigabytes at open time, which the memory mapping exists to avoid.
     */
    private void requireCrc(ZipArchiveEntry e, MemorySegment bytes, String what) {
        if (e.getCrc() < 0 || bytes.byteSize() > Integer.MAX_VALUE) return;
        CRC32 crc = new CRC32();
        crc.update(bytes.asByteBuffer());
        if (crc.getValue() != e.getCrc()) {
            throw new CheckpointException(path, "zip entry " + what + " fails its CRC check (corrupt file)");
        }
    }

    /** The bytes of the storage {@code ref} lives in (zip entry {@code data/<key>}). */
    MemorySegment storage(StorageRef ref) {
        String name = prefix + "data/" + ref.key();
        MemorySegment cached = storages.get(name);
        long need;
        try {
            need = Math.multiplyExact(Math.addExact(ref.viewOffset(), ref.numel()), (long) ref.type().dtype().elementBytes());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(path, "storage '" + ref.key() + "' has an impossible size");
        }
        if (cached != null && cached.byteSize() >= need) return cached;
        ZipArchiveEntry e = zip.getEntry(name);
        if (e == null) throw new CheckpointException(path, "lacks the bytes of storage '" + ref.key() + "' (" + name + ")");
        MemorySegment bytes = bytes(e, need, name);
        storages.put(name, bytes);
        return bytes;
    }

    /**
     * The bytes of entry {@code e}: a slice of the mapping when stored, else at most {@code limit} bytes inflated
     * into the arena (the whole entry when {@code limit} is {@link Long#MAX_VALUE}).
     */
    private MemorySegment bytes(ZipArchiveEntry e, long limit, String what) {
        long size = e.getSize();
        if (e.getMethod() == ZipEntry.STORED) {
            long offset = e.getDataOffset();
            if (offset < 0 || size < 0 || offset > whole.byteSize() || size > whole.byteSize() - offset) {
                throw new CheckpointException(path, "zip entry " + what + " lies outside the file (truncated?)");
            }
            return whole.asSlice(offset, size);
        }
        if (!zip.canReadEntryData(e)) {
            throw new CheckpointException(path, "zip entry " + what + " uses compression method " + e.getMethod()
                    + ", which cannot be read");
        }
        if (size < 0) throw new CheckpointException(path, "zip entry " + what + " does not record its size");
        if (e.getCompressedSize() < 0 || e.getCompressedSize() > whole.byteSize()
                || size > MAX_DEFLATE_RATIO * e.getCompressedSize() + 1024) { // deflate cannot expand more: a lie, not data
            throw new CheckpointException(path, "zip entry " + what + " claims " + size + " bytes from "
                    + e.getCompressedSize() + " compressed (corrupt?)");
        }
        long count = Math.min(size, limit);
        if (!MemoryBudget.fitsTensors(inflated + count)) { // inflated into native memory: checked before allocating
            throw new CheckpointException(path, "zip entry " + what + " is compressed, and inflating it (with the "
                    + MemoryBudget.human(inflated) + " inflated before) " + MemoryBudget.needsMoreThan(inflated + count)
                    + "; store the entries uncompressed, as torch.save does");
        }
        inflated += count;
        return inflate(e, count, what);
    }

    private MemorySegment inflate(ZipArchiveEntry e, long count, String what) {
        MemorySegment out = arena.allocate(Math.max(count, 1), 64).asSlice(0, count);
        byte[] buf = new byte[1 << 16];
        long done = 0;
        try (InputStream in = zip.getInputStream(e)) {
            while (done < count) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, count - done));
                if (n < 0) break;
                MemorySegment.copy(buf, 0, out, ValueLayout.JAVA_BYTE, done, n);
                done += n;
            }
        } catch (IOException | RuntimeException ex) {
            throw new CheckpointException(path, "cannot inflate zip entry " + what + ": " + ex.getMessage());
        }
        if (done < count) {
            throw new CheckpointException(path, "zip entry " + what + " inflates to " + done + " bytes, expected " + count);
        }
        return out;
    }

    @Override
    public void close() {
        ZipFile.closeQuietly(zip);
    }
}
