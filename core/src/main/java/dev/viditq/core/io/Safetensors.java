package dev.viditq.core.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;

/**
 * A safetensors file, memory-mapped whole with a 64-bit segment: tensors are zero-copy slices of the mapping,
 * valid until {@link #close()}, with no 2 GB limit and nothing copied to the heap.
 *
 * <p>The header is validated before any tensor is handed out, so a tensor of a file that opened is always
 * inside the file: strict UTF-8 JSON object (no duplicate keys, nothing after it), string-to-string
 * {@code __metadata__}, every other entry an object with a known dtype, a shape of non-negative integers and
 * {@code data_offsets} inside the data region whose length matches the shape exactly, and no two tensors sharing
 * bytes. Gaps between tensors are tolerated (the reference writer never makes them, but they are harmless).
 */
public final class Safetensors implements TensorFile {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** Upper bound on the JSON header, as in the reference implementation (100 MB). */
    static final long MAX_HEADER = 100L * 1024 * 1024;
    /**
     * Heap a header takes while parsed, per byte of JSON (measured: a 60 MB header of a million empty tensors
     * exhausted a 1 GB heap, ~15 bytes a byte). A header must fit a quarter of the heap, so that a small file cannot
     * run the JVM out of memory; real headers (100 bytes a tensor, a few thousand tensors) are far below.
     */
    static final long HEADER_HEAP_PER_BYTE = 16;
    static final String METADATA_KEY = "__metadata__";

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

    /** Maps and validates {@code path}; throws {@link CheckpointException} naming the file and the problem. */
    public static Safetensors open(Path path) {
        CheckpointFiles.requireReadableFile(path);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment whole = CheckpointFiles.mapReadOnly(path, arena);
            long size = whole.byteSize();
            if (size < 8) {
                throw new CheckpointException(path, "file of " + size + " bytes is too short for a safetensors header");
            }
            long headerLen = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw new CheckpointException(path, "header length " + headerLen + " is impossible for a file of "
                        + size + " bytes (" + notSafetensorsHint(whole) + ")");
            }
            if (headerLen * HEADER_HEAP_PER_BYTE > MemoryBudget.heapBytes() / 4) {
                throw new CheckpointException(path, "header of " + MemoryBudget.human(headerLen) + " would take about "
                        + MemoryBudget.human(headerLen * HEADER_HEAP_PER_BYTE) + " of heap to parse, more than a quarter of the "
                        + MemoryBudget.human(MemoryBudget.heapBytes()) + " heap (-Xmx; VIDITQ_JAVA_OPTS=-Xmx... raises it)");
            }
            JsonNode header = parseHeader(path, whole.asSlice(8, headerLen));
            MemorySegment body = whole.asSlice(8 + headerLen);
            Map<String, String> meta = parseMetadata(path, header.get(METADATA_KEY));
            LinkedHashMap<String, Tensor> out = parseTensors(path, header, body);
            return new Safetensors(path, arena, out, Collections.unmodifiableMap(meta));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Why a file may not be safetensors at all, from its first bytes, for the error message. */
    private static String notSafetensorsHint(MemorySegment whole) {
        int b0 = whole.get(ValueLayout.JAVA_BYTE, 0) & 0xFF, b1 = whole.get(ValueLayout.JAVA_BYTE, 1);
        if (b0 == 0x80 && b1 >= 2 && b1 <= 5) return "it starts like a Python pickle, but not one torch.save writes";
        if (b0 == 'P' && b1 == 'K') return "it looks like a zip archive, but not a PyTorch one";
        return "truncated, or not a safetensors file";
    }

