package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

class T5EncoderTest {
    /** The golden case (skips the test when the shared cases are missing; fails under CI=true). */
    private static Path golden() {
        return GoldenFolder.GOLDEN.resolve("t5_encoder");
    }

    @Test
    void relativePositionBucketsFollowT5() {
        // 32 buckets, max distance 128: 16 per direction, exact below 8, then 8 + floor(log(d/8)/log(16)·8), at most 15
        assertEquals(0, T5Encoder.relativePositionBucket(0, 32, 128));
        assertEquals(1, T5Encoder.relativePositionBucket(-1, 32, 128));
        assertEquals(17, T5Encoder.relativePositionBucket(1, 32, 128));
        assertEquals(7, T5Encoder.relativePositionBucket(-7, 32, 128));
        assertEquals(8, T5Encoder.relativePositionBucket(-8, 32, 128));
        assertEquals(16 + 10, T5Encoder.relativePositionBucket(16, 32, 128)); // log(2)/log(16)·8 = 2 exactly
        assertEquals(12, T5Encoder.relativePositionBucket(-32, 32, 128));     // log(4)/log(16)·8 = 4
        assertEquals(14, T5Encoder.relativePositionBucket(-64, 32, 128));
        assertEquals(13, T5Encoder.relativePositionBucket(-63, 32, 128));
        assertEquals(15, T5Encoder.relativePositionBucket(-500, 32, 128));
        assertEquals(31, T5Encoder.relativePositionBucket(500, 32, 128));
    }

    @Test
    void goldenCaseMatches() throws Exception {
        for (GoldenCase.Comparison c : new T5Golden().run(golden())) {
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
    }

    /** The encoder runs once per generation: none of its weights may be kept packed beside the denoiser. */
    @Test
    void projectionsMultiplyOnce() {
        try (T5Encoder enc = T5Encoder.load(golden())) {
            for (Linear l : enc.linears()) assertSame(Linear.FLOAT_ONCE, l.executor(), l.name());
        }
    }

    @Test
    void untiedEmbeddingKeyIsUsed(@TempDir Path tmp) throws Exception {
        // the same table saved under encoder.embed_tokens.weight only
        Path dir = rewriteGolden(tmp, name -> name.equals("shared.weight") ? "encoder.embed_tokens.weight" : name, null);
        assertTrue(new T5Golden().run(dir).getFirst().relErr() < 1e-4);
    }

    @Test
    void bf16WeightsRunInPlaceAndMatchTheirF32Values(@TempDir Path tmp) throws Exception {
        Path bf16 = rewriteGolden(tmp.resolve("bf16"), UnaryOperator.identity(), DType.BF16);
        // the reference: the same BF16-rounded values stored as F32
        Path f32 = tmp.resolve("f32");
        Files.createDirectories(f32);
        Files.copy(bf16.resolve("config.json"), f32.resolve("config.json"));
        try (Safetensors in = Safetensors.open(bf16.resolve("model.safetensors"))) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : in.names()) out.put(n, in.get(n).toF32().copy());
            SafetensorsWriter.write(f32.resolve("model.safetensors"), out);
        }
        try (T5Encoder a = T5Encoder.load(bf16); T5Encoder b = T5Encoder.load(f32);
             Safetensors io = Safetensors.open(golden().resolve("io.safetensors"))) {
            assertEquals(DType.BF16, a.linears().getFirst().weight().dtype(), "weights must stay BF16");
            float[] ya = a.forward(io.get("input_ids"), io.get("attention_mask")).toFloatArray();
            float[] yb = b.forward(io.get("input_ids"), io.get("attention_mask")).toFloatArray();
            assertTrue(GoldenCase.relErr(ya, yb) < 1e-5, "BF16 in place vs F32 copy: " + GoldenCase.relErr(ya, yb));
            // and BF16 rounding of the weights moves the output only a little from the F32 golden
            double vsGolden = GoldenCase.relErr(ya, io.get("out").toFloatArray());
            assertTrue(vsGolden > 0 && vsGolden < 0.05, "BF16 vs golden: " + vsGolden);
        }
    }

    @Test
    void missingAndMisShapedKeysAreReportedTogether(@TempDir Path tmp) throws Exception {
        Path dir = rewriteGolden(tmp, name -> name.contains("block.1.layer.1.DenseReluDense.wo") ? null : name, null);
        CheckpointException e = assertThrows(CheckpointException.class, () -> T5Encoder.load(dir));
        assertTrue(e.getMessage().contains("encoder.block.1.layer.1.DenseReluDense.wo.weight"), e.getMessage());
    }

    @Test
    void paddingDoesNotChangeTheRealTokens() throws Exception {
        try (T5Encoder enc = T5Encoder.load(golden())) {
            int[] ids = {5, 17, 42, 1};
            Tensor shortOut = enc.forward(new int[][]{ids}, new int[][]{{1, 1, 1, 1}});
            Tensor padded = enc.forward(new int[][]{{5, 17, 42, 1, 0, 0, 0}}, new int[][]{{1, 1, 1, 1, 0, 0, 0}});
            int d = enc.config().dModel();
            float[] a = shortOut.toFloatArray(), b = padded.toFloatArray();
            for (int i = 0; i < 4 * d; i++) assertEquals(a[i], b[i], 1e-5f * Math.max(1, Math.abs(a[i])), "element " + i);
            assertThrows(IllegalArgumentException.class, () -> enc.forward(new int[][]{{enc.config().vocabSize()}}, new int[][]{{1}}));
        }
    }

    /**
     * The golden case copied to {@code dir} with tensors renamed ({@code rename} returns null to drop one) and
     * optionally converted to {@code dtype}.
     */
    private static Path rewriteGolden(Path dir, UnaryOperator<String> rename, DType dtype) throws Exception {
        Files.createDirectories(dir);
        for (String f : new String[]{"config.json", "io.safetensors"}) {
            Files.copy(golden().resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        try (Safetensors in = Safetensors.open(golden().resolve("model.safetensors"))) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : in.names()) {
                String to = rename.apply(n);
                if (to != null) out.put(to, dtype == null ? in.get(n).copy() : in.get(n).to(dtype));
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), out);
        }
        return dir;
    }
}
