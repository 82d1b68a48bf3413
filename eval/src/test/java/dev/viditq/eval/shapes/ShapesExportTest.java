package dev.viditq.eval.shapes;

import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

class ShapesExportTest {
    @Test
    void trainImagesRoundTrip(@TempDir Path dir) {
        Path file = dir.resolve("train.safetensors");
        ShapesExport.Summary summary = ShapesExport.export(Kind.IMAGE, Split.TRAIN, 300, 9, file);
        assertEquals(300, summary.count());
        try (Safetensors st = Safetensors.open(file)) {
            assertEquals("viditq-shapes/1", st.metadata().get("format"));
            assertEquals("9", st.metadata().get("seed"));
            assertEquals("NHWC", st.metadata().get("pixel_layout"));
            assertContents(st, Kind.IMAGE, ShapesGenerator.prompts(Kind.IMAGE, Split.TRAIN, 300, 9));
        }
    }

    @Test
    void gzippedFixedVideoSplitRoundTrips(@TempDir Path dir) throws IOException {
        Path gz = dir.resolve("calib.safetensors.gz");
        ShapesExport.Summary summary = ShapesExport.export(Kind.VIDEO, Split.CALIB, 16, 0, gz);
        assertTrue(summary.fileBytes() < summary.rawBytes() / 10, "renders compress well: " + summary);
        Path plain = dir.resolve("calib.safetensors");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            Files.copy(in, plain);
        }
        try (Safetensors st = Safetensors.open(plain)) {
            assertEquals("fixed", st.metadata().get("seed"));
            assertEquals("NTHWC", st.metadata().get("pixel_layout"));
            assertContents(st, Kind.VIDEO, ShapesGenerator.fixed(Kind.VIDEO, Split.CALIB, 16));
        }
    }

    @Test
    void rejectsANonPositiveCount(@TempDir Path dir) {
        assertThrows(IllegalArgumentException.class, () -> ShapesExport.export(Kind.IMAGE, Split.TRAIN, 0, 1, dir.resolve("x")));
    }

    /** Every tensor holds what the format documentation says, for every prompt. */
    private static void assertContents(Safetensors st, Kind kind, List<ShapesPrompt> prompts) {
        int n = prompts.size(), frameBytes = 32 * 32 * 3, itemBytes = frameBytes * kind.frames();
        Tensor pixels = st.get("pixels");
        assertEquals(DType.U8, pixels.dtype());
        long[] expectedShape = kind == Kind.IMAGE ? new long[]{n, 32, 32, 3} : new long[]{n, 16, 32, 32, 3};
        assertArrayEquals(expectedShape, pixels.shape());
        Tensor bytes = st.get("caption_bytes"), offsets = st.get("caption_offsets");
        assertArrayEquals(new long[]{n + 1}, offsets.shape());
        Tensor objects = st.get("objects"), centers = st.get("centers"), background = st.get("background"), index = st.get("index");
        assertArrayEquals(new long[]{n, 2, ShapesExport.OBJECT_FIELDS.size()}, objects.shape());
        byte[] expected = new byte[itemBytes];
        for (int i = 0; i < n; i++) {
            ShapesPrompt p = prompts.get(i);
            Renderer.renderU8(p.scene(), expected, 0);
            byte[] actual = pixels.data().asSlice((long) i * itemBytes, itemBytes).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(expected, actual, "pixels of " + i);

            long from = offsets.getLong(i), to = offsets.getLong(i + 1);
            byte[] utf8 = bytes.data().asSlice(from, to - from).toArray(ValueLayout.JAVA_BYTE);
            assertEquals(p.caption(), new String(utf8, StandardCharsets.UTF_8));

            assertEquals(p.index(), index.getLong(i));
            assertEquals(p.scene().background().ordinal(), (int) background.getFloat(i));
            for (int k = 0; k < 2; k++) {
                int[] row = new int[8];
                for (int f = 0; f < 8; f++) row[f] = (int) objects.getFloat((i * 2L + k) * 8 + f);
                if (k >= p.scene().objects().size()) {
                    assertArrayEquals(new int[]{0, -1, -1, -1, -1, -1, -1, -1}, row);
                    continue;
                }
                SceneObject o = p.scene().objects().get(k);
                assertEquals(List.of(1, o.shape().ordinal(), o.color().ordinal(), o.size().ordinal(), o.position().row(),
                        o.position().col(), kind == Kind.VIDEO ? o.direction().ordinal() : -1,
                        kind == Kind.VIDEO ? o.speed().ordinal() : -1), Arrays.stream(row).boxed().toList());
                assertEquals(o.x(), centers.getFloat((i * 2L + k) * 2), 1e-5);
                assertEquals(o.y(), centers.getFloat((i * 2L + k) * 2 + 1), 1e-5);
            }
        }
    }
}
