package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paths the golden case does not take (ReLU feed-forward with {@code wi}/{@code wo}, heads·d_kv ≠ d_model,
 * odd sizes, padded keys) against a plain double-precision transcription of transformers' T5 encoder.
 */
class T5ReferenceTest {
    static final int VOCAB = 23, D = 12, KV = 5, HEADS = 3, FF = 7, LAYERS = 2, BUCKETS = 8, MAX_DIST = 10;

    @Test
    void reluEncoderWithOddSizesMatchesAPlainTranscription(@TempDir Path dir) throws Exception {
        Random rnd = new Random(11);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("encoder.embed_tokens.weight", random(rnd, VOCAB, D));
        for (int i = 0; i < LAYERS; i++) {
            String b = "encoder.block." + i + ".layer.";
            for (String p : new String[]{"q", "k", "v"}) w.put(b + "0.SelfAttention." + p + ".weight", random(rnd, HEADS * KV, D));
            w.put(b + "0.SelfAttention.o.weight", random(rnd, D, HEADS * KV));
            if (i == 0) w.put(b + "0.SelfAttention.relative_attention_bias.weight", random(rnd, BUCKETS, HEADS));
            w.put(b + "0.layer_norm.weight", random(rnd, D));
            w.put(b + "1.DenseReluDense.wi.weight", random(rnd, FF, D));
            w.put(b + "1.DenseReluDense.wo.weight", random(rnd, D, FF));
            w.put(b + "1.layer_norm.weight", random(rnd, D));
        }
        w.put("encoder.final_layer_norm.weight", random(rnd, D));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), w);
        Files.writeString(dir.resolve("config.json"), new ObjectMapper().createObjectNode()
                .put("vocab_size", VOCAB).put("d_model", D).put("d_kv", KV).put("num_heads", HEADS).put("d_ff", FF)
                .put("num_layers", LAYERS).put("relative_attention_num_buckets", BUCKETS)
                .put("relative_attention_max_distance", MAX_DIST).put("feed_forward_proj", "relu").toString());

        int[][] ids = {{3, 9, 22, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {4, 4, 17, 8, 2, 11, 5, 6, 19, 7, 13, 21, 14, 1}};
        int[][] mask = {{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
        try (T5Encoder enc = T5Encoder.load(dir)) {
            float[] ours = enc.forward(ids, mask).toFloatArray();
            float[] ref = reference(w, ids, mask);
            double err = GoldenCase.relErr(ours, ref);
            assertTrue(err < 1e-5, "rel err " + err);
        }
    }

    /** transformers' T5 encoder (ReLU), loop by loop, in double. */
    static float[] reference(Map<String, Tensor> w, int[][] ids, int[][] mask) {
        int len = ids[0].length, inner = HEADS * KV;
        float[] out = new float[ids.length * len * D];
        for (int b = 0; b < ids.length; b++) {
            double[][] x = new double[len][];
            for (int t = 0; t < len; t++) x[t] = row(w.get("encoder.embed_tokens.weight"), ids[b][t], D);
            for (int l = 0; l < LAYERS; l++) {
                String p = "encoder.block." + l + ".layer.";
                double[][] h = rms(x, w.get(p + "0.layer_norm.weight"));
                double[][] q = lin(h, w.get(p + "0.SelfAttention.q.weight")), k = lin(h, w.get(p + "0.SelfAttention.k.weight")),
                        v = lin(h, w.get(p + "0.SelfAttention.v.weight"));
                double[][] att = new double[len][inner];
                for (int hd = 0; hd < HEADS; hd++) {
                    for (int i = 0; i < len; i++) {
                        double[] s = new double[len];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < len; j++) {
                            for (int d = 0; d < KV; d++) s[j] += q[i][hd * KV + d] * k[j][hd * KV + d];
                            int bucket = T5Encoder.relativePositionBucket(j - i, BUCKETS, MAX_DIST);
                            s[j] += w.get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight").getFloat((long) bucket * HEADS + hd);
                            if (mask[b][j] == 0) s[j] += -Float.MAX_VALUE;
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < len; j++) sum += s[j] = Math.exp(s[j] - max);
                        for (int j = 0; j < len; j++) for (int d = 0; d < KV; d++) att[i][hd * KV + d] += s[j] / sum * v[j][hd * KV + d];
                    }
                }
                add(x, lin(att, w.get(p + "0.SelfAttention.o.weight")));
                double[][] f = lin(rms(x, w.get(p + "1.layer_norm.weight")), w.get(p + "1.DenseReluDense.wi.weight"));
                for (double[] r : f) for (int i = 0; i < r.length; i++) r[i] = Math.max(0, r[i]);
                add(x, lin(f, w.get(p + "1.DenseReluDense.wo.weight")));
            }
            double[][] y = rms(x, w.get("encoder.final_layer_norm.weight"));
            for (int t = 0; t < len; t++) for (int d = 0; d < D; d++) out[(b * len + t) * D + d] = (float) y[t][d];
        }
        return out;
    }

    private static double[] row(Tensor t, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) out[i] = t.getFloat((long) r * width + i);
        return out;
    }

    private static double[][] rms(double[][] x, Tensor gamma) {
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double ss = 0;
            for (double v : x[t]) ss += v * v;
            double inv = 1 / Math.sqrt(ss / x[t].length + 1e-6);
            y[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) y[t][i] = x[t][i] * inv * gamma.getFloat(i);
        }
        return y;
    }

    private static double[][] lin(double[][] x, Tensor weight) {
        int out = weight.size(0), in = weight.size(1);
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++)
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) y[t][o] += x[t][i] * weight.getFloat((long) o * in + i);
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int t = 0; t < x.length; t++) for (int i = 0; i < x[t].length; i++) x[t][i] += y[t][i];
    }

    private static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }
}
