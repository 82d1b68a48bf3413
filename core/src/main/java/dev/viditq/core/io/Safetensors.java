package dev.viditq.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;

/**
 * A safetensors file, memory-mapped whole with a 64-bit segment: tensors are zero-copy slices of the mapping,
 * valid until {@link #close()}. The header is validated before any tensor is handed out.
 */
public final class Safetensors implements TensorFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Upper bound on the JSON header, as in the reference implementation (100 MB). */
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private final Path path;
    private final Arena arena;
    private final LinkedHashMap<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private Safetensors(Path path, Arena arena, LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps and validates {@code path}. */
    public static Safetensors open(Path path) {
        if (!Files.exists(path)) throw new CheckpointException(path, "no such file");
        if (Files.isDirectory(path)) throw new CheckpointException(path, "is a directory, expected a .safetensors file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new CheckpointException(path, "file of " + size + " bytes is too short for a safetensors header");
            MemorySegment whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new CheckpointException(path, "header length " + headerLen + " is invalid for a file of " + size + " bytes");
            }
            byte[] headerBytes = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new CheckpointException(path, "header is not valid JSON: " + e.getMessage());
            }
            if (header == null || !header.isObject()) throw new CheckpointException(path, "header is not a JSON object");
            MemorySegment body = whole.asSlice(8 + headerLen);
            Map<String, String> meta = new LinkedHashMap<>();
            LinkedHashMap<String, Tensor> out = parseEntries(path, header, body, meta);
            return new Safetensors(path, arena, out, Collections.unmodifiableMap(meta));
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(path, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LinkedHashMap<String, Tensor> parseEntries(Path path, JsonNode header, MemorySegment body,
                                                              Map<String, String> meta) {
        record Span(String name, long begin, long end) {}
        List<Span> spans = new ArrayList<>();
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new CheckpointException(path, "__metadata__ is not an object");
                v.fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString()));
                continue;
            }
            String where = "tensor '" + name + "'";
            if (!v.isObject() || !v.has("dtype") || !v.has("shape") || !v.has("data_offsets")) {
                throw new CheckpointException(path, where + " lacks dtype, shape or data_offsets");
            }
            DType dtype = DType.fromSafetensors(v.get("dtype").asText());
            if (dtype == null) throw new CheckpointException(path, where + " has unsupported dtype " + v.get("dtype").asText());
            JsonNode shapeNode = v.get("shape");
            JsonNode offs = v.get("data_offsets");
            if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                throw new CheckpointException(path, where + " has a malformed shape or data_offsets");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
                    throw new CheckpointException(path, where + " has an invalid dimension " + shapeNode.get(i));
                }
                shape[i] = shapeNode.get(i).asLong();
            }
            long begin = offs.get(0).asLong(-1), end = offs.get(1).asLong(-1);
            if (begin < 0 || end < begin || end > body.byteSize()) {
                throw new CheckpointException(path, where + " data_offsets [" + begin + ", " + end
                        + ") fall outside the data region of " + body.byteSize() + " bytes (truncated file?)");
            }
            long expected;
            try {
                expected = dtype.byteSize(Tensor.numel(shape));
            } catch (ArithmeticException ex) {
                throw new CheckpointException(path, where + " shape " + Arrays.toString(shape) + " overflows");
            }
            if (end - begin != expected) {
                throw new CheckpointException(path, where + " occupies " + (end - begin) + " bytes but " + dtype + " "
                        + Arrays.toString(shape) + " needs " + expected);
            }
            spans.add(new Span(name, begin, end));
            out.put(name, new Tensor(dtype, shape, body.asSlice(begin, end - begin)));
        }
        spans.sort(Comparator.comparingLong(Span::begin).thenComparingLong(Span::end));
        for (int i = 1; i < spans.size(); i++) {
            Span a = spans.get(i - 1), b = spans.get(i);
            if (b.begin() < a.end() && b.end() > b.begin() && a.end() > a.begin()) {
                throw new CheckpointException(path, "tensors '" + a.name() + "' and '" + b.name() + "' overlap");
            }
        }
        return out;
    }

    @Override public Path path() { return path; }
    @Override public Set<String> names() { return Collections.unmodifiableSet(tensors.keySet()); }
    @Override public Map<String, String> metadata() { return metadata; }

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
