package dev.viditq.quant;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.FolderSeal;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.Presets;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigException;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way to feed quantization the wrong thing ends in one clear error, with nothing written. */
class BadInputTest {
    @TempDir
    static Path tmp;
    static Calibration ditCalibration;

    @BeforeAll
    static void calibrate() {
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            ditCalibration = GoldenModels.calibrate(dit, GoldenModels.dit(), 1, tmp.resolve("dit.calib.safetensors"));
        }
    }

    /** Plans with {@code yaml} on the golden DiT; returns the refusal. */
    private static String planRefusal(String yaml, Calibration cal) {
        QuantConfig cfg = QuantConfigReader.parse(yaml, "bad.yaml", null);
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            return assertThrows(IllegalArgumentException.class, () -> QuantMethods.of(cfg.method()).plan(dit, cal, cfg)).getMessage();
        }
    }

    @Test
    void layersThatDoNotExist() {
        String m = planRefusal("preset: viditq-w8a8\nkeep_float: ['blocks\\.7\\..*']\n", ditCalibration);
        assertTrue(m.contains("keep_float[0] 'blocks\\.7\\..*' matches no Linear of the model") && m.contains("blocks.0.attn.qkv"), m);
        m = planRefusal("preset: viditq-w8a8\nbit_map: [{layers: 'blocks\\.0\\.cross_attn\\..*', weight_bits: 4}]\n", ditCalibration);
        assertTrue(m.contains("bit_map[0].layers") && m.contains("matches no Linear"), m);
        m = planRefusal("preset: viditq-w8a8\nbit_map: [{layers: 'final_layer\\..*', weight_bits: 4}]\n", ditCalibration);
        assertTrue(m.contains("matches only layers kept in float"), m);
        m = planRefusal("preset: viditq-w8a8\nbalancing: {alpha: 0.5, layers: [nothing]}\n", ditCalibration);
        assertTrue(m.contains("balancing.layers[0] 'nothing'"), m);
    }

    @Test
    void missingCalibration() {
        String m = planRefusal("preset: naive-w8a8\n", null);
        assertTrue(m.contains("needs calibration statistics"), m);
    }

    @Test
    void calibrationOfAnotherModel() {
        QuantConfig cfg = QuantConfigReader.preset("viditq-w8a8");
        Path out = tmp.resolve("never-written");
        try (Denoiser pixart = GoldenModels.load(GoldenModels.pixart())) {
            String m = assertThrows(IllegalArgumentException.class, () -> {
                QuantizedModel q = Quantizer.quantize(pixart, QuantMethods.of(cfg.method()).plan(pixart, ditCalibration, cfg));
                QuantizedCheckpoint.write(GoldenModels.pixart(), q, out, false);
            }).getMessage();
            assertTrue(m.startsWith(tmp.resolve("dit.calib.safetensors").toString()) && m.contains("calibration of another model")
                    && m.contains("'t_embedder.mlp.0' is [96, 256] in the model but [64, 256] in the calibration"), m);
        }
        assertFalse(Files.exists(out));
    }

    @Test
    void calibrationOfTheSameLayersWithOtherWeights() throws IOException {
        Path copy = tmp.resolve("dit-retrained");
        Files.createDirectories(copy);
        Files.copy(GoldenModels.dit().resolve("config.json"), copy.resolve("config.json"));
        try (TensorFile f = Safetensors.open(GoldenModels.dit().resolve("model.safetensors"))) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : f.names()) tensors.put(n, f.get(n).copy());
            Tensor w = tensors.get("blocks.1.mlp.fc2.weight");
            w.setFloat(0, w.getFloat(0) + 1);
            SafetensorsWriter.write(copy.resolve("model.safetensors"), tensors);
        }
        QuantConfig cfg = QuantConfigReader.preset("viditq-w8a8");
        try (Denoiser other = GoldenModels.load(copy)) {
            String m = assertThrows(IllegalArgumentException.class, () -> QuantMethods.of(cfg.method()).plan(other, ditCalibration, cfg)).getMessage();
            assertTrue(m.contains("same names and shapes but other weights"), m);
        }
    }

    @Test
    void scalesThatDoNotMatchTheirWeights() throws IOException {
        Path good = tmp.resolve("dit-w8a8");
        QuantConfig cfg = QuantConfigReader.preset("viditq-w8a8");
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            QuantizedCheckpoint.write(GoldenModels.dit(), Quantizer.quantize(dit, QuantMethods.of(cfg.method()).plan(dit, ditCalibration, cfg)), good, false);
        }
        Path bad = corrupt(good, "blocks.1.attn.proj.w8.scale", t -> Tensor.of(new float[(int) t.dim(0) * 2], t.dim(0), 2));
        String m = assertThrows(CheckpointException.class, () -> GoldenModels.load(bad).close()).getMessage();
        assertTrue(m.contains("does not match its seal") && m.contains("tensor 'blocks.1.attn.proj.w8.scale' differs"), m);
        // the seal refuses every change first; behind it (--trust-unsealed) each tensor is still checked on its own
        System.setProperty(FolderSeal.TRUST_PROPERTY, "true");
        try {
            tensorChecksBehindTheSeal(good, bad);
        } finally {
            System.clearProperty(FolderSeal.TRUST_PROPERTY);
        }
    }

    private static void tensorChecksBehindTheSeal(Path good, Path bad) throws IOException {
        String m = assertThrows(CheckpointException.class, () -> GoldenModels.load(bad).close()).getMessage();
        assertTrue(m.contains("blocks.1.attn.proj.w8.scale") && m.contains("[64, 2]") && m.contains("need F32 [64, 1] scales"), m);

        Path negative = corrupt(good, "blocks.0.mlp.fc1.w8.scale", t -> {
            Tensor c = t.copy();
            c.setFloat(3, -1f);
            return c;
        });
        m = assertThrows(CheckpointException.class, () -> GoldenModels.load(negative).close()).getMessage();
        assertTrue(m.contains("blocks.0.mlp.fc1.w8.q") && m.contains("scale -1.0"), m);

        // well-formed but other values (a doubled scale, a flipped weight): only the checksum written with them sees it
        Path doubled = corrupt(good, "blocks.1.mlp.fc2.w8.scale", t -> {
            Tensor c = t.copy();
            c.setFloat(5, 2 * c.getFloat(5));
            return c;
        });
        m = assertThrows(CheckpointException.class, () -> GoldenModels.load(doubled).close()).getMessage();
        assertTrue(m.contains("quantized layer blocks.1.mlp.fc2") && m.contains("blocks.1.mlp.fc2.w8.scale")
                && m.contains("do not match the checksum"), m);
        Path flipped = corrupt(good, "blocks.0.attn.qkv.w8.q", t -> {
            Tensor c = t.copy();
            c.data().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 7, (byte) ~c.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 7));
            return c;
        });
        for (String mode : new String[]{"integer", "simulate"}) {
            System.setProperty("viditq.quant.mode", mode);
            try {
                m = assertThrows(CheckpointException.class, () -> GoldenModels.load(flipped).close()).getMessage();
            } finally {
                System.clearProperty("viditq.quant.mode");
            }
            assertTrue(m.contains("quantized layer blocks.0.attn.qkv") && m.contains("do not match the checksum"), mode + ": " + m);
        }

        Path missing = corrupt(good, "blocks.0.attn.qkv.smooth", null);
        m = assertThrows(CheckpointException.class, () -> GoldenModels.load(missing).close()).getMessage();
        assertTrue(m.contains("blocks.0.attn.qkv.smooth") && m.contains("missing"), m);
    }

    /** The low-rank factors are sealed, shape-checked against the plan and covered by the layer's checksum. */
    @Test
    void lowRankFactorsThatWereChanged() throws IOException {
        Path good = tmp.resolve("dit-lr");
        QuantConfig cfg = QuantConfigReader.parse("preset: viditq-w4a8\nlow_rank: {rank: 4}", "lr.yaml", null);
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            QuantizedCheckpoint.write(GoldenModels.dit(), Quantizer.quantize(dit, QuantMethods.of(cfg.method()).plan(dit, ditCalibration, cfg)), good, false);
        }
        Path nudged = corrupt(good, "blocks.0.mlp.fc2.low_rank.l1", t -> {
            Tensor c = t.copy();
            c.setFloat(2, c.getFloat(2) + 0.5f);
            return c;
        });
        String m = assertThrows(CheckpointException.class, () -> GoldenModels.load(nudged).close()).getMessage();
        assertTrue(m.contains("does not match its seal") && m.contains("tensor 'blocks.0.mlp.fc2.low_rank.l1' differs"), m);
        Path reshaped = corrupt(good, "blocks.1.attn.proj.low_rank.l2", t -> t.to(DType.F32));
        System.setProperty(FolderSeal.TRUST_PROPERTY, "true");
        try {
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(nudged).close()).getMessage();
            assertTrue(m.contains("quantized layer blocks.0.mlp.fc2") && m.contains("blocks.0.mlp.fc2.low_rank.l1")
                    && m.contains("do not match the checksum"), m);
            m = assertThrows(CheckpointException.class, () -> GoldenModels.load(reshaped).close()).getMessage();
            assertTrue(m.contains("blocks.1.attn.proj.low_rank.l2") && m.contains("needs BF16 [4, "), m);
        } finally {
            System.clearProperty(FolderSeal.TRUST_PROPERTY);
        }
    }

    /** A copy of the quantized folder with one tensor replaced ({@code change} null: removed). */
    private static Path corrupt(Path folder, String tensor, java.util.function.UnaryOperator<Tensor> change) throws IOException {
        Path copy = tmp.resolve(folder.getFileName() + "-" + tensor + (change == null ? "-removed" : "-changed"));
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(folder)) {
            for (Path p : files.toList()) if (!p.getFileName().toString().equals("model.safetensors")) Files.copy(p, copy.resolve(p.getFileName()));
        }
        try (TensorFile f = Safetensors.open(folder.resolve("model.safetensors"))) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : f.names()) {
                if (!n.equals(tensor)) entries.add(SafetensorsWriter.Entry.of(n, f.get(n).copy()));
                else if (change != null) entries.add(SafetensorsWriter.Entry.of(n, change.apply(f.get(n))));
            }
            SafetensorsWriter.writeEntries(copy.resolve("model.safetensors"), entries, f.metadata());
        }
        return copy;
    }

    @Test
    void quantizingAQuantizedModel() {
        Path q = tmp.resolve("dit-quarot");
        QuantConfig cfg = QuantConfigReader.preset("quarot-w8a8");
        try (Denoiser dit = GoldenModels.load(GoldenModels.dit())) {
            QuantizedCheckpoint.write(GoldenModels.dit(), Quantizer.quantize(dit, QuantMethods.of(cfg.method()).plan(dit, null, cfg)), q, false);
        }
        try (Denoiser loaded = GoldenModels.load(q)) {
            String m = assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(loaded, QuantMethods.of(cfg.method()).plan(loaded, null, cfg))).getMessage();
            assertTrue(m.contains("quantize a float model"), m);
        }
        String m = assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpoint.write(GoldenModels.dit(), null, q, false)).getMessage();
        assertTrue(m.contains("already exists"), m);
    }

    @Test
    void configErrorsNameTheFile() throws IOException {
        Path f = tmp.resolve("typo.yaml");
        Files.writeString(f, "method: viditq\nactivation: {bitz: 8}\n");
        String m = assertThrows(QuantConfigException.class, () -> QuantConfigReader.read(f)).getMessage();
        assertTrue(m.startsWith(f.toString()) && m.contains("'activation.bitz'"), m);
    }
}
