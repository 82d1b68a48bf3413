package dev.viditq.quant;

import dev.viditq.quant.method.QuantMethods;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MANUAL check, not part of the suite (a few minutes, 1.2 GB written per model): a PixArt-XL/2-shaped model (28 blocks,
 * hidden 1152, 16 heads, T5 captions of 4096 × 120, 512 px) with random BF16 weights, quantized to W8A8 and W4A8
 * (QuaRot layout: rotation only, so no calibration is needed; ViDiT-Q adds one F32 balancing vector per layer, 0.1%).
 * Prints, for each: checkpoint bytes on disk against the BF16 checkpoint, the resident weight bytes after loading
 * (packed integer weights + the float layers kept), and the time of one forward pass at 256 px on this machine.
 * <pre>
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx12g \
 *        -cp quant/target/test-classes:cli/target/viditq.jar dev.viditq.quant.PixArtXlSizeCheck /tmp/pixart-xl
 * </pre>
 */
final class PixArtXlSizeCheck {
    static final int H = 1152, DEPTH = 28, CAPTION = 4096, TOKENS = 120, MLP = 4 * H, OUT = 2 * 2 * 8, FREQ = 256;

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "/tmp/pixart-xl");
        Path floatDir = root.resolve("bf16");
        if (!Files.exists(floatDir.resolve("model.safetensors"))) writeModel(floatDir);
        report("bf16", floatDir, floatDir);
        for (int bits : new int[]{8, 4}) {
            Path out = root.resolve("w" + bits + "a8");
            QuantConfig cfg = QuantConfigReader.parse("method: quarot\nweight: {bits: " + bits + "}\nactivation: {bits: 8}\n", "w" + bits + "a8", null);
            long t0 = System.nanoTime();
            try (Denoiser model = ModelLoader.load(floatDir)) {
                QuantizedModel q = Quantizer.quantize(model, QuantMethods.of(cfg.method()).plan(model, null, cfg));
                QuantizedCheckpoint.write(floatDir, q, out, true);
            }
            System.out.printf("quantized W%dA8 in %.1f s%n", bits, (System.nanoTime() - t0) / 1e9);
            report("w" + bits + "a8", out, floatDir);
        }
    }

    private static void report(String label, Path dir, Path floatDir) throws IOException {
        long bf16 = Files.size(floatDir.resolve("model.safetensors"));
        long disk = Files.size(dir.resolve("model.safetensors"));
        try (Denoiser model = ModelLoader.load(dir)) {
            long resident = residentWeightBytes(model);
            double seconds = forwardSeconds(model);
            System.out.printf("%-6s checkpoint %7.1f MiB (%.3f of BF16)  resident weights %7.1f MiB (%.3f of BF16)  forward 256px %.2f s%n",
                    label, disk / 1048576.0, (double) disk / bf16, resident / 1048576.0, (double) resident / bf16, seconds);
        }
    }

    /** Float weights of float-run Linears + packed integer weights of quantized ones (reported by the executors). */
    private static long residentWeightBytes(Denoiser model) {
        long bytes = 0;
        for (Linear l : model.linears().values()) {
            bytes += l.storage().hasFloatWeight() ? l.weight().byteSize() : 0;
            if (l.bias() != null) bytes += l.bias().byteSize();
        }
        return bytes + dev.viditq.quant.runtime.QuantizedModel.residentBytes(model);
    }

    private static double forwardSeconds(Denoiser model) {
        SplittableRandom r = new SplittableRandom(1);
        Tensor x = gaussian(r, 1.0, 2, 4, 32, 32);
        Tensor t = Tensor.of(new float[]{500, 500}, 2);
        Tensor y = gaussian(r, 0.1, 2, TOKENS, CAPTION);
        Conditioning c = Conditioning.caption(y, null);
        model.forward(x, t, c);
        long t0 = System.nanoTime();
        model.forward(x, t, c);
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void writeModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {"family": "pixart", "input_size": 64, "patch_size": 2, "in_channels": 4, "hidden_size": 1152, "depth": 28,
                 "num_heads": 16, "mlp_ratio": 4.0, "caption_channels": 4096, "model_max_length": 120, "lewei_scale": 1.0,
                 "pred_sigma": true, "micro_condition": false}
                """);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("x_embedder.proj.weight", new long[]{H, 4, 2, 2});
        shapes.put("x_embedder.proj.bias", new long[]{H});
        linear(shapes, "t_embedder.mlp.0", FREQ, H);
        linear(shapes, "t_embedder.mlp.2", H, H);
        linear(shapes, "t_block.1", H, 6 * H);
        linear(shapes, "y_embedder.y_proj.fc1", CAPTION, H);
        linear(shapes, "y_embedder.y_proj.fc2", H, H);
        shapes.put("y_embedder.y_embedding", new long[]{TOKENS, CAPTION});
        shapes.put("pos_embed", new long[]{1, 1024, H});
        for (int i = 0; i < DEPTH; i++) {
            String b = "blocks." + i;
            shapes.put(b + ".scale_shift_table", new long[]{6, H});
            linear(shapes, b + ".attn.qkv", H, 3 * H);
            linear(shapes, b + ".attn.proj", H, H);
            linear(shapes, b + ".cross_attn.q_linear", H, H);
            linear(shapes, b + ".cross_attn.kv_linear", H, 2 * H);
            linear(shapes, b + ".cross_attn.proj", H, H);
            linear(shapes, b + ".mlp.fc1", H, MLP);
            linear(shapes, b + ".mlp.fc2", MLP, H);
        }
        shapes.put("final_layer.scale_shift_table", new long[]{2, H});
        linear(shapes, "final_layer.linear", H, OUT);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        long seed = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long s = seed++;
            double std = e.getKey().endsWith("bias") ? 0.01 : 0.02;
            entries.add(new SafetensorsWriter.Entry(e.getKey(), DType.BF16, e.getValue(),
                    arena -> gaussian(new SplittableRandom(s), std, e.getValue()).to(DType.BF16)));
        }
        SafetensorsWriter.writeEntries(dir.resolve("model.safetensors"), entries, Map.of());
    }

    private static void linear(Map<String, long[]> shapes, String name, int in, int out) {
        shapes.put(name + ".weight", new long[]{out, in});
        shapes.put(name + ".bias", new long[]{out});
    }

    private static Tensor gaussian(SplittableRandom r, double std, long... shape) {
        float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
        for (int i = 0; i < v.length; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return Tensor.of(v, shape);
    }
}
