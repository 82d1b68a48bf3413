package dev.viditq.quant.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.MemoryBudget;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.parallel.Parallel;
import dev.viditq.core.tensor.NonFinite;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.WeakHashMap;
import java.util.stream.Stream;

/**
 * The seal of a quantized model folder ({@value #FILE} at its root, docs/MODEL_FORMAT.md): one SHA-256 digest over
 * everything that decides what the model computes, so that no part of it can be changed without the change being
 * refused at load.
 *
 * <p><b>What it covers</b>, each item digested with its name (so an item cannot move to another name):
 * <ul>
 *   <li>every entry of the checkpoint's metadata, byte for byte: the plan (per layer bits, overrides, rotation
 *       block and seed, balancing and ranges flags, activation scheme, method), the per-layer checksums, the
 *       format;</li>
 *   <li>every tensor of the checkpoint — integers, scales, zero points, balancing vectors, ranges, biases and all
 *       float weights — with its name, dtype and shape;</li>
 *   <li>every other file of the folder (config.json, tokenizer, scheduler, VAE and text-encoder configs), by path
 *       and content; the VAE's and text encoder's weight files (copies of the float model's, gigabytes for T5) by
 *       path and size only; a file added or removed is a difference too. Hidden files are not part of a model.</li>
 * </ul>
 * The seal file lists the digest of each item and the seal, the SHA-256 of that list, which the loader prints:
 * comparing it with a published one proves the folder is the one published. The seal is a digest, not a signature:
 * whoever can write the folder and run quantize can make a new one.
 *
 * <p><b>At load</b> every item is digested again (streaming the mapped tensors, one pass that also refuses NaN and
 * infinite values) and compared: a folder without a seal, or whose items differ, is refused naming what differs,
 * unless {@code --trust-unsealed} ({@value #TRUST_PROPERTY}) turns the refusal into a warning.
 */
