package dev.viditq.nn.parity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Wan parity suite on a second case set with the same names and other sizes, run through {@link Parity} exactly
 * as {@code ./viditq parity} runs it. Without PyTorch here, the second set is derived from the first by changes whose
 * official outputs are known exactly: one sample of each batch (batch 2 → 1), a third transformer block and a
 * third umT5 block whose output projections are zero (each adds exactly nothing to the residual stream, so the
 * outputs are unchanged while num_layers is 3), umT5 rows past the vocabulary that no token indexes (vocab_size +
 * 17), and one UniPC run instead of two. The handlers must read every one of these sizes from the files.
 */
class WanOtherSizesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void parityPassesUnchangedOnCasesOfOtherSizes(@TempDir Path tmp) throws Exception {
        Path golden = GoldenFolder.named("golden_wan").root();
        Path other = tmp.resolve("golden_wan_other");
        transformer(golden.resolve("wan_transformer"), other.resolve("wan_transformer"));
        transformer(golden.resolve("wan_transformer_i2v"), other.resolve("wan_transformer_i2v"));
        umt5(golden.resolve("umt5_encoder"), other.resolve("umt5_encoder"));
        copy(golden.resolve("wan_vae"), other.resolve("wan_vae"), UnaryOperator.identity());
        oneSchedulerRun(golden.resolve("schedulers/unipc_flow"), other.resolve("schedulers/unipc_flow"), "unipc_720p");

        List<Parity.Result> results = Parity.runAll(other);
        assertEquals(5, Parity.caseDirs(other).size());
        for (Parity.Result r : results) assertTrue(r.pass(), r.toString());
        assertTrue(results.stream().anyMatch(r -> r.caseName().equals("wan_transformer_i2v")));
        assertEquals(3, results.stream().filter(r -> r.caseName().equals("schedulers/unipc_flow")).count(),
                "timesteps, sigmas and trajectory of the one run");
    }

    /** Batch 1 and a third block that adds zero (its attention and feed-forward output projections are zero). */
    private static void transformer(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        ObjectNode config = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        int layers = config.get("num_layers").asInt();
        config.put("num_layers", layers + 1);
        Files.writeString(to.resolve("config.json"), config.toPrettyString());
        Map<String, Tensor> weights = read(from.resolve("model.safetensors"));
        Map<String, Tensor> added = new LinkedHashMap<>();
        weights.forEach((name, t) -> {
            if (!name.startsWith("blocks.0.")) return;
            String rest = name.substring("blocks.0.".length());
            boolean output = rest.startsWith("attn1.to_out.0.") || rest.startsWith("attn2.to_out.0.") || rest.startsWith("ffn.net.2.");
            added.put("blocks." + layers + "." + rest, output ? Tensor.zeros(t.dtype(), t.shape()) : t);
        });
        weights.putAll(added);
        SafetensorsWriter.write(to.resolve("model.safetensors"), weights);
        Map<String, Tensor> io = read(from.resolve("io.safetensors"));
        io.replaceAll((name, t) -> firstSample(t));
        SafetensorsWriter.write(to.resolve("io.safetensors"), io);
    }

    /** Batch 1, a third block that adds zero, and 17 embedding rows no token reaches. */
    private static void umt5(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        ObjectNode config = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        int layers = config.get("num_layers").asInt(), vocab = config.get("vocab_size").asInt();
        config.put("num_layers", layers + 1);
        config.put("vocab_size", vocab + 17);
        Files.writeString(to.resolve("config.json"), config.toPrettyString());
        Map<String, Tensor> weights = read(from.resolve("model.safetensors"));
        Map<String, Tensor> added = new LinkedHashMap<>();
        weights.forEach((name, t) -> {
            if (!name.startsWith("encoder.block.0.")) return;
            boolean output = name.endsWith("SelfAttention.o.weight") || name.endsWith("DenseReluDense.wo.weight");
            added.put(name.replace("encoder.block.0.", "encoder.block." + layers + "."), output ? Tensor.zeros(t.dtype(), t.shape()) : t);
        });
        weights.putAll(added);
        weights.replaceAll((name, t) -> name.equals("shared.weight") || name.equals("encoder.embed_tokens.weight") ? extraRows(t, 17) : t);
        SafetensorsWriter.write(to.resolve("model.safetensors"), weights);
        Map<String, Tensor> io = read(from.resolve("io.safetensors"));
        io.replaceAll((name, t) -> firstSample(t));
        SafetensorsWriter.write(to.resolve("io.safetensors"), io);
    }

    /** The scheduler folder with only {@code run}: its config entry and its tensors. */
    private static void oneSchedulerRun(Path from, Path to, String run) throws IOException {
        Files.createDirectories(to);
        ObjectNode config = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        ObjectNode kept = JSON.createObjectNode();
        kept.set(run, config.get(run));
        Files.writeString(to.resolve("config.json"), kept.toPrettyString());
        Map<String, Tensor> io = read(from.resolve("io.safetensors"));
        io.keySet().removeIf(name -> !name.startsWith(run + "_"));
        SafetensorsWriter.write(to.resolve("io.safetensors"), io);
    }

    private static void copy(Path from, Path to, UnaryOperator<Tensor> change) throws IOException {
        Files.createDirectories(to);
        Files.copy(from.resolve("config.json"), to.resolve("config.json"));
        for (String file : new String[]{"model.safetensors", "io.safetensors"}) {
            Map<String, Tensor> t = read(from.resolve(file));
            t.replaceAll((n, v) -> change.apply(v));
            SafetensorsWriter.write(to.resolve(file), t);
        }
    }

    private static Map<String, Tensor> read(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Safetensors f = Safetensors.open(file)) {
            for (String n : f.names()) out.put(n, f.get(n).copy());
        }
        return out;
    }

    /** Sample 0 of [B, ...] as [1, ...]. */
    private static Tensor firstSample(Tensor t) {
        long[] shape = t.shape();
        shape[0] = 1;
        Tensor out = Tensor.zeros(t.dtype(), shape);
        MemorySegment.copy(t.data(), 0, out.data(), 0, out.byteSize());
        return out;
    }

    /** [V, D] with {@code n} more rows of ones after the V rows. */
    private static Tensor extraRows(Tensor t, int n) {
        Tensor out = Tensor.zeros(t.dtype(), t.dim(0) + n, t.dim(1));
        MemorySegment.copy(t.data(), 0, out.data(), 0, t.byteSize());
        for (long i = t.numel(); i < out.numel(); i++) out.setFloat(i, 1f);
        return out;
    }
}
