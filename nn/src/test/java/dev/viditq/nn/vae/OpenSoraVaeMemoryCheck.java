package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.kernels.JavaKernels;
import dev.viditq.core.kernels.KernelBackend;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * MANUAL check, not part of the suite: Open-Sora 1.2's video VAE at its real size with random weights — the SDXL
 * 2-D VAE (widths 128/256/512/512, 2 layers per block, 32 groups) and VAE_Temporal_SD (filters 128, 4 res blocks,
 * multipliers 1/2/2/4) in the released folder layout (config.json naming the 2-D VAE by hub id, one F32
 * model.safetensors) — decoding a video frame by frame into a sink that keeps nothing, as a video writer would.
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp CP dev.viditq.nn.vae.OpenSoraVaeMemoryCheck write DIR
 *   /usr/bin/time -v java ... dev.viditq.nn.vae.OpenSoraVaeMemoryCheck decode DIR HEIGHT_PX WIDTH_PX FRAMES [memory-only]
 * </pre>
 * With {@code memory-only}, conv2d, attention and gemm do nothing (see {@link VaeMemoryCheck#withoutMatrixProducts}):
 * the run measures the activation memory of the VAE code at sizes whose arithmetic would take hours here.
 */
final class OpenSoraVaeMemoryCheck {
    private static final int FILTERS = 128, RES_BLOCKS = 4, LATENT = 4;
    private static final int[] MULTIPLIERS = {1, 2, 2, 4};
    private static final boolean[] TEMPORAL_DOWNSAMPLE = {false, true, true};

    private OpenSoraVaeMemoryCheck() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (args[0].equals("write")) {
            write(dir);
            return;
        }
        boolean memoryOnly = args.length > 5 && args[5].equals("memory-only");
        if (memoryOnly) KernelBackend.set(VaeMemoryCheck.withoutMatrixProducts(KernelBackend.get()));
        else if (JavaKernels.unsupportedReason() == null) KernelBackend.set(new JavaKernels());
        decode(dir, Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
    }

    static void decode(Path dir, int heightPx, int widthPx, int frames) throws IOException {
        try (OpenSoraVae vae = OpenSoraVae.load(dir)) {
            int f = vae.downscale();
            Random rnd = new Random(1);
            Tensor z = Tensor.zeros(1, vae.latentChannels(), vae.latentFrames(frames), heightPx / f, widthPx / f);
            for (long i = 0; i < z.numel(); i++) z.setFloat(i, (float) rnd.nextGaussian());
            long t0 = System.nanoTime();
            int[] made = {0};
            double[] checksum = {0};
            vae.decode(z, frames, (b, t, image) -> {
                made[0]++;
                checksum[0] += image.getFloat(image.numel() / 2);
            });
            System.out.printf("kernels %s; %d latent frames %dx%d -> %d frames %dx%d in %.1f s (checksum %.4f)%n", KernelBackend.get().name(),
                    z.size(2), z.size(3), z.size(4), made[0], heightPx, widthPx, (System.nanoTime() - t0) / 1e9, checksum[0]);
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.matches("(VmHWM|VmRSS|RssAnon|RssFile):.*")) System.out.println(line);
            }
        }
    }

    /** The released layout: config.json of OpenSora-VAE-v1.2 and the pipeline's state dict, F32. */
    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("VideoAutoencoderPipeline");
        config.put("model_type", "VideoAutoencoderPipeline").put("micro_frame_size", 17).put("cal_loss", false).put("freeze_vae_2d", false);
        config.putArray("scale").add(3.85).add(2.32).add(2.33).add(3.06);
        config.putArray("shift").add(-0.10).add(0.34).add(0.27).add(0.98);
        config.putObject("vae_2d").put("type", "VideoAutoencoderKL").put("from_pretrained", "PixArt-alpha/pixart_sigma_sdxlvae_T5_diffusers")
                .put("subfolder", "vae").put("micro_batch_size", 4).put("local_files_only", true);
        config.putObject("vae_temporal").put("type", "VAE_Temporal_SD").putNull("from_pretrained");
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());

        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        VaeMemoryCheck.weights(VaeMemoryCheck.WIDTHS, VaeMemoryCheck.LAYERS, true, true)
                .forEach((k, t) -> entries.add(SafetensorsWriter.Entry.of("spatial_vae.module." + k, t)));
        temporalKeys(entries);
        float[] scale = {3.85f, 2.32f, 2.33f, 3.06f}, shift = {-0.10f, 0.34f, 0.27f, 0.98f};
        entries.add(SafetensorsWriter.Entry.of("scale", Tensor.of(scale, 1, 4, 1, 1, 1)));
        entries.add(SafetensorsWriter.Entry.of("shift", Tensor.of(shift, 1, 4, 1, 1, 1)));
        SafetensorsWriter.writeEntries(dir.resolve("model.safetensors"), entries, Map.of());
    }

    /** VAE_Temporal_SD's state dict (temporal_vae.*), each conv weight drawn when it is written. */
    private static void temporalKeys(List<SafetensorsWriter.Entry> e) {
        String p = "temporal_vae.";
        conv(e, p + "encoder.conv_in", LATENT, FILTERS, 3, false);
        int prev = FILTERS;
        for (int i = 0; i < MULTIPLIERS.length; i++) {
            int f = FILTERS * MULTIPLIERS[i];
            for (int j = 0; j < RES_BLOCKS; j++) {
                res(e, p + "encoder.block_res_blocks." + i + "." + j, prev, f);
                prev = f;
            }
            if (i < MULTIPLIERS.length - 1 && TEMPORAL_DOWNSAMPLE[i]) conv(e, p + "encoder.conv_blocks." + i, f, f, 3, true);
        }
        for (int j = 0; j < RES_BLOCKS; j++) res(e, p + "encoder.res_blocks." + j, prev, prev);
        norm(e, p + "encoder.norm1", prev);
        conv(e, p + "encoder.conv2", prev, 2 * LATENT, 1, true);
        conv(e, p + "quant_conv", 2 * LATENT, 2 * LATENT, 1, true);
        conv(e, p + "post_quant_conv", LATENT, LATENT, 1, true);
        prev = FILTERS * MULTIPLIERS[MULTIPLIERS.length - 1];
        conv(e, p + "decoder.conv1", LATENT, prev, 3, true);
        for (int j = 0; j < RES_BLOCKS; j++) res(e, p + "decoder.res_blocks." + j, prev, prev);
        for (int i = MULTIPLIERS.length - 1; i >= 0; i--) {
            int f = FILTERS * MULTIPLIERS[i];
            for (int j = 0; j < RES_BLOCKS; j++) {
                res(e, p + "decoder.block_res_blocks." + i + "." + j, prev, f);
                prev = f;
            }
            if (i > 0 && TEMPORAL_DOWNSAMPLE[i - 1]) conv(e, p + "decoder.conv_blocks." + (i - 1), prev, 2 * prev, 3, true);
        }
        norm(e, p + "decoder.norm1", prev);
        conv(e, p + "decoder.conv_out", prev, LATENT, 3, true);
    }

    private static void res(List<SafetensorsWriter.Entry> e, String key, int in, int out) {
        norm(e, key + ".norm1", in);
        conv(e, key + ".conv1", in, out, 3, false);
        norm(e, key + ".norm2", out);
        conv(e, key + ".conv2", out, out, 3, false);
        if (in != out) conv(e, key + ".conv3", in, out, 1, false);
    }

    private static void conv(List<SafetensorsWriter.Entry> e, String key, int in, int out, int k, boolean bias) {
        long[] shape = {out, in, k, k, k};
        double std = 1 / Math.sqrt((double) in * k * k * k);
        e.add(new SafetensorsWriter.Entry(key + ".conv.weight", DType.F32, shape, arena -> {
            Random rnd = new Random(key.hashCode());
            Tensor t = new Tensor(DType.F32, shape, arena.allocate(Tensor.numel(shape) * Float.BYTES, Tensor.ALIGNMENT));
            for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) (rnd.nextGaussian() * std));
            return t;
        }));
        if (bias) e.add(SafetensorsWriter.Entry.of(key + ".conv.bias", Tensor.zeros(out)));
    }

    private static void norm(List<SafetensorsWriter.Entry> e, String key, int channels) {
        float[] ones = new float[channels];
        java.util.Arrays.fill(ones, 1f);
        e.add(SafetensorsWriter.Entry.of(key + ".weight", Tensor.of(ones, channels)));
        e.add(SafetensorsWriter.Entry.of(key + ".bias", Tensor.zeros(channels)));
    }
}
