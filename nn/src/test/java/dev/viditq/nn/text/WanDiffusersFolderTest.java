package dev.viditq.nn.text;

import dev.viditq.core.testing.GoldenFolder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.models.WanTransformer;
import dev.viditq.nn.parity.GoldenCase;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.nn.sampling.DiffusersSchedulerConfig;
import dev.viditq.nn.sampling.UniPcFlowSampler;
import dev.viditq.nn.vae.WanVae;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A folder in the layout of Wan-AI/Wan2.1-T2V-*-Diffusers, assembled from the golden weights: transformer/ and
 * text_encoder/ sharded with an index and stored in BF16, vae/, tokenizer/, scheduler/. Every part loads from it;
 * BF16 weights stay BF16 (memory-mapped, not widened) and compute what their float values compute.
 */
class WanDiffusersFolderTest {
    private static final GoldenFolder WAN_CASES = GoldenFolder.named("golden_wan");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyPartLoadsFromThePipelineFolder(@TempDir Path tmp) throws Exception {
        Path WAN = WAN_CASES.resolve("wan_transformer").getParent();
        Path root = tmp.resolve("Wan2.1-T2V-tiny-Diffusers");
        Path transformer = Files.createDirectories(root.resolve("transformer"));
        Files.copy(WAN.resolve("wan_transformer/config.json"), transformer.resolve("config.json"));
        writeSharded(transformer, "diffusion_pytorch_model", bf16(WAN.resolve("wan_transformer/model.safetensors")), 3);
        Path text = Files.createDirectories(root.resolve("text_encoder"));
        Files.copy(WAN.resolve("umt5_encoder/config.json"), text.resolve("config.json"));
        writeSharded(text, "model", bf16(WAN.resolve("umt5_encoder/model.safetensors")), 2);
        Path vae = Files.createDirectories(root.resolve("vae"));
        Files.copy(WAN.resolve("wan_vae/config.json"), vae.resolve("config.json"));
        Files.copy(WAN.resolve("wan_vae/model.safetensors"), vae.resolve("diffusion_pytorch_model.safetensors"));
        Path tokenizer = Files.createDirectories(root.resolve("tokenizer"));
        Files.write(tokenizer.resolve("spiece.model"), TokenizerFixtures.spmModel(SentencePieceTokenizerTest.vocab(), null, true));
        Path scheduler = Files.createDirectories(root.resolve("scheduler"));
        var runs = JSON.readTree(WAN.resolve("schedulers/unipc_flow/config.json").toFile());
        Files.writeString(scheduler.resolve("scheduler_config.json"), runs.properties().iterator().next().getValue().get("scheduler").toString());

        ModelFolder folder = ModelFolder.resolve(root);
        try (Safetensors io = Safetensors.open(WAN.resolve("wan_transformer/io.safetensors"));
             WanTransformer bf16 = WanTransformer.load(folder.denoiser());
             WanTransformer f32 = WanTransformer.load(f32Copy(tmp.resolve("f32"), transformer))) {
            assertEquals(DType.BF16, bf16.linears().get("blocks.0.attn1.to_q").weight().dtype(), "BF16 weights must stay BF16");
            float[] a = bf16.forward(io.get("hidden_states"), io.get("timestep"), io.get("encoder_hidden_states"), null).toFloatArray();
            float[] b = f32.forward(io.get("hidden_states"), io.get("timestep"), io.get("encoder_hidden_states"), null).toFloatArray();
            assertTrue(GoldenCase.relErr(a, b) < 1e-5, "BF16 in place vs its F32 values: " + GoldenCase.relErr(a, b));
            double vsGolden = GoldenCase.relErr(a, io.get("out").toFloatArray());
            assertTrue(vsGolden > 0 && vsGolden < 0.05, "BF16 rounding moves the output a little: " + vsGolden);
        }
        try (TextEncoder te = TextEncoder.load(root)) {
            Captions e = te.encode(List.of("ab", "abc a"), 7);
            assertArrayEquals(new long[]{2, 7, 64}, e.embeddings().shape());
        }
        try (WanVae v = WanVae.load(root); Safetensors io = Safetensors.open(WAN.resolve("wan_vae/io.safetensors"))) {
            assertTrue(GoldenCase.relErr(v.decode(io.get("z")).toFloatArray(), io.get("decoded").toFloatArray()) < 1e-4);
        }
        var sampler = DiffusersSchedulerConfig.load(folder.schedulerConfig());
        assertInstanceOf(UniPcFlowSampler.class, sampler);
    }

    private static Map<String, Tensor> bf16(Path file) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (Safetensors f = Safetensors.open(file)) {
            for (String n : f.names()) out.put(n, f.get(n).to(DType.BF16));
        }
        return out;
    }

    /** base-0000i-of-0000n.safetensors and base.safetensors.index.json, as save_pretrained shards. */
    private static void writeSharded(Path dir, String base, Map<String, Tensor> tensors, int shards) throws Exception {
        List<String> names = new ArrayList<>(tensors.keySet());
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", tensors.values().stream().mapToLong(Tensor::byteSize).sum());
        ObjectNode map = index.putObject("weight_map");
        for (int s = 0; s < shards; s++) {
            String file = String.format("%s-%05d-of-%05d.safetensors", base, s + 1, shards);
            Map<String, Tensor> part = new LinkedHashMap<>();
            for (int i = s; i < names.size(); i += shards) {
                part.put(names.get(i), tensors.get(names.get(i)));
                map.put(names.get(i), file);
            }
            SafetensorsWriter.write(dir.resolve(file), part);
        }
        Files.writeString(dir.resolve(base + ".safetensors.index.json"), index.toPrettyString());
    }

    /** The BF16 folder's values as one F32 file. */
    private static Path f32Copy(Path dir, Path bf16Dir) throws Exception {
        Files.createDirectories(dir);
        Files.copy(bf16Dir.resolve("config.json"), dir.resolve("config.json"));
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (var f = dev.viditq.core.io.Checkpoints.open(dev.viditq.core.io.Checkpoints.findIn(bf16Dir))) {
            for (String n : f.names()) out.put(n, f.get(n).toF32().copy());
        }
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), out);
        return dir;
    }
}
