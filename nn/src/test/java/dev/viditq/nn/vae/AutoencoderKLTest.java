package dev.viditq.nn.vae;

import dev.viditq.core.io.CheckpointException;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.parity.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;

import static dev.viditq.core.tensor.Tensor.F32_LE;
import static org.junit.jupiter.api.Assertions.*;

class AutoencoderKLTest {
    /** The golden case (skips the test when the shared cases are missing; fails under CI=true). */
    private static Path golden() {
        return GoldenFolder.GOLDEN.resolve("vae");
    }

    @Test
    void goldenCaseMatches() throws Exception {
        for (GoldenCase.Comparison c : new VaeGolden().run(golden())) {
            assertTrue(c.relErr() < 1e-4, c.output() + " rel err " + c.relErr());
        }
    }

    @Test
    void legacyAttentionNamesGiveTheSameModel(@TempDir Path tmp) throws Exception {
        Path dir = rewriteGolden(tmp, n -> n.replace(".to_q.", ".query.").replace(".to_k.", ".key.")
                .replace(".to_v.", ".value.").replace(".to_out.0.", ".proj_attn."));
        for (GoldenCase.Comparison c : new VaeGolden().run(dir)) assertTrue(c.relErr() < 1e-4, c.output() + " " + c.relErr());
    }

    @Test
    void missingKeysAreListedWithTheFile(@TempDir Path tmp) throws Exception {
        Path dir = rewriteGolden(tmp, n -> n.startsWith("decoder.up_blocks.1.resnets.0.conv_shortcut") ? null : n);
        CheckpointException e = assertThrows(CheckpointException.class, () -> AutoencoderKL.load(dir));
        assertTrue(e.getMessage().contains("decoder.up_blocks.1.resnets.0.conv_shortcut.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void batchesDecodeSampleBySampleAndScalingIsApplied() throws Exception {
        try (AutoencoderKL vae = AutoencoderKL.load(golden()); Safetensors io = Safetensors.open(golden().resolve("io.safetensors"))) {
            Tensor z = io.get("z");
            float[] zs = z.toFloatArray();
            float[] two = new float[2 * zs.length];
            for (int i = 0; i < zs.length; i++) {
                two[i] = zs[i];
                two[zs.length + i] = -zs[i];
            }
            long[] shape = z.shape();
            shape[0] = 2;
            float[] both = vae.decode(Tensor.of(two, shape)).toFloatArray();
            float[] first = vae.decode(z).toFloatArray();
            float[] second = vae.decode(Tensor.of(Arrays.copyOfRange(two, zs.length, two.length), z.shape())).toFloatArray();
            assertArrayEquals(first, Arrays.copyOfRange(both, 0, first.length));
            assertArrayEquals(second, Arrays.copyOfRange(both, first.length, both.length));

            // decodeLatents(l) = decode(l / scaling_factor)
            float sf = vae.config().scalingFactor();
            float[] scaled = zs.clone();
            for (int i = 0; i < scaled.length; i++) scaled[i] *= sf;
            float[] viaLatents = vae.decodeLatents(Tensor.of(scaled, z.shape())).toFloatArray();
            assertTrue(GoldenCase.relErr(viaLatents, first) < 1e-5);
            assertThrows(IllegalArgumentException.class, () -> vae.decode(Tensor.zeros(1, 3, 4, 4)));
        }
    }

    /** Another shape: 3 blocks, 2 layers each, 4 groups, no mid attention, no quant convs; keys must fit exactly. */
    @Test
    void otherConfigurationsLoadAndKeepShapes(@TempDir Path tmp) throws Exception {
        VaeMemoryCheck.write(tmp, java.util.List.of(8, 16, 16), 2, 4, false, false);
        try (AutoencoderKL vae = AutoencoderKL.load(tmp)) {
            assertEquals(4, vae.config().downscale());
            Tensor img = vae.decode(random(new Random(1), 2, 4, 3, 5));
            assertArrayEquals(new long[]{2, 3, 12, 20}, img.shape());
            assertArrayEquals(new long[]{2, 4, 3, 5}, vae.encodeMean(img).shape());
            for (float v : img.toFloatArray()) assertTrue(Float.isFinite(v));
        }
    }

    /** Band-wise upsampling equals materialising the 2x nearest image and convolving it, for every band size. */
    @Test
    void bandedUpsampleConvMatchesWholeImage() {
        Random rnd = new Random(7);
        int cin = 3, cout = 5, h = 5, w = 7;
        Conv2d conv = new Conv2d("test", random(rnd, cout, cin, 3, 3), random(rnd, cout));
        try (FeatureMap x = FeatureMap.view(random(rnd, cin, h, w).data(), cin, h, w);
             FeatureMap up = FeatureMap.allocate(cin, 2 * h, 2 * w)) {
            for (int c = 0; c < cin; c++)
                for (int r = 0; r < 2 * h; r++)
                    for (int q = 0; q < 2 * w; q++)
                        up.data.setAtIndex(F32_LE, ((long) c * 2 * h + r) * 2 * w + q, x.data.getAtIndex(F32_LE, ((long) c * h + r / 2) * w + q / 2));
            try (FeatureMap expected = conv.apply(up)) {
                float[] want = expected.asTensor(expected.size()).toFloatArray();
                long rowBytes = (long) cin * (2 * w + 2) * Float.BYTES;
                for (long band : new long[]{1, 3 * rowBytes, 4 * rowBytes, 7 * rowBytes, 1L << 30}) {
                    try (FeatureMap got = conv.upsample(x, band)) {
                        assertArrayEquals(want, got.asTensor(got.size()).toFloatArray(), 1e-5f, "band bytes " + band);
                    }
                }
            }
        }
    }

    private static Tensor random(Random rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        for (long i = 0; i < t.numel(); i++) t.setFloat(i, (float) rnd.nextGaussian());
        return t;
    }

    private static Path rewriteGolden(Path dir, UnaryOperator<String> rename) throws Exception {
        for (String f : new String[]{"config.json", "io.safetensors"}) Files.copy(golden().resolve(f), dir.resolve(f));
        try (Safetensors in = Safetensors.open(golden().resolve("model.safetensors"))) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String n : in.names()) {
                String to = rename.apply(n);
                if (to != null) out.put(to, in.get(n).copy());
            }
            SafetensorsWriter.write(dir.resolve("model.safetensors"), out);
        }
        return dir;
    }
}
