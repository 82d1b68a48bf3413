package dev.viditq.quant.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.StrictJson;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.PlanJson;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.runtime.LowRankBranch;
import dev.viditq.quant.runtime.QuantizedLayer;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.QuantizedWeight;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Quantized model folders: the input folder's layout (config.json, vae/, text_encoder/, tokenizer, scheduler/ —
 * copied, never hard-linked, so that editing the copy cannot edit the float model) with the denoiser's checkpoint
 * replaced by one safetensors file holding every float tensor the model keeps, the packed integer weights of the
 * quantized layers ({@link QuantizedTensors}), and the plan as JSON under the metadata key {@value #METADATA_KEY};
 * then sealed ({@link FolderSeal}). Written into a temporary folder beside the target ({@link SafeOutput}) and renamed
 * into place when complete, so a failure leaves nothing behind.
 * Loaded by the ordinary {@link dev.viditq.nn.models.ModelLoader} through {@link QuantizedCheckpointAdapter}.
 */
public final class QuantizedCheckpoint {
    /** The metadata key of the plan and checksums (the format's, as {@link QuantizedCheckpointReader} reads it). */
    public static final String METADATA_KEY = QuantizedCheckpointReader.METADATA_KEY;
    private static final ObjectMapper JSON = StrictJson.MAPPER;

    private QuantizedCheckpoint() {}

    /** What was written. */
    public record Written(Path folder, Path checkpoint, long checkpointBytes) {}

    /**
     * Writes the quantized version of the model folder {@code source} to {@code target} (which must not exist unless
     * {@code replace}).
     */
    public static Written write(Path source, QuantizedModel model, Path target, boolean replace) {
        ModelFolder folder = ModelFolder.resolve(source);
        Path sourceCheckpoint = Checkpoints.findIn(folder.denoiser());
        if (Files.exists(target) && !replace) {
            throw new IllegalArgumentException(target + ": already exists; remove it or pass --force to replace it");
        }
        try (SafeOutput.Pending out = SafeOutput.begin(target)) {
            Path tmp = out.path();
            copyLayout(folder.root(), tmp, skipped(folder.denoiser(), sourceCheckpoint));
            Path denoiserDir = tmp.resolve(folder.root().relativize(folder.denoiser()).toString());
            Files.createDirectories(denoiserDir);
            Path checkpoint = denoiserDir.resolve(checkpointName(folder, sourceCheckpoint));
            try (TensorFile in = Checkpoints.open(sourceCheckpoint)) {
                writeCheckpoint(in, model, checkpoint);
            }
            long bytes = Files.size(checkpoint);
            FolderSeal.write(tmp, checkpoint);
            moveIntoPlace(out, replace);
            return new Written(target, target.resolve(tmp.relativize(checkpoint).toString()), bytes);
        } catch (IOException e) {
            throw new CheckpointException(target, "cannot write the quantized model: " + e, e);
        }
    }

    /** The safetensors tensors of a quantized checkpoint, in the source's order. */
    static void writeCheckpoint(TensorFile in, QuantizedModel model, Path out) {
        Map<String, QuantizedLayer> byWeightKey = new LinkedHashMap<>();
        model.layers().forEach((name, l) -> byWeightKey.put(name + ".weight", l));
        Set<String> seen = new HashSet<>();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        ObjectNode checksums = JSON.createObjectNode();
        boolean symmetric = model.plan().weights().symmetric();
        for (String name : in.names()) {
            QuantizedLayer q = byWeightKey.get(name);
            if (q == null) {
                if (QuantizedTensors.EXTRA.matcher(name).matches()) {
                    throw new CheckpointException(in.path(), "tensor '" + name + "' has a name this format reserves; is the source already quantized?");
                }
                entries.add(SafetensorsWriter.Entry.of(name, in.get(name)));
                continue;
            }
            seen.add(name);
            if (!in.get(name).dtype().isFloating()) {
                throw CheckpointException.tensor(in.path(), name, "is " + in.get(name).dtype() + "; quantize a float model");
            }
            if (q.plan().needsFloatWeight()) entries.add(SafetensorsWriter.Entry.of(name, in.get(name)));
            Map<String, LayerTensor> tensors = layerTensors(q);
            tensors.values().forEach(t -> entries.add(new SafetensorsWriter.Entry(t.name, t.dtype, t.shape, arena -> t.make.get())));
            checksums.put(q.plan().name(), LayerChecksums.of(q.plan(), symmetric, n -> tensors.get(n).make.get()));
        }
        for (String key : byWeightKey.keySet()) {
            if (!seen.contains(key)) throw CheckpointException.tensor(in.path(), key, "is missing: the plan quantizes a layer the checkpoint does not have");
        }
        Map<String, String> metadata = new LinkedHashMap<>(in.metadata());
        ObjectNode meta = JSON.createObjectNode();
        meta.put("format", QuantizedCheckpointReader.FORMAT);
        meta.set("plan", PlanJson.toJson(model.plan()));
        meta.set("checksums", checksums);
        metadata.put(METADATA_KEY, meta.toString());
        SafetensorsWriter.writeEntries(out, entries, metadata);
    }

    /** A tensor the checkpoint stores for a quantized layer, made on demand (scales and vectors copied off-heap when written). */
    private record LayerTensor(String name, DType dtype, long[] shape, Supplier<Tensor> make) {}

    private static Map<String, LayerTensor> layerTensors(QuantizedLayer q) {
        String name = q.plan().name();
        Map<String, LayerTensor> out = new LinkedHashMap<>();
        for (QuantizedWeight w : q.weights().values()) {
            put(out, QuantizedTensors.q(name, w.bits()), w.values().dtype(), new long[]{w.n(), w.k()}, w::values);
            put(out, QuantizedTensors.scale(name, w.bits()), w.scaleType().dtype(), new long[]{w.n(), w.groups()}, w::scaleTensor);
            if (w.zeros() != null) {
                put(out, QuantizedTensors.zero(name, w.bits()), DType.I8, new long[]{w.n(), w.groups()},
                        () -> QuantizedTensors.bytes(w.zeros(), w.n(), w.groups()));
            }
        }
        LayerPlan p = q.plan();
        if (p.smooth() != null) put(out, QuantizedTensors.smooth(name), DType.F32, new long[]{p.in()}, () -> Tensor.of(p.smooth(), p.in()));
        if (p.ranges() != null) {
            float[] r = p.ranges().absmax();
            put(out, QuantizedTensors.actRange(name), DType.F32, new long[]{r.length}, () -> Tensor.of(r, r.length));
        }
        LowRankBranch b = q.branch();
        if (b != null) {
            // the factors' values are BF16 numbers already (fitted so): the conversion is exact
            put(out, QuantizedTensors.lowRankUp(name), DType.BF16, new long[]{b.n(), b.rank()},
                    () -> Tensor.of(b.l1(), b.n(), b.rank()).to(DType.BF16));
            put(out, QuantizedTensors.lowRankDown(name), DType.BF16, new long[]{b.rank(), b.k()},
                    () -> Tensor.of(b.l2(), b.rank(), b.k()).to(DType.BF16));
        }
        return out;
    }

    private static void put(Map<String, LayerTensor> out, String name, DType dtype, long[] shape, Supplier<Tensor> make) {
        out.put(name, new LayerTensor(name, dtype, shape, make));
    }

    /** True when {@code dir} (a model folder) holds a quantized checkpoint. */
    public static boolean isQuantized(Path dir) {
        ModelFolder folder = ModelFolder.resolve(dir);
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(folder.denoiser()))) {
            return f.metadata().containsKey(METADATA_KEY);
        }
    }

    /** The plan stored in a quantized folder's checkpoint. */
    public static QuantPlan readPlan(Path dir) {
        ModelFolder folder = ModelFolder.resolve(dir);
        try (TensorFile f = Checkpoints.open(Checkpoints.findIn(folder.denoiser()))) {
            return QuantizedCheckpointReader.open(f).plan();
        }
    }

    // ------------------------------------------------------------------ folder layout

    private static String checkpointName(ModelFolder folder, Path source) {
        String name = source.getFileName().toString();
        if (name.endsWith(".safetensors")) return name;
        return folder.denoiser().equals(folder.root()) ? "model.safetensors" : "diffusion_pytorch_model.safetensors";
    }

    /** The source checkpoint and, for a sharded one, its shards: not copied (the new checkpoint replaces them). */
    private static Set<Path> skipped(Path denoiserDir, Path checkpoint) throws IOException {
        Set<Path> skip = new HashSet<>();
        skip.add(checkpoint.toAbsolutePath().normalize());
        if (checkpoint.getFileName().toString().endsWith(".index.json")) {
            JsonNode index = JSON.readTree(checkpoint.toFile()).path("weight_map");
            index.forEach(shard -> skip.add(denoiserDir.resolve(shard.asText()).toAbsolutePath().normalize()));
        }
        return skip;
    }

    private static void copyLayout(Path from, Path to, Set<Path> skip) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path rel = from.relativize(p);
                if (rel.toString().startsWith(".") && !rel.toString().isEmpty()) continue; // temp folders, hidden files
                Path dest = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else if (!skip.contains(p.toAbsolutePath().normalize())) {
                    Files.createDirectories(dest.getParent());
                    Files.copy(p, dest, StandardCopyOption.COPY_ATTRIBUTES); // a copy: a hard link would share edits
                }
            }
        }
    }

    /** The old folder (when replaced) is moved aside under a temporary name first, then removed. */
    private static void moveIntoPlace(SafeOutput.Pending out, boolean replace) throws IOException {
        Path target = out.target();
        Path old = null;
        if (Files.exists(target)) {
            if (!replace) throw new FileAlreadyExistsException(target.toString());
            old = target.resolveSibling(SafeOutput.tempName(target.getFileName().toString()));
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        out.commit();
        if (old != null) SafeOutput.deleteTree(old);
    }
}