    private static JsonNode parseHeader(Path path, MemorySegment bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toArray(ValueLayout.JAVA_BYTE)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(path, "header is not valid UTF-8 (corrupt file?)");
        }
        JsonNode header;
        try {
            header = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new CheckpointException(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new CheckpointException(path, "header is not a JSON object");
        }
        return header;
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) {
        Map<String, String> meta = new LinkedHashMap<>();
        if (node == null) return meta;
        if (!node.isObject()) throw new CheckpointException(path, METADATA_KEY + " is not a JSON object");
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(path, METADATA_KEY + " entry '" + m.getKey()
                        + "' is not a string (safetensors metadata maps strings to strings)");
            }
            meta.put(m.getKey(), m.getValue().textValue());
        }
        return meta;
    }

    private record Span(String name, long begin, long end) {}

    private static LinkedHashMap<String, Tensor> parseTensors(Path path, JsonNode header, MemorySegment body) {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        List<Span> spans = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : header.properties()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) continue;
            Span span = parseTensor(path, name, e.getValue(), body, out);
            spans.add(span);
        }
        requireDisjoint(path, spans);
        return out;
    }

    /** Validates one header entry, adds its tensor to {@code out} and returns the bytes it occupies. */
    private static Span parseTensor(Path path, String name, JsonNode v, MemorySegment body, Map<String, Tensor> out) {
        if (!v.isObject()) throw CheckpointException.tensor(path, name, "has a header entry that is not a JSON object");
        JsonNode dtypeNode = v.get("dtype"), shapeNode = v.get("shape"), offs = v.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offs == null) {
            throw CheckpointException.tensor(path, name, "lacks dtype, shape or data_offsets");
        }
        DType dtype = dtypeNode.isTextual() ? DType.fromSafetensors(dtypeNode.textValue()) : null;
        if (dtype == null) {
            throw CheckpointException.tensor(path, name, "has unsupported dtype " + dtypeNode
                    + " (known: " + Arrays.toString(DType.values()) + ")");
        }
        if (!shapeNode.isArray()) throw CheckpointException.tensor(path, name, "has a shape that is not an array");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!isLong(d) || d.longValue() < 0) {
                throw CheckpointException.tensor(path, name, "has an invalid dimension " + d + " in shape " + shapeNode);
            }
            shape[i] = d.longValue();
        }
        if (!offs.isArray() || offs.size() != 2 || !isLong(offs.get(0)) || !isLong(offs.get(1))) {
            throw CheckpointException.tensor(path, name, "has malformed data_offsets " + offs + " (want [begin, end])");
        }
        long begin = offs.get(0).longValue(), end = offs.get(1).longValue(), bodySize = body.byteSize();
        if (begin < 0 || end < begin || end > bodySize) {
            throw CheckpointException.tensor(path, name, "has data_offsets [" + begin + ", " + end
                    + ") outside the data region of " + bodySize + " bytes (truncated file?)");
        }
        long expected = exactByteSize(path, name, dtype, shape);
        if (end - begin != expected) {
            throw CheckpointException.tensor(path, name, "occupies " + (end - begin) + " bytes but " + dtype + " "
                    + Arrays.toString(shape) + " needs " + expected);
        }
        out.put(name, new Tensor(dtype, shape, body.asSlice(begin, end - begin)));
        return new Span(name, begin, end);
    }

    private static boolean isLong(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong();
    }

    /** Byte size of {@code shape} in {@code dtype}, refusing shapes whose size does not fit in a long. */
    static long exactByteSize(Path path, String name, DType dtype, long[] shape) {
        try {
            long n = Tensor.numel(shape);
            return dtype == DType.I4 ? n / 2 + (n & 1) : Math.multiplyExact(n, dtype.elementBytes());
        } catch (ArithmeticException ex) {
            throw CheckpointException.tensor(path, name, "has shape " + Arrays.toString(shape) + " whose size overflows");
        }
    }

    /** Two tensors may not share bytes (empty tensors share nothing). */
    private static void requireDisjoint(Path path, List<Span> spans) {
        List<Span> sorted = new ArrayList<>(spans);
        sorted.removeIf(s -> s.begin() == s.end());
        sorted.sort(Comparator.comparingLong(Span::begin));
        Span reach = null; // the span reaching furthest so far
        for (Span s : sorted) {
            if (reach != null && s.begin() < reach.end()) {
                throw new CheckpointException(path, "tensors '" + reach.name() + "' [" + reach.begin() + ", "
                        + reach.end() + ") and '" + s.name() + "' [" + s.begin() + ", " + s.end() + ") overlap");
            }
            if (reach == null || s.end() > reach.end()) reach = s;
        }
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

    /** Unmaps the file; tensors handed out before become unusable. */
    @Override
    public void close() {
        arena.close();
    }
}
