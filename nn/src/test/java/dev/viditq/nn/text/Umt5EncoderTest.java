package dev.viditq.nn.text;

import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.RandomCheckpoints;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * umT5 (every block with its own relative-attention bias): the golden case, and at other sizes with random weights
 * (heads·d_kv ≠ d_model, few buckets crossed by long inputs): a umT5 whose tables all equal block 0's is exactly
 * T5, and a change to a later block's table changes the output.
 */
class Umt5EncoderTest {
    private static final GoldenFolder WAN = GoldenFolder.named("golden_wan");

    @Test
    void goldenCaseMatches() throws Exception {
        Path golden = WAN.resolve("umt5_encoder");
        for (GoldenCase.Comparison c : new Umt5Golden().run(golden)) {
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
        // the T5 handler refuses the folder instead of running it with block 0's table everywhere
        assertThrows(IllegalStateException.class, () -> new T5Golden().run(golden));
    }

    private static String config(String modelType, int dModel, int dKv, int heads, int dFf, int layers, int buckets, int maxDist, int vocab) {
        return "{\"model_type\": \"" + modelType + "\", \"d_model\": " + dModel + ", \"d_kv\": " + dKv + ", \"num_heads\": " + heads
                + ", \"d_ff\": " + dFf + ", \"num_layers\": " + layers + ", \"relative_attention_num_buckets\": " + buckets
                + ", \"relative_attention_max_distance\": " + maxDist + ", \"vocab_size\": " + vocab
                + ", \"feed_forward_proj\": \"gated-gelu\", \"layer_norm_epsilon\": 1e-6}";
    }

    private static Map<String, long[]> shapes(int dModel, int inner, int heads, int dFf, int layers, int buckets, int vocab, boolean perLayer) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("shared.weight", new long[]{vocab, dModel});
        for (int i = 0; i < layers; i++) {
            String a = "encoder.block." + i + ".layer.0.", f = "encoder.block." + i + ".layer.1.";
            for (String p : new String[]{"q", "k", "v"}) s.put(a + "SelfAttention." + p + ".weight", new long[]{inner, dModel});
            s.put(a + "SelfAttention.o.weight", new long[]{dModel, inner});
            if (i == 0 || perLayer) s.put(a + "SelfAttention.relative_attention_bias.weight", new long[]{buckets, heads});
            s.put(a + "layer_norm.weight", new long[]{dModel});
            s.put(f + "DenseReluDense.wi_0.weight", new long[]{dFf, dModel});
            s.put(f + "DenseReluDense.wi_1.weight", new long[]{dFf, dModel});
            s.put(f + "DenseReluDense.wo.weight", new long[]{dModel, dFf});
            s.put(f + "layer_norm.weight", new long[]{dModel});
        }
        s.put("encoder.final_layer_norm.weight", new long[]{dModel});
        return s;
    }

    @Test
    void perLayerTablesAreEachBlocksOwn(@TempDir Path tmp) throws Exception {
        int dModel = 24, dKv = 5, heads = 3, dFf = 20, layers = 3, buckets = 8, maxDist = 7, vocab = 50, len = 19;
        Path t5 = RandomCheckpoints.write(tmp.resolve("t5"), config("t5", dModel, dKv, heads, dFf, layers, buckets, maxDist, vocab),
                shapes(dModel, dKv * heads, heads, dFf, layers, buckets, vocab, false), 11, DType.F32);
        // umT5 with the same weights and every block's table a copy of block 0's
        Path umt5 = tmp.resolve("umt5");
        Files.createDirectories(umt5);
        Files.writeString(umt5.resolve("config.json"), config("umt5", dModel, dKv, heads, dFf, layers, buckets, maxDist, vocab));
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (var in = dev.viditq.core.io.Safetensors.open(t5.resolve("model.safetensors"))) {
            for (String n : in.names()) weights.put(n, in.get(n).copy());
        }
        Tensor table = weights.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight");
        for (int i = 1; i < layers; i++) weights.put("encoder.block." + i + ".layer.0.SelfAttention.relative_attention_bias.weight", table.copy());
        dev.viditq.core.io.SafetensorsWriter.write(umt5.resolve("model.safetensors"), weights);

        int[][] ids = new int[2][len], mask = new int[2][len];
        for (int b = 0; b < 2; b++) {
            int valid = b == 0 ? len : 11;
            for (int j = 0; j < len; j++) {
                ids[b][j] = j < valid - 1 ? 2 + (7 * j + 3 * b) % (vocab - 2) : j == valid - 1 ? 1 : 0;
                mask[b][j] = j < valid ? 1 : 0;
            }
        }
        float[] a, b;
        try (T5Encoder e1 = T5Encoder.load(t5); T5Encoder e2 = T5Encoder.load(umt5)) {
            assertFalse(e1.config().biasPerLayer());
            assertTrue(e2.config().biasPerLayer());
            a = e1.forward(ids, mask).toFloatArray();
            b = e2.forward(ids, mask).toFloatArray();
        }
        assertArrayEquals(a, b, 0f, "umT5 with equal tables must be T5");

        // a different table in the last block changes the output
        Tensor changed = table.copy();
        for (long i = 0; i < changed.numel(); i++) changed.setFloat(i, changed.getFloat(i) + 0.5f * (i % 4 - 1.5f)); // not constant per head: softmax ignores that
        weights.put("encoder.block." + (layers - 1) + ".layer.0.SelfAttention.relative_attention_bias.weight", changed);
        dev.viditq.core.io.SafetensorsWriter.write(umt5.resolve("model.safetensors"), weights);
        try (T5Encoder e3 = T5Encoder.load(umt5)) {
            float[] c = e3.forward(ids, mask).toFloatArray();
            assertTrue(GoldenCase.relErr(c, a) > 1e-3, "the last block's table had no effect");
        }
    }

    @Test
    void umt5CheckpointWithoutPerLayerTablesIsRefused(@TempDir Path tmp) throws Exception {
        Path dir = RandomCheckpoints.write(tmp, config("umt5", 16, 4, 4, 8, 2, 8, 16, 20),
                shapes(16, 16, 4, 8, 2, 8, 20, false), 5, DType.F32);
        var e = assertThrows(dev.viditq.core.io.CheckpointException.class, () -> T5Encoder.load(dir));
        assertTrue(e.getMessage().contains("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight"), e.getMessage());
    }
}
