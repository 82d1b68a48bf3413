package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.kernels.Kernels;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MANUAL check, not part of the suite (minutes of CPU): the SD VAE shape (widths 128/256/512/512, 2 layers per
 * block, 32 groups) with random weights decodes a 64×64 latent to 512×512; prints time and peak memory.
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp nn/target/test-classes:nn/target/classes:core/target/classes:JACKSON \
 *        dev.viditq.nn.vae.VaeMemoryCheck /tmp/sdvae [latentSize] [memory-only]
 * </pre>
 * With {@code memory-only}, conv2d, attention and gemm do nothing (outputs stay zero): the run then measures the
 * activation memory of the VAE code alone, in seconds, whatever the speed of the kernels.
 * <p>Measured once, memory-only, 64×64 latent → 512×512: peak RSS (VmHWM) 1.05 GB, of which about 0.3 GB is the
 * JVM itself; the largest live set is resnet 0 of the last up block (256-ch input, its normalized copy, 128-ch
 * output at 512², about 0.67 GB). The 335 MB of F32 weights come on top when the convolutions run.
 */
class VaeMemoryCheck {
    static final List<Integer> WIDTHS = List.of(128, 256, 512, 512);
    static final int LAYERS = 2, LATENT = 4;

    @Test
    @EnabledIfSystemProperty(named = "viditq.manual.vae", matches = ".+")
    void sdVaeDecodes512px() throws Exception {
        if (JavaKernels.unsupportedReason() == null) KernelBackend.set(new JavaKernels());
        Map<String, Long> r = run(Path.of(System.getProperty("viditq.manual.vae")), 64);
        assertTrue(r.get("VmHWM") < 3L << 30, "peak RSS " + r.get("VmHWM"));
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 2 && args[2].equals("memory-only")) KernelBackend.set(withoutMatrixProducts(KernelBackend.get()));
        else if (JavaKernels.unsupportedReason() == null) KernelBackend.set(new JavaKernels());
        run(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 64);
    }

    /** {@code k} with conv2d, attention and gemm turned into no-ops (everything else delegated). */
    static Kernels withoutMatrixProducts(Kernels k) {
        return (Kernels) Proxy.newProxyInstance(Kernels.class.getClassLoader(), new Class<?>[]{Kernels.class}, (proxy, m, a) -> {
            if (m.getName().equals("conv2d") || m.getName().equals("attention") || m.getName().equals("gemm")) return null;
            if (m.getName().equals("name")) return "no matrix products (memory-only)";
            try {
                return m.invoke(k, a);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    static Map<String, Long> run(Path dir, int latentSize) throws Exception {
        if (!Files.exists(dir.resolve("diffusion_pytorch_model.safetensors"))) write(dir, WIDTHS, LAYERS, 32, true, true);
        try (AutoencoderKL vae = AutoencoderKL.load(dir)) {
            Random rnd = new Random(3);
            float[] z = new float[LATENT * latentSize * latentSize];
            for (int i = 0; i < z.length; i++) z[i] = (float) rnd.nextGaussian();
            long t0 = System.nanoTime();
            Tensor img = vae.decode(Tensor.of(z, 1, LATENT, latentSize, latentSize));
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Long> status = new LinkedHashMap<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                String[] p = line.split("\\s+");
                if (p[0].matches("(VmHWM|VmRSS|RssAnon|RssFile):")) status.put(p[0].replace(":", ""), Long.parseLong(p[1]) * 1024);
            }
            System.out.printf("kernels %s; decode %dx%d latent → %s in %.1f s%n", KernelBackend.get().name(),
                    latentSize, latentSize, java.util.Arrays.toString(img.shape()), seconds);
            status.forEach((k, b) -> System.out.printf("%s %.2f GB%n", k, b / 1e9));
            return status;
        }
    }

    /**
     * Random F32 weights and config.json in the diffusers AutoencoderKL layout, the key list written out here
     * independently of the model code.
     */
    static void write(Path dir, List<Integer> widths, int layers, int groups, boolean attention, boolean quantConvs) throws IOException {
        Files.createDirectories(dir);
        ObjectNode config = new ObjectMapper().createObjectNode().put("layers_per_block", layers).put("latent_channels", LATENT)
                .put("norm_num_groups", groups).put("scaling_factor", 0.18215).put("mid_block_add_attention", attention)
                .put("use_quant_conv", quantConvs).put("use_post_quant_conv", quantConvs);
        widths.forEach(config.withArray("block_out_channels")::add);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), weights(widths, layers, attention, quantConvs));
    }

    /** The diffusers AutoencoderKL state dict with random F32 weights (unit norms, zero biases). */
    static Map<String, Tensor> weights(List<Integer> widths, int layers, boolean attention, boolean quantConvs) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Random rnd = new Random(5);
        conv(t, rnd, "encoder.conv_in", 3, widths.getFirst(), 3);
        int in = widths.getFirst();
        for (int i = 0; i < widths.size(); i++) {
            int out = widths.get(i);
            for (int j = 0; j < layers; j++) resnet(t, rnd, "encoder.down_blocks." + i + ".resnets." + j, j == 0 ? in : out, out);
            if (i < widths.size() - 1) conv(t, rnd, "encoder.down_blocks." + i + ".downsamplers.0.conv", out, out, 3);
            in = out;
        }
        mid(t, rnd, "encoder.mid_block", in, attention);
        norm(t, "encoder.conv_norm_out", in);
        conv(t, rnd, "encoder.conv_out", in, 2 * LATENT, 3);
        if (quantConvs) {
            conv(t, rnd, "quant_conv", 2 * LATENT, 2 * LATENT, 1);
            conv(t, rnd, "post_quant_conv", LATENT, LATENT, 1);
        }
        List<Integer> rev = widths.reversed();
        conv(t, rnd, "decoder.conv_in", LATENT, rev.getFirst(), 3);
        mid(t, rnd, "decoder.mid_block", rev.getFirst(), attention);
        in = rev.getFirst();
        for (int i = 0; i < rev.size(); i++) {
            int out = rev.get(i);
            for (int j = 0; j <= layers; j++) resnet(t, rnd, "decoder.up_blocks." + i + ".resnets." + j, j == 0 ? in : out, out);
            if (i < rev.size() - 1) conv(t, rnd, "decoder.up_blocks." + i + ".upsamplers.0.conv", out, out, 3);
            in = out;
        }
        norm(t, "decoder.conv_norm_out", in);
        conv(t, rnd, "decoder.conv_out", in, 3, 3);
        return t;
    }

    private static void mid(Map<String, Tensor> t, Random rnd, String key, int c, boolean attention) {
        resnet(t, rnd, key + ".resnets.0", c, c);
        if (attention) {
            norm(t, key + ".attentions.0.group_norm", c);
            for (String p : new String[]{"to_q", "to_k", "to_v", "to_out.0"}) {
                t.put(key + ".attentions.0." + p + ".weight", random(rnd, 1.0 / Math.sqrt(c), c, c));
                t.put(key + ".attentions.0." + p + ".bias", Tensor.zeros(c));
            }
        }
        resnet(t, rnd, key + ".resnets.1", c, c);
    }

    private static void resnet(Map<String, Tensor> t, Random rnd, String key, int in, int out) {
        norm(t, key + ".norm1", in);
        conv(t, rnd, key + ".conv1", in, out, 3);
        norm(t, key + ".norm2", out);
        conv(t, rnd, key + ".conv2", out, out, 3);
        if (in != out) conv(t, rnd, key + ".conv_shortcut", in, out, 1);
    }

    private static void conv(Map<String, Tensor> t, Random rnd, String key, int in, int out, int k) {
        t.put(key + ".weight", random(rnd, 1.0 / Math.sqrt(in * k * k), out, in, k, k));
        t.put(key + ".bias", Tensor.zeros(out));
    }

    private static void norm(Map<String, Tensor> t, String key, int c) {
        float[] ones = new float[c];
        java.util.Arrays.fill(ones, 1f);
        t.put(key + ".weight", Tensor.of(ones, c));
        t.put(key + ".bias", Tensor.zeros(c));
    }

    private static Tensor random(Random rnd, double std, long... shape) {
        Tensor x = Tensor.zeros(shape);
        for (long i = 0; i < x.numel(); i++) x.setFloat(i, (float) (rnd.nextGaussian() * std));
        return x;
    }
}
