package dev.viditq.core.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Writes named tensors as a safetensors file, atomically: everything goes to a temporary file beside the target
 * ({@link SafeOutput}), which is flushed to disk and renamed over the target only when complete. On any failure the
 * temporary file is removed and a previous file at the target is left untouched; devices, FIFOs and links are not
 * replaced unless forced.
 *
 * <p>Tensors are written one at a time ({@link Entry}), so a conversion never holds more than one converted
 * tensor in memory; that also makes rewriting a file from its own mapping safe (the old file stays readable
 * until the rename). The data region starts 8-byte aligned (the header is padded with spaces).
 */
public final class SafetensorsWriter {
    /** Largest slice handed to one channel write (ByteBuffers are int-indexed). */
    private static final long CHUNK = 1L << 30;

    private SafetensorsWriter() {}

    /**
     * One tensor to write. {@code data} produces its bytes when it is written, given a scratch arena freed right
     * after (for converted copies); the tensor it returns must have exactly this dtype and shape.
     */
    public record Entry(String name, DType dtype, long[] shape, Function<Arena, Tensor> data) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** An entry writing {@code t} as it is. */
        public static Entry of(String name, Tensor t) {
            return new Entry(name, t.dtype(), t.shape(), arena -> t);
        }
    }

    public static void write(Path target, Map<String, Tensor> tensors) {
        write(target, tensors, Map.of());
    }

    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) {
        List<Entry> entries = new ArrayList<>();
        tensors.forEach((name, t) -> entries.add(Entry.of(name, t)));
        writeEntries(target, entries, metadata);
    }

    /** Writes {@code entries} in order, with {@code metadata} as {@code __metadata__} (omitted when empty). */
    public static void writeEntries(Path target, List<Entry> entries, Map<String, String> metadata) {
        requireWritableTarget(target);
        ByteBuffer header = header(target, entries, metadata == null ? Map.of() : metadata);
        try (SafeOutput.Pending out = SafeOutput.begin(target)) {
            try (FileChannel ch = FileChannel.open(out.path(), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                while (header.hasRemaining()) ch.write(header);
                for (Entry e : entries) writeData(target, ch, e);
                if (out.isTemporary()) ch.force(true); // a forced device or FIFO is written in place, not synced
            }
            out.commit();
            if (out.isTemporary()) syncDirectory(out.path().toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new CheckpointException(target, "cannot write: " + e, e);
        }
    }

    private static void requireWritableTarget(Path target) {
        if (Files.isDirectory(target)) {
            throw new CheckpointException(target, "is a directory; give the output file's name, e.g. "
                    + target.resolve("model.safetensors"));
        }
        if (target.getFileName() == null) throw new CheckpointException(target, "is not a file name");
    }

    private static ByteBuffer header(Path target, List<Entry> entries, Map<String, String> metadata) {
        ObjectNode header = new ObjectMapper().createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject(Safetensors.METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) throw new CheckpointException(target, "metadata entry '" + k + "' has no value");
                meta.put(k, v);
            });
        }
        long offset = 0;
        for (Entry e : entries) {
            if (e.name().equals(Safetensors.METADATA_KEY) || header.has(e.name())) {
                throw new CheckpointException(target, "cannot hold two entries named '" + e.name() + "'");
            }
            long bytes = Safetensors.exactByteSize(target, e.name(), e.dtype(), e.shape());
            ObjectNode node = header.putObject(e.name());
            node.put("dtype", e.dtype().safetensorsName());
            ArrayNode shape = node.putArray("shape");
            for (long d : e.shape()) shape.add(d);
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset = Math.addExact(offset, bytes);
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer buf = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(padded).put(json);
        while (buf.hasRemaining()) buf.put((byte) ' ');
        return buf.flip();
    }

    private static void writeData(Path target, FileChannel ch, Entry e) throws IOException {
        try (Arena scratch = Arena.ofConfined()) {
            Tensor t;
            try {
                t = e.data().apply(scratch);
            } catch (CheckpointException ex) {
                throw ex;
            } catch (RuntimeException ex) {
                throw CheckpointException.tensor(target, e.name(), "could not be produced: " + ex.getMessage(), ex);
            }
            if (t.dtype() != e.dtype() || !Arrays.equals(t.shape(), e.shape())) {
                throw CheckpointException.tensor(target, e.name(), "was announced as " + e.dtype() + " "
                        + Arrays.toString(e.shape()) + " but produced " + t);
            }
            MemorySegment data = t.data();
            for (long pos = 0; pos < data.byteSize(); pos += CHUNK) {
                ByteBuffer bb = data.asSlice(pos, Math.min(CHUNK, data.byteSize() - pos)).asByteBuffer();
                while (bb.hasRemaining()) ch.write(bb);
            }
        }
    }

    /** Makes the rename durable (best effort: not every file system lets a directory be opened). */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the data itself was forced before the rename
        }
    }
}
