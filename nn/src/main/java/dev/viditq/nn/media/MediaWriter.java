package dev.viditq.nn.media;

import dev.viditq.core.io.SafeOutput;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.Codec;
import org.jcodec.common.MuxerTrack;
import org.jcodec.common.VideoCodecMeta;
import org.jcodec.common.VideoEncoder;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.muxer.MP4Muxer;
import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Writes images and videos, chosen by the file extension: {@code .png} (one frame), {@code .gif} (animated,
 * looping forever, javax.imageio), {@code .mp4} (H.264 through the pure-Java jcodec encoder). Every write is
 * atomic: the bytes go to a hidden temporary file beside the target, renamed over it only when complete, so a
 * failure never leaves a truncated file behind.
 */
public final class MediaWriter {
    public enum Format {
        PNG, GIF, MP4;

        /** The format of {@code file}'s extension, or an error naming the supported ones. */
        public static Format of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            int dot = name.lastIndexOf('.');
            String ext = dot < 0 ? "" : name.substring(dot + 1);
            return switch (ext) {
                case "png" -> PNG;
                case "gif" -> GIF;
                case "mp4" -> MP4;
                default -> throw new IllegalArgumentException(file + ": unsupported output extension '" + ext
                        + "' (use .png for images, .gif or .mp4 for videos)");
            };
        }
    }

    private MediaWriter() {}

    /** Writes {@code frames} to {@code file} in the format of its extension; PNG takes exactly one frame. */
    public static void write(Path file, List<BufferedImage> frames, double fps) {
        Format format = Format.of(file);
        if (frames.isEmpty()) throw new IllegalArgumentException(file + ": no frames to write");
        if (!(fps > 0)) throw new IllegalArgumentException(file + ": frame rate must be positive, got " + fps);
        switch (format) {
            case PNG -> {
                if (frames.size() != 1) {
                    throw new IllegalArgumentException(file + ": a PNG holds one image, got " + frames.size()
                            + " frames (use .gif or .mp4 for videos)");
                }
                writePng(file, frames.getFirst());
            }
            case GIF -> writeGif(file, frames, fps);
            case MP4 -> writeMp4(file, frames, fps);
        }
    }

    public static void writePng(Path file, BufferedImage image) {
        atomically(file, tmp -> {
            if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer available");
        });
    }

    /** An animated GIF that loops forever, each frame shown for round(100/fps) hundredths of a second. */
    public static void writeGif(Path file, List<BufferedImage> frames, double fps) {
        int delayCs = (int) Math.max(1, Math.round(100.0 / fps));
        atomically(file, tmp -> {
            Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("gif");
            if (!writers.hasNext()) throw new IOException("no GIF writer available");
            ImageWriter writer = writers.next();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
                writer.setOutput(out);
                writer.prepareWriteSequence(null);
                ImageWriteParam param = writer.getDefaultWriteParam();
                for (int i = 0; i < frames.size(); i++) {
                    BufferedImage frame = frames.get(i);
                    IIOMetadata meta = gifFrameMetadata(writer, frame, param, delayCs, i == 0);
                    writer.writeToSequence(new IIOImage(frame, null, meta), param);
                }
                writer.endWriteSequence();
            } finally {
                writer.dispose();
            }
        });
    }

    /** Frame metadata: the delay on every frame, the NETSCAPE2.0 loop-forever block on the first. */
    private static IIOMetadata gifFrameMetadata(ImageWriter writer, BufferedImage frame, ImageWriteParam param,
                                                int delayCs, boolean first) throws IOException {
        IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), param);
        String format = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "none");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", "FALSE");
        gce.setAttribute("delayTime", Integer.toString(delayCs));
        gce.setAttribute("transparentColorIndex", "0");
        if (first) {
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[]{1, 0, 0}); // sub-block 1, loop count 0 = forever
            child(root, "ApplicationExtensions").appendChild(app);
        }
        meta.setFromTree(format, root);
        return meta;
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeName().equalsIgnoreCase(name)) return (IIOMetadataNode) n;
        }
        IIOMetadataNode node = new IIOMetadataNode(name);
        root.appendChild(node);
        return node;
    }

    /**
     * H.264 (jcodec's baseline encoder) in an MP4 container, at {@code fps} (kept to 1/1000 frame/s).
     * Colours are converted here, not by jcodec (whose RGB→YUV420J transform darkens by ~5%): BT.601
     * limited range (Y 16..235, Cb/Cr 16..240), what players assume for a stream that does not say otherwise.
     * Width and height must be even (4:2:0 chroma).
     */
    public static void writeMp4(Path file, List<BufferedImage> frames, double fps) {
        BufferedImage first = frames.getFirst();
        int w = first.getWidth(), h = first.getHeight();
        if (w % 2 != 0 || h % 2 != 0) {
            throw new IllegalArgumentException(file + ": MP4 (4:2:0) needs an even width and height, got " + w + "x" + h
                    + " (write a .gif instead)");
        }
        for (BufferedImage f : frames) {
            if (f.getWidth() != w || f.getHeight() != h) throw new IllegalArgumentException(file + ": video frames differ in size");
        }
        int timescale = (int) Math.round(fps * 1000);
        atomically(file, tmp -> {
            try (SeekableByteChannel ch = NIOUtils.writableChannel(tmp.toFile())) {
                MP4Muxer muxer = MP4Muxer.createMP4MuxerToChannel(ch);
                H264Encoder encoder = H264Encoder.createH264Encoder();
                // the encoder only accepts pictures labelled YUV420J; the samples are limited-range (see above)
                MuxerTrack track = muxer.addVideoTrack(Codec.H264,
                        VideoCodecMeta.createSimpleVideoCodecMeta(new Size(w, h), ColorSpace.YUV420J));
                ByteBuffer buffer = ByteBuffer.allocate(Math.max(1 << 16, w * h * 4));
                for (int i = 0; i < frames.size(); i++) {
                    buffer.clear();
                    VideoEncoder.EncodedFrame encoded = encoder.encodeFrame(Yuv.bt601Limited(frames.get(i)), buffer);
                    track.addFrame(Packet.createPacket(NIOUtils.clone(encoded.getData()), (long) i * 1000, timescale, 1000, i,
                            encoded.isKeyFrame() ? Packet.FrameType.KEY : Packet.FrameType.INTER, null));
                }
                muxer.finish();
            }
        });
    }

    /** Something that writes a complete file at the given path. */
    @FunctionalInterface
    public interface FileBody {
        void writeTo(Path tmp) throws IOException;
    }

    /**
     * Runs {@code body} on a temporary file beside the target and renames it over {@code target} when it succeeds
     * ({@link SafeOutput}); on failure the temporary file is removed and the target left as it was.
     */
    public static void atomically(Path target, FileBody body) {
        try {
            SafeOutput.write(target, body::writeTo);
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
        }
    }
}
