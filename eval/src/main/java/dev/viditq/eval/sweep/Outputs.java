package dev.viditq.eval.sweep;

import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafetensorsWriter;
import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.DType;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.eval.run.EvalPrompt;
import dev.viditq.eval.run.Sample;
import dev.viditq.eval.shapes.RgbImage;
import dev.viditq.eval.shapes.RgbVideo;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A setting's generated samples, exactly: {@code outputs.safetensors} holds U8 {@code outputs} [N, frames, H, W, 3]
 * (the 8-bit values the analyzer scored) and the prompt indices as metadata. The float setting's file is the
 * reference every other setting's fidelity is measured against, so the float model never has to be resident in the
 * same process as a quantized one (their peak RSS would mix).
 */
final class Outputs {
    static final String FILE = "outputs.safetensors";
    private static final String TENSOR = "outputs", INDICES = "prompt_indices";

    private Outputs() {}

    static void write(List<Sample> samples, Path file) {
        RgbVideo first = samples.getFirst().video();
        int n = samples.size(), frames = first.length(), h = first.height(), w = first.width();
        Tensor t = Tensor.zeros(DType.U8, n, frames, h, w, 3);
        long at = 0;
        StringBuilder indices = new StringBuilder();
        for (Sample s : samples) {
            if (s.video().length() != frames || s.video().height() != h || s.video().width() != w) {
                throw new IllegalArgumentException("sample " + s.prompt().index() + " differs in shape from the first sample");
            }
            for (int f = 0; f < frames; f++) {
                for (float v : s.video().frame(f).data()) t.data().set(ValueLayout.JAVA_BYTE, at++, (byte) Math.round(Math.clamp(v, 0f, 1f) * 255f));
            }
            indices.append(indices.isEmpty() ? "" : ",").append(s.prompt().index());
        }
        SafetensorsWriter.write(file, Map.of(TENSOR, t), Map.of(INDICES, indices.toString())); // atomic itself
    }

    /** The samples of {@code file}, paired with {@code prompts} (which must be the prompts they were made for). */
    static List<Sample> read(Path file, List<EvalPrompt> prompts) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no reference outputs (run the float setting first)");
        try (TensorFile f = Checkpoints.open(file)) {
            Tensor t = f.get(TENSOR);
            String[] indices = f.metadata().getOrDefault(INDICES, "").split(",");
            if (t.rank() != 5 || t.size(0) != prompts.size() || indices.length != prompts.size()) {
                throw new IllegalArgumentException(file + ": holds " + t.size(0) + " outputs, this sweep has " + prompts.size() + " prompts");
            }
            int frames = t.size(1), h = t.size(2), w = t.size(3);
            byte[] all = t.data().toArray(ValueLayout.JAVA_BYTE);
            List<Sample> out = new ArrayList<>(prompts.size());
            int frameBytes = h * w * 3;
            for (int i = 0; i < prompts.size(); i++) {
                if (Integer.parseInt(indices[i]) != prompts.get(i).index()) {
                    throw new IllegalArgumentException(file + ": output " + i + " is of prompt " + indices[i] + ", expected " + prompts.get(i).index());
                }
                List<RgbImage> video = new ArrayList<>(frames);
                for (int fr = 0; fr < frames; fr++) video.add(RgbImage.fromU8(all, (i * frames + fr) * frameBytes, w, h));
                out.add(new Sample(prompts.get(i), new RgbVideo(video)));
            }
            return out;
        }
    }
}
