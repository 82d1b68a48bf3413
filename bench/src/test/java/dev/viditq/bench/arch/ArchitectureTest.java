package dev.viditq.bench.arch;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.testing.GoldenFolder;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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
        for (Architecture arch : new Architecture[]{PIXART_MS, STDIT, DIT}) {
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
