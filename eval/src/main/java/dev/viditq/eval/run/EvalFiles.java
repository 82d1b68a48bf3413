package dev.viditq.eval.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.metrics.AlignmentScore;
import dev.viditq.eval.shapes.ImageFiles;
import dev.viditq.nn.media.MediaWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@code ./viditq eval --save DIR} writes:
 * <pre>
 * DIR/samples/000.png ...        each sample at its native size; videos: 000.gif (8 frames per second, for viewing:
 *                                GIF palettes may round colors) and 000-frames.png (the exact frames side by side)
 * DIR/reference/000.png ...      the reference's samples, when there is a reference
 * DIR/contact-sheet.png          the first N samples, 4x upscaled, captioned (videos: first/middle/last frames)
 * DIR/contact-sheet.gif          videos: the same samples animated in one grid
 * DIR/reference-sheet.png        the reference's sheet, same prompts in the same places
 * DIR/samples.tsv                index, alignment hits/total, missed attributes, PSNR to the reference, caption
 * DIR/report.json                the report ({@link EvalReport#toJson})
 * </pre>
 */
public final class EvalFiles {
    public static final double FPS = 8;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private EvalFiles() {}

    public static void save(EvalReport report, Path dir, int sheetCount) {
        try {
            Files.createDirectories(dir);
            List<Sample> samples = report.run().samples();
            writeSamples(samples, dir.resolve("samples"));
            List<String> captions = captions(report);
            if (sheetCount > 0) writeSheets(samples, captions, dir, "contact-sheet", sheetCount);
            if (report.referenceRun() != null) {
                List<Sample> reference = report.referenceRun().samples();
                writeSamples(reference, dir.resolve("reference"));
                if (sheetCount > 0) writeSheets(reference, referenceCaptions(report), dir, "reference-sheet", sheetCount);
            }
            writeTable(report, dir.resolve("samples.tsv"));
            String json = JSON.writeValueAsString(report.toJson()) + System.lineSeparator();
            SafeOutput.write(dir.resolve("report.json"), tmp -> Files.writeString(tmp, json));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the evaluation outputs to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Each sample as NNN.png (images) or NNN.gif + NNN-frames.png (videos) at its native size. */
    public static void writeSamples(List<Sample> samples, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Sample s : samples) {
            String name = String.format(Locale.ROOT, "%03d", s.prompt().index());
            if (s.isImage()) ImageFiles.writePng(s.image(), dir.resolve(name + ".png"), 1);
            else {
                ImageFiles.writeGif(s.video(), dir.resolve(name + ".gif"), 1, (int) Math.round(1000 / FPS));
                ImageFiles.writePng(ImageFiles.filmstrip(s.video()), dir.resolve(name + "-frames.png"), 1);
            }
        }
    }

    /** NAME.png (and for videos NAME.gif) of the first {@code count} samples. */
    public static void writeSheets(List<Sample> samples, List<String> captions, Path dir, String name, int count) {
        int n = Math.min(count, samples.size());
        List<Sample> shown = samples.subList(0, n);
        List<String> shownCaptions = captions.subList(0, n);
        MediaWriter.writePng(dir.resolve(name + ".png"), Sheets.sheet(shown, shownCaptions));
        if (!shown.getFirst().isImage()) MediaWriter.writeGif(dir.resolve(name + ".gif"), Sheets.animatedGrid(shown, shownCaptions), FPS);
    }

    private static List<String> captions(EvalReport r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            AlignmentScore score = r.scores() == null ? null : r.scores().perSample().get(i);
            double psnr = r.fidelity() == null ? Double.NaN : r.fidelity().perSamplePsnr()[i];
            out.add(Sheets.caption(r.run().samples().get(i), score, psnr));
        }
        return out;
    }

    private static List<String> referenceCaptions(EvalReport r) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < r.count(); i++) {
            AlignmentScore score = r.referenceScores() == null ? null : r.referenceScores().perSample().get(i);
            out.add(Sheets.caption(r.referenceRun().samples().get(i), score, Double.NaN));
        }
        return out;
    }

    private static void writeTable(EvalReport r, Path file) throws IOException {
        StringBuilder b = new StringBuilder("index\thits\ttotal\tmissed\tpsnr\tssim\tcaption\n");
        for (int i = 0; i < r.count(); i++) {
            Sample s = r.run().samples().get(i);
            AlignmentScore score = r.scores() == null ? null : r.scores().perSample().get(i);
            b.append(s.prompt().index()).append('\t')
                    .append(score == null ? "" : score.hits()).append('\t')
                    .append(score == null ? "" : score.total()).append('\t')
                    .append(score == null ? "" : ShapesScores.missed(score)).append('\t')
                    .append(r.fidelity() == null ? "" : String.format(Locale.ROOT, "%.3f", r.fidelity().perSamplePsnr()[i])).append('\t')
                    .append(r.fidelity() == null ? "" : String.format(Locale.ROOT, "%.5f", r.fidelity().perSampleSsim()[i])).append('\t')
                    .append(s.prompt().caption()).append('\n');
        }
        SafeOutput.write(file, tmp -> Files.writeString(tmp, b));
    }
}
