package dev.viditq.eval.shapes;

import dev.viditq.core.io.SafeOutput;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** PNG and animated GIF files for {@link RgbImage} and {@link RgbVideo}, optionally upscaled (nearest neighbour) for viewing. */
public final class ImageFiles {
    private ImageFiles() {}

    public static void writePng(RgbImage image, Path file, int scale) {
        try {
            SafeOutput.write(file, tmp -> {
                if (!ImageIO.write(toBuffered(image, scale), "png", tmp.toFile())) throw new IOException("no PNG writer");
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a PNG (or any format ImageIO knows) as RGB in [0, 1]; alpha is ignored. */
    public static RgbImage readPng(Path file) {
        BufferedImage b;
        try {
            b = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (b == null) throw new IllegalArgumentException(file + " is not an image ImageIO can read");
        float[] d = new float[b.getWidth() * b.getHeight() * 3];
        for (int y = 0; y < b.getHeight(); y++) {
            for (int x = 0; x < b.getWidth(); x++) {
                int argb = b.getRGB(x, y), i = (y * b.getWidth() + x) * 3;
                d[i] = ((argb >> 16) & 0xFF) / 255f;
                d[i + 1] = ((argb >> 8) & 0xFF) / 255f;
                d[i + 2] = (argb & 0xFF) / 255f;
            }
        }
        return new RgbImage(b.getWidth(), b.getHeight(), d);
    }

    /** An endlessly looping animated GIF, {@code delayMs} per frame (GIF stores hundredths of a second). */
    public static void writeGif(RgbVideo video, Path file, int scale, int delayMs) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        try {
            SafeOutput.write(file, tmp -> {
                try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
                    writer.setOutput(out);
                    writer.prepareWriteSequence(null);
                    for (RgbImage frame : video.frames()) {
                        BufferedImage b = toBuffered(frame, scale);
                        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(b), null);
                        animate(meta, delayMs);
                        writer.writeToSequence(new IIOImage(b, null, meta), null);
                    }
                    writer.endWriteSequence();
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            writer.dispose();
        }
    }

    private static void animate(IIOMetadata meta, int delayMs) throws IOException {
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode control = new IIOMetadataNode("GraphicControlExtension");
        control.setAttribute("disposalMethod", "none");
        control.setAttribute("userInputFlag", "FALSE");
        control.setAttribute("transparentColorFlag", "FALSE");
        control.setAttribute("delayTime", Integer.toString(Math.max(1, delayMs / 10)));
        control.setAttribute("transparentColorIndex", "0");
        root.appendChild(control);
        IIOMetadataNode apps = new IIOMetadataNode("ApplicationExtensions");
        IIOMetadataNode loop = new IIOMetadataNode("ApplicationExtension");
        loop.setAttribute("applicationID", "NETSCAPE");
        loop.setAttribute("authenticationCode", "2.0");
        loop.setUserObject(new byte[]{1, 0, 0}); // loop forever
        apps.appendChild(loop);
        root.appendChild(apps);
        meta.setFromTree(format, root);
    }

    /** The frames side by side, left to right, one column of mid gray between neighbours: a video as one picture. */
    public static RgbImage filmstrip(RgbVideo video) {
        int w = video.width(), h = video.height(), n = video.length(), stripWidth = n * (w + 1) - 1;
        RgbImage strip = RgbImage.filled(stripWidth, h, new float[]{0.5f, 0.5f, 0.5f});
        for (int t = 0; t < n; t++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(video.frame(t).data(), y * w * 3, strip.data(), (y * stripWidth + t * (w + 1)) * 3, w * 3);
            }
        }
        return strip;
    }

    static BufferedImage toBuffered(RgbImage img, int scale) {
        if (scale < 1) throw new IllegalArgumentException("scale must be >= 1, got " + scale);
        BufferedImage b = new BufferedImage(img.width() * scale, img.height() * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < b.getHeight(); y++) {
            for (int x = 0; x < b.getWidth(); x++) {
                int sx = x / scale, sy = y / scale;
                int r = u8(img.get(sx, sy, 0)), g = u8(img.get(sx, sy, 1)), bl = u8(img.get(sx, sy, 2));
                b.setRGB(x, y, (r << 16) | (g << 8) | bl);
            }
        }
        return b;
    }

    private static int u8(float v) {
        return Math.round(Math.clamp(v, 0f, 1f) * 255f);
    }

}