public final class FolderSeal {
    public static final String FILE = "viditq-seal.json";
    public static final String TRUST_PROPERTY = "viditq.trustUnsealed";
    static final String FORMAT = "viditq-seal/1";
    private static final long MAX_SEAL_BYTES = 64L << 20;
    /** Weight files of the other parts, covered by size: the denoiser's checkpoint is the one covered by content. */
    private static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".bin", ".pth", ".pt", ".ckpt");
    private static final int CHUNK = 1 << 20;
    private static final int SHOWN = 6;
    private static final ObjectMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT).build();
    /** Checkpoints already verified in this process (the loader reads the plan more than once). */
    private static final Set<TensorFile> VERIFIED = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private FolderSeal() {}

    /** The sections of a seal; the plan section only names which plan entry differs (the metadata covers the plan). */
    private enum Section {
        METADATA("metadata"), PLAN("plan entry"), TENSORS("tensor"), FILES("file");

        final String item;

        Section(String item) {
            this.item = item;
        }

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The digests of a folder's items, by section, each sorted by name. */
    record Digests(String checkpoint, Map<Section, SortedMap<String, String>> sections) {
        static Digests empty(String checkpoint) {
            Map<Section, SortedMap<String, String>> m = new java.util.EnumMap<>(Section.class);
            for (Section s : Section.values()) m.put(s, new TreeMap<>());
            return new Digests(checkpoint, m);
        }

        SortedMap<String, String> get(Section s) {
            return sections.get(s);
        }

        /** The seal: SHA-256 of the format, the checkpoint's path and every item's name and digest (plan entries excluded). */
        String seal() {
            MessageDigest md = sha256();
            field(md, FORMAT);
            field(md, checkpoint);
            for (Section s : List.of(Section.METADATA, Section.TENSORS, Section.FILES)) {
                field(md, s.key());
                field(md, Integer.toString(get(s).size()));
                get(s).forEach((k, v) -> {
                    field(md, k);
                    field(md, v);
                });
            }
            return hex(md);
        }
    }

    // ------------------------------------------------------------------ sealing

    /**
     * Writes the seal of the quantized folder {@code root} whose denoiser checkpoint is {@code checkpoint}; returns
     * the seal. Called by quantize on the complete folder before it is moved into place.
     */
    public static String write(Path root, Path checkpoint) {
        try (TensorFile file = Checkpoints.open(checkpoint)) {
            Digests d = measure(root, checkpoint, file, true);
            ObjectNode o = JSON.createObjectNode();
            o.put("format", FORMAT);
            o.put("seal", d.seal());
            o.put("checkpoint", d.checkpoint());
            for (Section s : Section.values()) {
                ObjectNode section = o.putObject(s.key());
                d.get(s).forEach(section::put);
            }
            byte[] bytes = JSON.writeValueAsBytes(o);
            SafeOutput.write(root.resolve(FILE), tmp -> Files.write(tmp, bytes));
            return d.seal();
        } catch (IOException e) {
            throw new CheckpointException(root.resolve(FILE), "cannot write the seal: " + e.getMessage(), e);
        }
    }

    /** The seal recorded in {@code folder}'s seal file, or null when it has none (for reports). */
    public static String sealOf(Path folder) {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) return null;
        return readSealFile(file).seal();
    }

    // ------------------------------------------------------------------ verifying

    /**
     * Verifies the quantized checkpoint {@code file} against the seal of its folder (see the class comment) and
     * refuses NaN or infinite values in it; once per open file. Throws {@link CheckpointException} naming what
     * differs, or, with {@code --trust-unsealed}, warns on stderr instead (non-finite values are refused regardless).
     */
    public static void verify(TensorFile file) {
        if (VERIFIED.contains(file)) return;
        long start = System.nanoTime();
        Path checkpoint = file.path().toAbsolutePath().normalize();
        Path sealFile = locate(checkpoint);
        Path root = sealFile == null ? checkpoint.getParent() : sealFile.getParent();
        Digests actual = measure(root, checkpoint, file, sealFile != null);
        String problem;
        if (sealFile == null) {
            problem = "this quantized model has no seal (" + FILE + "), so its plan and tensors cannot be verified:"
                    + " it was written before seals existed, or the seal was removed";
        } else {
            problem = mismatch(sealFile, actual);
        }
        if (problem == null) {
            System.err.printf(Locale.ROOT, "[viditq] seal verified: %s (%d tensors, %d files) in %.0f ms%n", actual.seal(),
                    actual.get(Section.TENSORS).size(), actual.get(Section.FILES).size(), (System.nanoTime() - start) / 1e6);
        } else if (Boolean.getBoolean(TRUST_PROPERTY)) {
            System.err.println("warning: " + root + ": " + problem + "; loading it anyway (--trust-unsealed)");
        } else {
            throw new CheckpointException(root, problem + ". Quantize the float model again, or pass --trust-unsealed to load it anyway");
        }
        VERIFIED.add(file);
    }

    /** What differs between the folder and its seal file, or null when nothing. */
    private static String mismatch(Path sealFile, Digests actual) {
        Digests sealed;
        try {
            sealed = readSealFile(sealFile);
        } catch (CheckpointException e) {
            return "seal file " + e.getMessage();
        }
        List<String> differences = compare(sealed, actual);
        return differences.isEmpty() ? null : "does not match its seal (" + FILE + "): " + summary(differences)
                + ". It was changed after quantization";
    }

    /** The seal file of the folder holding {@code checkpoint}: beside it, or one up for a diffusers transformer/. */
    private static Path locate(Path checkpoint) {
        Path dir = checkpoint.getParent();
        if (Files.isRegularFile(dir.resolve(FILE))) return dir.resolve(FILE);
        Path up = dir.getParent();
        if (dir.getFileName() != null && dir.getFileName().toString().equals("transformer") && up != null
                && Files.isRegularFile(up.resolve(FILE))) {
            return up.resolve(FILE);
        }
        return null;
    }

    private static List<String> compare(Digests sealed, Digests actual) {
        List<String> out = new ArrayList<>();
        if (!sealed.checkpoint().equals(actual.checkpoint())) {
            out.add("the seal is of checkpoint " + sealed.checkpoint() + ", not " + actual.checkpoint());
        }
        List<String> plan = differences(Section.PLAN, sealed.get(Section.PLAN), actual.get(Section.PLAN));
        for (Section s : List.of(Section.METADATA, Section.TENSORS, Section.FILES)) {
            for (String d : differences(s, sealed.get(s), actual.get(s))) {
                if (s == Section.METADATA && d.contains("'" + QuantizedCheckpoint.METADATA_KEY + "' differs")) {
                    if (!plan.isEmpty()) {
                        out.addAll(plan); // name the plan entries rather than the whole entry
                        continue;
                    }
                    d += " (outside the plan's layers: its format, scheme or layer checksums)";
                }
                out.add(d);
            }
        }
        return out;
    }

    private static List<String> differences(Section s, SortedMap<String, String> sealed, SortedMap<String, String> actual) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, String> e : sealed.entrySet()) {
            String now = actual.get(e.getKey());
            if (now == null) out.add(s.item + " '" + e.getKey() + "' is missing");
            else if (!now.equals(e.getValue())) out.add(s.item + " '" + e.getKey() + "' differs");
        }
        for (String k : actual.keySet()) if (!sealed.containsKey(k)) out.add(s.item + " '" + k + "' is not covered by the seal (added)");
        return out;
    }

    private static String summary(List<String> differences) {
        String shown = String.join("; ", differences.subList(0, Math.min(SHOWN, differences.size())));
        return differences.size() > SHOWN ? shown + "; and " + (differences.size() - SHOWN) + " more" : shown;
    }

    // ------------------------------------------------------------------ measuring a folder

    /**
     * Digests of every item of the folder {@code root} with the quantized checkpoint {@code file}; refuses NaN and
     * infinite values on the way. {@code withFiles}: also the folder's other files.
     */
    private static Digests measure(Path root, Path checkpoint, TensorFile file, boolean withFiles) {
        Digests d = Digests.empty(relative(root, checkpoint));
        file.metadata().forEach((k, v) -> d.get(Section.METADATA).put(k, digest("metadata", k, v)));
        planEntries(file).forEach((k, v) -> d.get(Section.PLAN).put(k, digest("plan", k, v)));
        List<String> names = List.copyOf(file.names());
        String[] digests = new String[names.size()];
        // tensors digest independently: spread over the pool (SHA-256 runs at ~1-2 GB/s a core, the mapping's page
        // faults parallelise too)
        Parallel.forEach(names.size(), i -> digests[i] = tensorDigest(file.path(), names.get(i), file.get(names.get(i))));
        for (int i = 0; i < digests.length; i++) d.get(Section.TENSORS).put(names.get(i), digests[i]);
        if (withFiles) files(root, checkpoint, d.get(Section.FILES));
        return d;
    }

    /** Each layer's plan entry as compact JSON, and the plan's other fields under "(scheme)"; empty when unreadable. */
    private static Map<String, String> planEntries(TensorFile file) {
        Map<String, String> out = new TreeMap<>();
        String meta = file.metadata().get(QuantizedCheckpoint.METADATA_KEY);
        if (meta == null) return out;
        try {
            JsonNode plan = JSON.readTree(meta).path("plan");
            if (!(plan instanceof ObjectNode p)) return out;
            ObjectNode scheme = p.deepCopy();
            JsonNode layers = scheme.remove("layers");
            out.put("(scheme)", scheme.toString());
            if (layers != null) layers.properties().forEach(e -> out.put(e.getKey(), e.getValue().toString()));
        } catch (JacksonException e) {
            // malformed: the metadata digest differs and the plan reader names the problem
        }
        return out;
    }

    /** SHA-256 of the tensor's name, dtype, shape and bytes, streamed from the mapping; NaN / infinity refused. */
    private static String tensorDigest(Path file, String name, Tensor t) {
        MessageDigest md = sha256();
        field(md, "tensor");
        field(md, name);
        field(md, t.dtype().name());
        field(md, Arrays.toString(t.shape()));
        MemorySegment data = t.data();
        byte[] chunk = new byte[(int) Math.min(CHUNK, data.byteSize())];
        for (long at = 0; at < data.byteSize(); at += CHUNK) {
            int n = (int) Math.min(CHUNK, data.byteSize() - at);
            MemorySegment part = data.asSlice(at, n);
            long bad = NonFinite.first(t.dtype(), part);
            if (bad >= 0) Checkpoints.requireFinite(file, name, t); // names the element
            MemorySegment.copy(part, ValueLayout.JAVA_BYTE, 0, chunk, 0, n);
            md.update(chunk, 0, n);
        }
        if (data.isMapped()) data.unload(); // read once here; loading faults back in only what it uses
        return hex(md);
    }

    /** Every file of the folder but the checkpoint and the seal: content digests, or sizes for weight files. */
    private static void files(Path root, Path checkpoint, Map<String, String> out) {
        try (Stream<Path> walk = Files.walk(root, FileVisitOption.FOLLOW_LINKS)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String rel = relative(root, p);
                if (!Files.isRegularFile(p) || rel.equals(FILE) || rel.equals(relative(root, checkpoint)) || isHidden(rel)) continue;
                String lower = rel.toLowerCase(Locale.ROOT);
                out.put(rel, WEIGHT_SUFFIXES.stream().anyMatch(lower::endsWith) ? "size:" + Files.size(p) : fileDigest(rel, p));
            }
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(root, "cannot read the folder to verify its seal: " + e.getMessage(), e);
        }
    }

    private static String fileDigest(String rel, Path p) throws IOException {
        MessageDigest md = sha256();
        field(md, "file");
        field(md, rel);
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return hex(md);
    }

    private static boolean isHidden(String rel) {
        for (String part : rel.split("/")) if (part.startsWith(".")) return true;
        return false;
    }

    /** {@code p} relative to {@code root}, '/'-separated. */
    private static String relative(Path root, Path p) {
        return root.toAbsolutePath().normalize().relativize(p.toAbsolutePath().normalize()).toString().replace('\\', '/');
    }

    // ------------------------------------------------------------------ the seal file

    private static Digests readSealFile(Path file) {
        try {
            if (Files.size(file) > MAX_SEAL_BYTES) throw malformed(file, "larger than " + MemoryBudget.human(MAX_SEAL_BYTES));
            JsonNode o = JSON.readTree(file.toFile());
            if (o == null || !o.isObject() || !FORMAT.equals(o.path("format").asText())) {
                throw malformed(file, "not a seal of format " + FORMAT);
            }
            Digests d = Digests.empty(text(file, o, "checkpoint"));
            for (Section s : Section.values()) {
                JsonNode section = o.get(s.key());
                if (section == null || !section.isObject()) throw malformed(file, "no '" + s.key() + "' section");
                for (Map.Entry<String, JsonNode> e : section.properties()) d.get(s).put(e.getKey(), text(file, section, e.getKey()));
            }
            if (!d.seal().equals(text(file, o, "seal"))) {
                throw new CheckpointException(file, "its seal does not match the digests it lists: the seal file was edited");
            }
            return d;
        } catch (JacksonException e) {
            throw malformed(file, "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read the seal: " + e.getMessage(), e);
        }
    }

    private static String text(Path file, JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual()) throw malformed(file, "'" + key + "' is not a string");
        return v.textValue();
    }

    private static CheckpointException malformed(Path file, String problem) {
        return new CheckpointException(file, "is not a valid seal: " + problem);
    }

    // ------------------------------------------------------------------ digests

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** A length-prefixed UTF-8 string, so that no two different sequences of fields hash the same bytes. */
    private static void field(MessageDigest md, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(new byte[]{(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
        md.update(b);
    }

    private static String digest(String kind, String name, String value) {
        MessageDigest md = sha256();
        field(md, kind);
        field(md, name);
        field(md, value);
        return hex(md);
    }

    private static String hex(MessageDigest md) {
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }
}
