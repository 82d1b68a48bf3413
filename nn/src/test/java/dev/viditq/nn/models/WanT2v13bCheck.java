package dev.viditq.nn.models;

import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.RandomCheckpoints;
import dev.viditq.nn.models.wan.WanConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * MANUAL check, not part of the suite: a Wan2.1-T2V-1.3B-shaped transformer (30 blocks, width 1536, 12 heads, FFN
 * 8960, text 4096) with random BF16 weights, memory-mapped, one forward pass at a small latent size with a 512-token
 * caption; prints seconds per forward and the process memory (/proc/self/status).
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp CLASSPATH \
 *        dev.viditq.nn.models.WanT2v13bCheck /tmp/wan13b [frames height width] [passes]
 * </pre>
 * The checkpoint (2.8 GB) is written once into the folder and reused.
 */
public final class WanT2v13bCheck {
    static final String CONFIG = "{\"_class_name\": \"WanTransformer3DModel\", \"num_attention_heads\": 12, \"attention_head_dim\": 128,"
            + " \"in_channels\": 16, \"out_channels\": 16, \"text_dim\": 4096, \"freq_dim\": 256, \"ffn_dim\": 8960, \"num_layers\": 30,"
            + " \"cross_attn_norm\": true, \"eps\": 1e-06, \"patch_size\": [1, 2, 2], \"qk_norm\": \"rms_norm_across_heads\","
            + " \"rope_max_seq_len\": 1024, \"image_dim\": null, \"added_kv_proj_dim\": null, \"pos_embed_seq_len\": null}";

    private WanT2v13bCheck() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int frames = args.length > 3 ? Integer.parseInt(args[1]) : 2, h = args.length > 3 ? Integer.parseInt(args[2]) : 16,
                w = args.length > 3 ? Integer.parseInt(args[3]) : 16, passes = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        if (!Files.exists(dir.resolve("diffusion_pytorch_model.safetensors"))) {
            ModelConfig cfg = new ModelConfig(dir.resolve("config.json"), new com.fasterxml.jackson.databind.ObjectMapper().readTree(CONFIG));
            long t0 = System.nanoTime();
            RandomCheckpoints.writeBf16Streamed(dir, CONFIG, WanTransformer.checkpointShapes(WanConfig.diffusers(cfg)), 1);
            System.out.printf("wrote random BF16 weights in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        try (WanTransformer model = WanTransformer.load(dir)) {
            assertEquals(DType.BF16, model.linears().get("blocks.0.ffn.net.0.proj").weight().dtype());
            long params = 0;
            for (var l : model.linears().values()) params += l.weight().numel();
            System.out.printf("linear parameters: %,d; status after load: %s%n", params, memory());
            SplittableRandom r = new SplittableRandom(1);
            Tensor x = RandomCheckpoints.uniform(r, 1f, 1, 16, frames, h, w);
            Tensor text = RandomCheckpoints.uniform(r, 0.1f, 1, WanTransformer.CAPTION_TOKENS, 4096);
            Tensor t = Tensor.of(new float[]{999}, 1);
            for (int p = 0; p < passes; p++) {
                long t0 = System.nanoTime();
                Tensor out = model.forward(x, t, text, null);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("forward %d: latent [1, 16, %d, %d, %d] (%d tokens) in %.2f s, output %s; %s%n", p, frames, h, w,
                        frames * h * w / 4, s, java.util.Arrays.toString(out.shape()), memory());
            }
        }
    }

    static Map<String, String> memory() throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            String[] p = line.split("\\s+");
            if (p[0].matches("(VmHWM|VmRSS|RssAnon|RssFile):")) m.put(p[0].replace(":", ""), Long.parseLong(p[1]) / 1024 + " MB");
        }
        return m;
    }
}
