package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MANUAL check, not part of the suite (it writes a 9.5 GB file): a T5-XXL-shaped encoder (d_model 4096, d_ff 10240,
 * 24 layers, 64 heads, vocab 32128) with random BF16 weights runs from the memory mapping without converting the
 * weights to F32. Anonymous memory (RssAnon) must stay far below the 9.5 GB of weights; file-backed pages (RssFile)
 * are the mapping itself.
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp nn/target/test-classes:nn/target/classes:core/target/classes:JACKSON \
 *        dev.viditq.nn.text.T5XxlMemoryCheck /tmp/t5xxl [tokens] [java|auto]
 * </pre>
 * ({@code auto}: the kernels the process would choose, BF16 where the CPU has a BF16 unit; default {@code java}, FP32)
 * or {@code dev/build -pl nn test -Dtest=T5XxlMemoryCheck -Dviditq.manual.t5xxl=/tmp/t5xxl}.
 * <p>Measured once (2 cores, machine shared and loaded, Vector API kernels still in progress, 16 tokens):
 * peak RSS (VmHWM) 10.12 GB = RssFile 9.30 GB (the mapped BF16 weights) + RssAnon 0.82 GB (JVM, activations).
 * An F32 copy of the weights would have added about 19 GB of anonymous memory. With the projections multiplied
 * once ({@code Linear.FLOAT_ONCE}) the mapped pages are given back after each layer, and BF16 kernels ({@code auto})
 * pack each weight for its call only: docs/BENCHMARKS.md, "A text encoder's weights after it has run".
 */
class T5XxlMemoryCheck {
    static final int D = 4096, FF = 10240, LAYERS = 24, HEADS = 64, KV = 64, VOCAB = 32128, BUCKETS = 32;

    @Test
    @EnabledIfSystemProperty(named = "viditq.manual.t5xxl", matches = ".+")
    void bf16XxlRunsFromTheMapping() throws Exception {
        Map<String, Long> r = run(Path.of(System.getProperty("viditq.manual.t5xxl")), 120, false);
        assertTrue(r.get("RssAnon") < 3L << 30, "anonymous memory " + r.get("RssAnon") + " bytes: weights were copied?");
    }

    public static void main(String[] args) throws Exception {
        run(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 120, args.length > 2 && args[2].equals("auto"));
    }

    /** Encodes once and reports this process's memory while the encoder is still open, as a pipeline holds it. */
    static Map<String, Long> run(Path dir, int tokens, boolean defaultKernels) throws Exception {
        if (!defaultKernels && JavaKernels.unsupportedReason() == null) KernelBackend.set(new JavaKernels());
        Files.createDirectories(dir);
        if (!Files.exists(dir.resolve("model.safetensors"))) {
            long t0 = System.nanoTime();
            writeCheckpoint(dir);
            System.out.printf("wrote %.1f GB in %.1f s%n", Files.size(dir.resolve("model.safetensors")) / 1e9, (System.nanoTime() - t0) / 1e9);
        }
        try (T5Encoder enc = T5Encoder.load(dir)) {
            Random rnd = new Random(1);
            int[][] ids = new int[1][tokens];
            int[][] mask = new int[1][tokens];
            for (int t = 0; t < tokens; t++) {
                ids[0][t] = t < tokens / 2 ? rnd.nextInt(32000) : 0;
                mask[0][t] = t < tokens / 2 ? 1 : 0;
            }
            long t0 = System.nanoTime();
            Tensor out = enc.forward(ids, mask);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long t1 = System.nanoTime();
            enc.forward(ids, mask);   // a second generation's encode: what keeping (or not) packed weights costs
            System.out.printf("second forward: %.1f s%n", (System.nanoTime() - t1) / 1e9);
            float[] v = out.toFloatArray();
            double sum = 0;
            for (float f : v) {
                if (!Float.isFinite(f)) throw new AssertionError("non-finite output");
                sum += f * f;
            }
            Map<String, Long> status = procStatus();
            System.out.printf("kernels %s; forward of %d tokens: %.1f s; output rms %.3f%n", KernelBackend.get().name(),
                    tokens, seconds, Math.sqrt(sum / v.length));
            status.forEach((k, b) -> System.out.printf("%s %.2f GB%n", k, b / 1e9));
            return status;
        }
    }

    /** VmHWM, VmRSS, RssAnon, RssFile of this process, in bytes. */
    static Map<String, Long> procStatus() throws IOException {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            String[] p = line.split("\\s+");
            if (p[0].matches("(VmHWM|VmRSS|RssAnon|RssFile):")) m.put(p[0].replace(":", ""), Long.parseLong(p[1]) * 1024);
        }
        return m;
    }

    /** Streams a random BF16 checkpoint in the save_pretrained layout (never the whole model in memory). */
    static void writeCheckpoint(Path dir) throws IOException {
        ObjectNode config = new ObjectMapper().createObjectNode()
                .put("d_model", D).put("d_ff", FF).put("d_kv", KV).put("num_layers", LAYERS).put("num_heads", HEADS)
                .put("vocab_size", VOCAB).put("relative_attention_num_buckets", BUCKETS)
                .put("relative_attention_max_distance", 128).put("feed_forward_proj", "gated-gelu").put("layer_norm_epsilon", 1e-6);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("shared.weight", new long[]{VOCAB, D});
        for (int i = 0; i < LAYERS; i++) {
            String b = "encoder.block." + i + ".layer.";
            for (String p : new String[]{"q", "k", "v", "o"}) shapes.put(b + "0.SelfAttention." + p + ".weight", new long[]{D, D});
            if (i == 0) shapes.put(b + "0.SelfAttention.relative_attention_bias.weight", new long[]{BUCKETS, HEADS});
            shapes.put(b + "0.layer_norm.weight", new long[]{D});
            shapes.put(b + "1.DenseReluDense.wi_0.weight", new long[]{FF, D});
            shapes.put(b + "1.DenseReluDense.wi_1.weight", new long[]{FF, D});
            shapes.put(b + "1.DenseReluDense.wo.weight", new long[]{D, FF});
            shapes.put(b + "1.layer_norm.weight", new long[]{D});
        }
        shapes.put("encoder.final_layer_norm.weight", new long[]{D});
        ObjectNode header = new ObjectMapper().createObjectNode();
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = 2 * Tensor.numel(e.getValue());
            ObjectNode n = header.putObject(e.getKey()).put("dtype", "BF16");
            for (long d : e.getValue()) n.withArray("shape").add(d);
            n.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = (header.toString() + " ".repeat((8 - header.toString().length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).put(json).flip();
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            long state = 0x9E3779B97F4A7C15L;
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                boolean norm = e.getKey().endsWith("layer_norm.weight");
                float amplitude = e.getKey().equals("shared.weight") ? 1f : (float) Math.sqrt(3.0 / e.getValue()[e.getValue().length - 1]);
                for (long left = Tensor.numel(e.getValue()); left > 0; ) {
                    chunk.clear();
                    int n = (int) Math.min(left, chunk.capacity() / 2);
                    for (int i = 0; i < n; i++) {
                        state ^= state << 13; state ^= state >>> 7; state ^= state << 17; // xorshift64
                        float u = norm ? 1f : amplitude * ((state >>> 40) / (float) (1 << 24) * 2 - 1);
                        chunk.putShort(Tensor.floatToBf16(u));
                    }
                    chunk.flip();
                    while (chunk.hasRemaining()) ch.write(chunk);
                    left -= n;
                }
            }
        }
    }
}
