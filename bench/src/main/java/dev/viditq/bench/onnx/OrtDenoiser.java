package dev.viditq.bench.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelInfo;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An exported graph ({@link OnnxExport}) run by ONNX Runtime, behind the same {@link Denoiser} interface as our
 * models, so samplers, guidance and the benchmark loop treat both alike. Session options: intra-op threads as given,
 * inter-op 1, sequential execution, all graph optimisations.
 */
public final class OrtDenoiser implements Denoiser {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final ModelInfo info;
    private final Tensor nullCaption;
    private final int threads;

    /**
     * @param info        the exported model's facts (from our loader)
     * @param nullCaption the learned null caption [L, Dt] or null
     */
    public OrtDenoiser(Path onnxFile, ModelInfo info, Tensor nullCaption, int threads) {
        this.info = info;
        this.nullCaption = nullCaption;
        this.threads = threads;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(onnxFile.toString(), opts);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load " + onnxFile + ": " + e.getMessage(), e);
        }
    }

    /** ONNX Runtime's version and the session's thread settings, for reports. */
    public String describe() {
        return "onnxruntime " + env.getVersion() + " (Java API, CPU EP; intra-op threads " + threads
                + ", inter-op 1, sequential, ORT_ENABLE_ALL)";
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        int batch = x.size(0);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("x", floats(x.toF32(), x.shape()));
            inputs.put("timestep", floats(broadcast(timesteps, batch), new long[]{batch}));
            if (info.numClasses() > 0) {
                inputs.put("class_labels", labels(cond.classLabels(), batch));
            } else {
                addCaption(inputs, cond, batch);
            }
            try (OrtSession.Result result = session.run(inputs)) {
                OnnxTensor out = (OnnxTensor) result.get(0);
                long[] shape = out.getInfo().getShape();
                FloatBuffer fb = out.getFloatBuffer();
                float[] values = new float[fb.remaining()];
                fb.get(values);
                return Tensor.of(values, shape);
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private void addCaption(Map<String, OnnxTensor> inputs, Conditioning cond, int batch) throws OrtException {
        Tensor caption = cond.caption().toF32();
        int tokens = info.captionTokens(), width = info.captionChannels();
        if (caption.numel() != (long) batch * tokens * width) {
            throw new IllegalArgumentException("the exported graph takes captions [" + batch + ", " + tokens + ", " + width + "], got " + caption);
        }
        inputs.put("caption", floats(caption, new long[]{batch, tokens, width}));
        float[] mask = new float[batch * tokens];
        if (cond.captionMask() == null) {
            java.util.Arrays.fill(mask, 1f);
        } else {
            Tensor m = cond.captionMask();
            long rows = m.numel() / tokens;
            for (int i = 0; i < mask.length; i++) mask[i] = m.getFloat((i / tokens) % rows * tokens + i % tokens) != 0 ? 1f : 0f;
        }
        inputs.put("caption_mask", OnnxTensor.createTensor(env, FloatBuffer.wrap(mask), new long[]{batch, tokens}));
        if (info.microConditions()) {
            inputs.put("img_hw", OnnxTensor.createTensor(env, FloatBuffer.wrap(tile(cond.imageHw(), batch, 2)), new long[]{batch, 2}));
            inputs.put("aspect_ratio", OnnxTensor.createTensor(env, FloatBuffer.wrap(tile(cond.aspectRatio(), batch, 1)), new long[]{batch, 1}));
        }
    }

    private OnnxTensor floats(Tensor t, long[] shape) throws OrtException {
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), shape);
    }

    private OnnxTensor labels(Tensor labels, int batch) throws OrtException {
        long[] v = new long[batch];
        for (int i = 0; i < batch; i++) v[i] = (long) labels.getFloat(i % labels.numel());
        return OnnxTensor.createTensor(env, LongBuffer.wrap(v), new long[]{batch});
    }

    /** Timesteps [1] or [B] as B floats. */
    private static Tensor broadcast(Tensor t, int batch) {
        float[] v = new float[batch];
        for (int i = 0; i < batch; i++) v[i] = t.getFloat(t.numel() == 1 ? 0 : i);
        return Tensor.of(v, batch);
    }

    /** Rows of {@code width} values, repeated to fill {@code batch} rows (conditioning may tile the batch). */
    private static float[] tile(Tensor t, int batch, int width) {
        if (t == null) throw new IllegalArgumentException("this model needs micro-conditions (img_hw, aspect_ratio)");
        float[] out = new float[batch * width];
        long n = t.numel();
        for (int i = 0; i < out.length; i++) out[i] = t.getFloat(i % n);
        return out;
    }

    @Override
    public Map<String, Linear> linears() {
        return Map.of(); // executed by ONNX Runtime: nothing to swap
    }

    @Override
    public Optional<Tensor> nullCaption() {
        return Optional.ofNullable(nullCaption);
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException(e);
        }
    }
}
