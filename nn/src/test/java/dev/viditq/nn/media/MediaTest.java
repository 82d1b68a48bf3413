package dev.viditq.nn.media;

import dev.viditq.core.tensor.Tensor;
import org.jcodec.api.FrameGrab;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class MediaTest {
    @Test
    void pixelMappingClampsAndRoundsHalfToEven() {
        assertEquals(0, Frames.toByte(-1f));
        assertEquals(0, Frames.toByte(-3f));
        assertEquals(255, Frames.toByte(1f));
        assertEquals(255, Frames.toByte(7f));
        assertEquals(128, Frames.toByte(0f)); // 127.5 → 128 (even)
        assertEquals(64, Frames.toByte(-0.5f)); // 63.75 → 64
    }

    @Test
    void imageAndVideoLayouts() {
        // [1, 3, 2, 3, 2]: channel-major, then frame, row, column
        float[] v = new float[3 * 2 * 3 * 2];
        for (int i = 0; i < v.length; i++) v[i] = -1f + 2f * i / (v.length - 1);
        Tensor video = Tensor.of(v, 1, 3, 2, 3, 2);
        List<BufferedImage> frames = Frames.video(video, 0);
        assertEquals(2, frames.size());
        int rgb = frames.get(1).getRGB(1, 2); // frame 1, row 2, column 1 → offset 6 + 4 + 1 = 11 in each channel
        assertEquals(Frames.toByte(v[11]), (rgb >> 16) & 0xFF);
        assertEquals(Frames.toByte(v[12 + 11]), (rgb >> 8) & 0xFF);
        assertEquals(Frames.toByte(v[24 + 11]), rgb & 0xFF);
        Tensor images = Tensor.of(new float[2 * 1 * 2 * 2], 2, 1, 2, 2); // grey
        assertEquals(0x808080, Frames.image(images, 1).getRGB(0, 0) & 0xFFFFFF);
        assertThrows(IllegalArgumentException.class, () -> Frames.image(Tensor.zeros(1, 2, 4, 4), 0), "2 channels");
    }

    private static BufferedImage pattern(int w, int h, int seed) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, ((x * 8 + seed * 40) & 0xFF) << 16 | ((y * 8) & 0xFF) << 8 | ((x + y) * 4 & 0xFF));
            }
        }
        return img;
    }

    @Test
    void pngRoundTripsExactly(@TempDir Path dir) throws IOException {
        BufferedImage img = pattern(13, 7, 1);
        Path f = dir.resolve("a.png");
        MediaWriter.write(f, List.of(img), 1);
        BufferedImage back = ImageIO.read(f.toFile());
        for (int y = 0; y < 7; y++) for (int x = 0; x < 13; x++) assertEquals(img.getRGB(x, y), back.getRGB(x, y));
        assertOnlyFiles(dir, "a.png");
    }

    @Test
    void gifLoopsForeverWithTheFrameDelay(@TempDir Path dir) throws IOException {
        List<BufferedImage> frames = List.of(solid(Color.RED), solid(Color.GREEN), solid(Color.BLUE));
        Path f = dir.resolve("v.gif");
        MediaWriter.write(f, frames, 8); // 12.5 cs → 13
        try (ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
            reader.setInput(in);
            assertEquals(3, reader.getNumImages(true));
            for (int i = 0; i < 3; i++) {
                assertEquals(frames.get(i).getRGB(5, 5), reader.read(i).getRGB(5, 5), "frame " + i);
                IIOMetadataNode root = (IIOMetadataNode) reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
                IIOMetadataNode gce = (IIOMetadataNode) root.getElementsByTagName("GraphicControlExtension").item(0);
                assertEquals("13", gce.getAttribute("delayTime"));
            }
            IIOMetadataNode first = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
            IIOMetadataNode app = (IIOMetadataNode) first.getElementsByTagName("ApplicationExtension").item(0);
            assertEquals("NETSCAPE", app.getAttribute("applicationID"));
            assertArrayEquals(new byte[]{1, 0, 0}, (byte[]) app.getUserObject());
        }
    }

    private static BufferedImage solid(Color c) {
        BufferedImage img = new BufferedImage(16, 12, BufferedImage.TYPE_INT_RGB);
        var g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, 16, 12);
        g.dispose();
        return img;
    }

    @Test
    void mp4DecodesBackToTheFrames(@TempDir Path dir) throws Exception {
        List<BufferedImage> frames = new ArrayList<>();
        for (int i = 0; i < 4; i++) frames.add(smooth(48, 32, i));
        Path f = dir.resolve("v.mp4");
        MediaWriter.write(f, frames, 8);
        byte[] head = Arrays4.head(f);
        assertEquals("ftyp", new String(head, 4, 4, java.nio.charset.StandardCharsets.US_ASCII));
        try (var ch = NIOUtils.readableChannel(f.toFile())) {
            FrameGrab grab = FrameGrab.createFrameGrab(ch);
            for (int i = 0; i < 4; i++) {
                Picture p = grab.getNativeFrame();
                assertNotNull(p, "frame " + i);
                assertEquals(48, p.getWidth());
                assertEquals(32, p.getHeight());
                double[] err = errors(frames.get(i), p);
                assertTrue(Math.abs(err[0]) < 1.5 && err[1] < 4, "frame " + i + ": mean error " + err[0] + ", mean |error| " + err[1]);
            }
            assertNull(grab.getNativeFrame(), "exactly four frames");
        }
    }

    /** A smooth gradient that moves with {@code t} (H.264 keeps smooth content within a few levels). */
    private static BufferedImage smooth(int w, int h, int t) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = 40 + 3 * x + 10 * t, g = 60 + 4 * y, b = 200 - 2 * x - 2 * y;
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return img;
    }

    /** Mean signed and mean absolute difference (in 8-bit levels) between the frame and the decoded picture. */
    private static double[] errors(BufferedImage a, Picture decoded) {
        double sum = 0, abs = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y), q = Yuv.rgbAt(decoded, x, y);
                for (int s = 0; s < 24; s += 8) {
                    int d = ((q >> s) & 0xFF) - ((p >> s) & 0xFF);
                    sum += d;
                    abs += Math.abs(d);
                }
            }
        }
        double n = 3.0 * a.getWidth() * a.getHeight();
        return new double[]{sum / n, abs / n};
    }

    @Test
    void failedWritesLeaveNothingBehind(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("keep.png");
        MediaWriter.write(f, List.of(pattern(4, 4, 0)), 1);
        byte[] before = Files.readAllBytes(f);
        assertThrows(UncheckedIOException.class, () -> MediaWriter.atomically(f, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertArrayEquals(before, Files.readAllBytes(f), "the old file is untouched");
        assertOnlyFiles(dir, "keep.png");
        var e = assertThrows(IllegalArgumentException.class, () -> MediaWriter.write(dir.resolve("x.jpg"), List.of(pattern(4, 4, 0)), 1));
        assertTrue(e.getMessage().contains(".png"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MediaWriter.write(dir.resolve("x.png"), List.of(pattern(4, 4, 0), pattern(4, 4, 1)), 1));
        assertOnlyFiles(dir, "keep.png");
    }

    private static void assertOnlyFiles(Path dir, String... names) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(names), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void contactSheetPlacesCellsAndCaptions() {
        List<BufferedImage> imgs = List.of(solid(Color.RED), solid(Color.GREEN), solid(Color.BLUE));
        BufferedImage plain = new ContactSheet(2).padding(3).render(imgs);
        assertEquals(3 + 2 * (16 + 3), plain.getWidth());
        assertEquals(3 + 2 * (12 + 3), plain.getHeight());
        assertEquals(Color.GREEN.getRGB(), plain.getRGB(3 + 19 + 1, 3 + 1)); // second cell of the first row
        assertEquals(Color.BLUE.getRGB(), plain.getRGB(3 + 1, 3 + 15 + 1)); // first cell of the second row
        assertEquals(Color.WHITE.getRGB(), plain.getRGB(3 + 19 + 1, 3 + 15 + 1)); // the empty fourth cell

        List<String> caps = List.of("a red square", "green", "a blue square with a long caption that must wrap");
        BufferedImage captioned = new ContactSheet(3).padding(3).captionLines(2).render(imgs, caps);
        assertTrue(captioned.getHeight() > 3 + 12 + 3, "room for captions");
        assertTrue(hasDarkPixelBelow(captioned, 3 + 12 + 3), "caption text drawn under the cells");
        assertThrows(IllegalArgumentException.class, () -> new ContactSheet(2).render(imgs, List.of("one")));
    }

    private static boolean hasDarkPixelBelow(BufferedImage img, int top) {
        for (int y = top; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFF) < 100) return true;
        }
        return false;
    }

    @Test
    void captionsWrapAndEllipsize() {
        var fm = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics()
                .getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
        int width = fm.stringWidth("word word") + 1;
        assertEquals(List.of("word word", "word word"), ContactSheet.wrap(fm, "word word word word", width, 3));
        List<String> cut = ContactSheet.wrap(fm, "word word word word word", width, 2);
        assertEquals(2, cut.size());
        assertTrue(cut.get(1).endsWith("…") && fm.stringWidth(cut.get(1)) <= width, cut.toString());
    }

    /** Reads the first bytes of a file. */
    private static final class Arrays4 {
        static byte[] head(Path f) throws IOException {
            try (var in = Files.newInputStream(f)) {
                return in.readNBytes(8);
            }
        }
    }
}
