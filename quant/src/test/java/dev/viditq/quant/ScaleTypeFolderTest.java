package dev.viditq.quant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.checkpoint.FolderSeal;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.checkpoint.QuantizedCheckpointReader;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethods;
import dev.viditq.quant.mp.SearchStorage;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quantized folders whose weight scales are BF16 or F32 (the golden DiT, every quantized layer 64 or 256 inputs wide,
 * int4 in groups of 64 with a rotation, no calibration needed): what the folder stores and what is counted follow the
 * scale tensors' dtype, a scale tensor of another dtype is refused naming it, and a folder written before plans
 * recorded the scale type (F32 scales, no {@code scale_dtype}) still loads.
 */
class ScaleTypeFolderTest {
    private static final String G64 = "preset: quarot-w8a8\nweight: {bits: 4, granularity: group, group_size: 64, scale_dtype: %s}";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path bf16, f32;
    static QuantizedModel bf16Model, f32Model;

    @BeforeAll
    static void quantize() {
        bf16 = tmp.resolve("dit-g64-bf16");
        f32 = tmp.resolve("dit-g64-f32");
        bf16Model = write("bf16", bf16);
        f32Model = write("f32", f32);
    }

    private static QuantizedModel write(String scaleType, Path out) {
        QuantConfig cfg = QuantConfigReader.parse(G64.formatted(scaleType), "g64-" + scaleType + ".yaml", null);
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            QuantizedModel q = Quantizer.quantize(dit, QuantMethods.of(cfg.method()).plan(dit, null, cfg));
            QuantizedCheckpoint.write(GoldenModels.dit(), q, out, false);
            return q;
        }
    }

    /** 4 bits per value, 16 (BF16) or 32 (F32) per scale and 8 per zero point, per group of 64: 4.375 and 4.625. */
    @Test
    void storedBitsPerWeightFollowTheScaleDtype() {
        assertEquals(4.375, bitsPerWeight(bf16Model, bf16), 1e-12);
        assertEquals(4.625, bitsPerWeight(f32Model, f32), 1e-12);
    }

    /** Bits per weight of the quantized layers, the same whether counted in memory, by the search or off the folder. */
    private static double bitsPerWeight(QuantizedModel q, Path folder) {
        long params = 0, searchBytes = 0;
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (LayerPlan lp : q.plan().layers().values()) {
            params += (long) lp.in() * lp.out();
            shapes.put(lp.name(), new int[]{lp.out(), lp.in()});
        }
        SearchStorage storage = new SearchStorage(shapes, q.plan().weights());
        for (String layer : shapes.keySet()) searchBytes += storage.bytes(layer, 4);
        long folderBytes = 0;
        try (TensorFile f = Safetensors.open(folder.resolve("model.safetensors"))) {
            for (String name : f.names()) {
                if (!name.matches(".*\\.w4\\.(q|scale|zero)")) continue;
                folderBytes += f.get(name).byteSize();
                if (name.endsWith(".scale")) assertEquals(q.plan().weights().scaleType().dtype(), f.get(name).dtype(), name);
            }
        }
        assertEquals(folderBytes, q.storedWeightBytes(), "counted in memory against the folder's tensors");
        assertEquals(folderBytes, searchBytes, "counted by the search against the folder's tensors");
        return folderBytes * 8.0 / params;
    }

    /** The loaded weights are the quantizer's, bit for bit: the BF16 scales widen to the values it computed with. */
    @Test
    void theLoadedWeightsAreTheQuantizers() {
        Map<String, float[]> loaded = dequantized(bf16);
        assertEquals(bf16Model.layers().keySet(), loaded.keySet());
        bf16Model.layers().forEach((name, l) -> assertArrayEquals(l.weights().get(4).dequantize(), loaded.get(name), name));
    }

    /** A folder as quantize wrote it before plans recorded {@code scale_dtype}: F32 scales, the key absent, sealed so. */
    @Test
    void aFolderWrittenBeforeTheScaleTypeWasRecordedStillLoads() throws IOException {
        Path old = rewrite(f32, "old-format", plan -> {
            ((ObjectNode) plan.get("weights")).remove("scale_dtype");
            return plan;
        }, null, null);
        FolderSeal.write(old, old.resolve("model.safetensors"));
        try (TensorFile f = Safetensors.open(old.resolve("model.safetensors"))) {
            assertFalse(f.metadata().get("viditq.quantization").contains("scale_dtype"));
        }
        Map<String, float[]> before = dequantized(old), now = dequantized(f32);
        now.forEach((name, w) -> assertArrayEquals(w, before.get(name), name));
        try (Denoiser a = GoldenModels.load(old); Denoiser b = GoldenModels.load(f32)) {
            double err = GoldenModels.relErr(GoldenModels.forward(a, GoldenModels.dit()), GoldenModels.forward(b, GoldenModels.dit()));
            assertTrue(err < 1e-5, "old-format folder against the same folder written now: " + err);
        }
    }

    /** Every quantized layer's 4-bit weight as the folder's loader reads it, dequantized. */
    private static Map<String, float[]> dequantized(Path folder) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (TensorFile f = Safetensors.open(folder.resolve("model.safetensors"))) {
            QuantizedCheckpointReader.open(f).read().layers().forEach((name, l) -> out.put(name, l.weights().get(4).dequantize()));
        }
        return out;
    }

    @Test
    void aScaleTensorOfAnotherDtypeOrAnUnknownScaleTypeIsRefused() throws IOException {
        String scale = "blocks.1.mlp.fc2.w4.scale";
        Path widened = rewrite(bf16, "widened", null, scale, t -> t.to(DType.F32));
        Path narrowed = rewrite(f32, "narrowed", null, scale, t -> t.to(DType.BF16));
        Path reshaped = rewrite(bf16, "reshaped", null, scale, t -> Tensor.of(new float[(int) t.dim(0) * 2], t.dim(0), 2).to(DType.BF16));
        Path unknown = rewrite(bf16, "f16", plan -> {
            ((ObjectNode) plan.get("weights")).put("scale_dtype", "F16");
            return plan;
        }, null, null);
        String m = assertThrows(CheckpointException.class, () -> GoldenModels.load(widened).close()).getMessage();
        assertTrue(m.contains("does not match its seal") && m.contains("tensor '" + scale + "' differs"), m);
        System.setProperty(FolderSeal.TRUST_PROPERTY, "true");   // behind the seal, each tensor is still checked
        try {
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(widened).close()).getMessage();
            assertTrue(m.contains(scale) && m.contains("is F32 [64, 4]") && m.contains("need BF16 [64, 4] scales"), m);
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(narrowed).close()).getMessage();
            assertTrue(m.contains(scale) && m.contains("is BF16 [64, 4]") && m.contains("need F32 [64, 4] scales"), m);
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(reshaped).close()).getMessage();
            assertTrue(m.contains(scale) && m.contains("is BF16 [64, 2]") && m.contains("need BF16 [64, 4] scales"), m);
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(unknown).close()).getMessage();
            assertTrue(m.contains("weight scale_dtype 'F16' is neither F32 nor BF16"), m);
        } finally {
            System.clearProperty(FolderSeal.TRUST_PROPERTY);
        }
    }

    /**
     * A copy of a quantized folder with its plan JSON edited ({@code plan}) and/or one tensor replaced; the seal file
     * is the original's (so it no longer matches unless rewritten).
     */
    private static Path rewrite(Path folder, String suffix, UnaryOperator<ObjectNode> plan, String tensor, UnaryOperator<Tensor> change)
            throws IOException {
        Path copy = tmp.resolve(folder.getFileName() + "-" + suffix);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(folder)) {
            for (Path p : files.toList()) if (!p.getFileName().toString().equals("model.safetensors")) Files.copy(p, copy.resolve(p.getFileName()));
        }
        try (TensorFile f = Safetensors.open(folder.resolve("model.safetensors"))) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : f.names()) entries.add(SafetensorsWriter.Entry.of(n, n.equals(tensor) ? change.apply(f.get(n)) : f.get(n).copy()));
            Map<String, String> metadata = new LinkedHashMap<>(f.metadata());
            if (plan != null) {
                ObjectNode meta = (ObjectNode) JSON.readTree(metadata.get("viditq.quantization"));
                meta.set("plan", plan.apply((ObjectNode) meta.get("plan")));
                metadata.put("viditq.quantization", meta.toString());
            }
            SafetensorsWriter.writeEntries(copy.resolve("model.safetensors"), entries, metadata);
        }
        assertFalse(Files.isSameFile(folder, copy));
        return copy;
    }
}
