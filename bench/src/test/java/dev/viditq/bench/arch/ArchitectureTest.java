package dev.viditq.bench.arch;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelLoader;
import dev.viditq.nn.models.wan.WanConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class ArchitectureTest {

    /** The small architectures of the golden cases (their config.json), in this class's terms. */
    static final Architecture PIXART_MS = new Architecture("golden-pixart", ModelFamily.PIXART, 2, 96, 4, 2, 4, 8, 1, 48, 6, 0, true);
    static final Architecture STDIT = new Architecture("golden-stdit", ModelFamily.STDIT, 2, 64, 4, 2, 4, 8, 4, 48, 6, 0, false);
    static final Architecture DIT = new Architecture("golden-dit", ModelFamily.DIT, 2, 64, 4, 2, 4, 8, 1, 0, 0, 10, false);

    @Test
    void keysAndShapesMatchTheOfficialCheckpoints() {
        assertSameLayout(PIXART_MS, "pixart_original");
        assertSameLayout(STDIT, "stdit_v1");
        assertSameLayout(DIT, "dit");
    }

    private static void assertSameLayout(Architecture arch, String goldenCase) {
        Path file = GoldenFolder.GOLDEN.resolve(goldenCase + "/model.safetensors");
        Map<String, String> official = new TreeMap<>();
        try (TensorFile f = Checkpoints.open(file)) {
            for (String name : f.names()) official.put(name, Arrays.toString(f.get(name).shape()));
        }
        Map<String, String> ours = new TreeMap<>();
        for (Architecture.TensorSpec t : arch.tensors()) ours.put(t.name(), Arrays.toString(t.shape()));
        assertEquals(official, ours, goldenCase);
    }

    @Test
    void wanKeysAreThoseOfTheOfficialDiffusersCheckpoint() {
        // the golden case's own widths (text 32, freq 32, 4 channels) are not the real ones; the keys and the
        // block shapes, which this class writes, are
        Architecture arch = Architecture.wan("golden-wan", 2, 32, 2, 64, 8, 2);
        Path file = GoldenFolder.named("golden_wan").resolve("wan_transformer/model.safetensors");
        Map<String, long[]> official = new TreeMap<>();
        try (TensorFile f = Checkpoints.open(file)) {
            for (String name : f.names()) official.put(name, f.get(name).shape());
        }
        Map<String, long[]> ours = new TreeMap<>();
        for (Architecture.TensorSpec t : arch.tensors()) ours.put(t.name(), t.shape());
        assertEquals(official.keySet(), ours.keySet());
        for (String block : new String[]{"blocks.1.attn1.to_q.weight", "blocks.1.ffn.net.0.proj.weight", "blocks.0.attn2.norm_k.weight",
                "blocks.0.scale_shift_table", "scale_shift_table"}) {
            assertArrayEquals(official.get(block), ours.get(block), block);
        }
    }

    @Test
    void wan13bPresetHasTheReleasedSizes() {
        Architecture wan = Architecture.preset("wan2.1-t2v-1.3b-9x256x256");
        WanConfig c = wan.wanConfig();
        assertEquals(List.of(1536, 12, 30, 8960, 4096, 16, 16, 2), List.of(c.dim(), c.heads(), c.layers(), c.ffnDim(), c.textDim(),
                c.inChannels(), c.outChannels(), c.patch()));
        // Wan2.1-T2V-1.3B: 1.42 billion parameters in its diffusion_pytorch_model.safetensors
        assertEquals(1_418_996_800L, wan.parameters());
        assertArrayEquals(new long[]{16, 3, 32, 32}, wan.latentShape(), "9 frames of 256x256: 3 latent frames of 32x32");
        assertTrue(wan.fingerprint().contains("mlpHidden=8960"), wan.fingerprint());
    }

    @Test
    void realSizePresetsDifferExactlyWhereTheArchitecturesDo() {
        long pixart256 = Architecture.preset("pixart-xl-2-256").parameters();
        long pixart512 = Architecture.preset("pixart-xl-2-512").parameters();
        long stdit = Architecture.preset("stdit-xl-2-16x256").parameters();
        int h = 1152;
        // PixArt-α XL/2 is the paper's 0.6 B model (611 M with the T5 caption projection)
        assertTrue(pixart256 > 600_000_000L && pixart256 < 620_000_000L, "PixArt-XL/2 parameters: " + pixart256);
        // 512 px: only the stored pos_embed buffer grows, from 16² to 32² tokens
        assertEquals((32L * 32 - 16 * 16) * h, pixart512 - pixart256);
        // STDiT v1.0: one temporal attention (qkv + proj with biases) per block and the temporal pos_embed buffer
        assertEquals(28L * (4L * h * h + 4L * h) + 16L * h, stdit - pixart256);
        assertThrows(IllegalArgumentException.class, () -> Architecture.preset("pixart-xxl"));
    }

    @Test
    void theFingerprintKeepsTheFormOfCachedCheckpoints() {
        // random checkpoints cached on disk carry this string; another form would rewrite gigabytes for nothing
        assertEquals("v1 Architecture[name=dit-xl-2-256, family=dit, depth=28, hidden=1152, heads=16, patch=2, inChannels=4, "
                + "latent=32, frames=1, captionChannels=0, captionTokens=0, numClasses=1000, microConditions=false, "
                + "sampler=iddpm, cfgScale=4.0] " + Architecture.preset("dit-xl-2-256").tensors().size() + " tensors, "
                + Architecture.preset("dit-xl-2-256").parameters() + " parameters", Architecture.preset("dit-xl-2-256").fingerprint());
        assertThrows(IllegalArgumentException.class, () -> new Architecture("latte", ModelFamily.LATTE_DIFFUSERS, 1, 64, 4, 2, 4, 8,
                4, 48, 6, 0, false), "no random-weight layout for Latte");
    }

    @Test
    void writtenCheckpointLoadsAndIsReusedWhileCurrent(@TempDir Path tmp) throws Exception {
        for (Architecture arch : new Architecture[]{PIXART_MS, STDIT, DIT, Architecture.wan("t-wan", 2, 32, 2, 48, 4, 2)}) {
            Path dir = RandomCheckpoint.ensure(arch, tmp, System.err);
            try (Denoiser model = ModelLoader.load(dir)) {
                assertEquals(arch.family(), model.info().family());
                assertEquals(arch.depth(), model.info().depth());
            }
            var stamp = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
            Thread.sleep(20);
            assertEquals(dir, RandomCheckpoint.ensure(arch, tmp, System.err));
            assertEquals(stamp, Files.getLastModifiedTime(dir.resolve("model.safetensors")), "a current cache is reused");
        }
        // a different architecture under the same name is stale: rewritten
        Architecture deeper = new Architecture(DIT.name(), ModelFamily.DIT, 3, 64, 4, 2, 4, 8, 1, 0, 0, 10, false);
        assertFalse(RandomCheckpoint.isCurrent(deeper, tmp.resolve(DIT.name())));
        try (Denoiser model = ModelLoader.load(RandomCheckpoint.ensure(deeper, tmp, System.err))) {
            assertEquals(3, model.info().depth());
        }
    }
}
