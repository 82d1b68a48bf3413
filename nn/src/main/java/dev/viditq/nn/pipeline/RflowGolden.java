package dev.viditq.nn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Conditioning;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;
import dev.viditq.nn.models.ModelInfo;
import dev.viditq.nn.parity.GoldenCase;
import dev.viditq.nn.sampling.PseudoModel;
import dev.viditq.nn.sampling.RectifiedFlowSampler;
import dev.viditq.nn.sampling.StepListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The golden folder {@code schedulers/rflow}: Open-Sora 1.2's {@code RFLOW.sample} — classifier-free guidance and the
 * resolution/frame-count timestep transform — as whole trajectories, one run per config.json entry, driven by the
 * velocity pseudo-model of its NOTE.txt ({@link PseudoModel}, v = −ε, output cat([v, tanh(x)]) like STDiT3 with
 * pred_sigma). The run goes through what generation uses: {@link GuidedModel} with the family's
 * {@link CfgConvention} around {@link RectifiedFlowSampler}. Compared per run: {@code RUN_traj} (z after every step)
 * and {@code RUN_model_t} (the t of every model call, conditional rows then null rows).
 */
public final class RflowGolden implements GoldenCase {
    @Override public String folderName() { return "schedulers/rflow"; }
    @Override public double tolerance() { return 1e-5; }

    @Override
    public List<Comparison> run(Path caseDir) throws Exception {
        JsonNode config = new ObjectMapper().readTree(Files.readString(caseDir.resolve("config.json")));
        List<Comparison> out = new ArrayList<>();
        try (Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            for (Map.Entry<String, JsonNode> run : config.properties()) out.addAll(run(run.getKey(), run.getValue(), io));
        }
        return out;
    }

    private static List<Comparison> run(String name, JsonNode cfg, Safetensors io) {
        Tensor xT = io.get(name + "_x_T").toF32();
        checkShape(name, cfg, xT);
        int steps = required(cfg, name, "num_sampling_steps").asInt();
        int height = required(cfg, name, "height").asInt(), width = required(cfg, name, "width").asInt();
        int frames = required(cfg, name, "num_frames").asInt();
        double shift = required(cfg, name, "use_timestep_transform").asBoolean()
                ? RectifiedFlowSampler.openSoraShift(height, width, frames) : 1.0;
        RectifiedFlowSampler sampler = new RectifiedFlowSampler(required(cfg, name, "num_timesteps").asInt(), shift,
                cfg.path("use_discrete_timesteps").asBoolean(false));

        int batch = xT.size(0);
        VelocityPseudoModel model = new VelocityPseudoModel(xT.size(1));
        Conditioning cond = videoConditions(filled(batch, required(cfg, name, "cond_value").asDouble()), height, width, cfg);
        Conditioning uncond = videoConditions(filled(batch, required(cfg, name, "uncond_value").asDouble()), height, width, cfg);
        GuidedModel guided = new GuidedModel(model, cond, uncond, required(cfg, name, "cfg_scale").asDouble(),
                model.info().guidance(sampler.name()), GuidedModel.Batching.BATCHED);
        List<float[]> trajectory = new ArrayList<>();
        StepListener record = (step, latent) -> trajectory.add(latent.toFloatArray());
        sampler.sample(guided, xT, steps, shape -> { throw new IllegalStateException("rflow asked for noise"); }, record);
        return List.of(
                new Comparison(name + "_traj", GoldenCase.relErr(flatten(trajectory), io.get(name + "_traj").toF32().toFloatArray())),
                new Comparison(name + "_model_t", GoldenCase.relErr(bothHalves(model.calls, batch),
                        io.get(name + "_model_t").toF32().toFloatArray())));
    }

    /**
     * The t of every row of every call, [cond | null] per step. At cfg_scale 1 {@link GuidedModel} makes the
     * conditional call only (u + 1·(c − u) = c); the official call on cat([z, z]) would have carried the same t on its
     * null rows, so those rows are the conditional ones repeated.
     */
    private static float[] bothHalves(List<float[]> calls, int batch) {
        List<float[]> rows = new ArrayList<>();
        for (float[] call : calls) {
            rows.add(call);
            if (call.length == batch) rows.add(call);
        }
        return flatten(rows);
    }

    private static void checkShape(String name, JsonNode cfg, Tensor xT) {
        JsonNode z = cfg.path("z_shape");
        if (z.isArray()) {
            long[] stated = new long[z.size()];
            for (int i = 0; i < stated.length; i++) stated[i] = z.get(i).asLong();
            if (!Arrays.equals(stated, xT.shape())) {
                throw new IllegalArgumentException(name + ": z_shape " + Arrays.toString(stated) + " but " + name + "_x_T is "
                        + Arrays.toString(xT.shape()));
            }
        }
    }

    private static JsonNode required(JsonNode cfg, String run, String field) {
        JsonNode v = cfg.get(field);
        if (v == null || v.isNull()) throw new IllegalArgumentException("config.json run '" + run + "' has no '" + field + "'");
        return v;
    }

    /** A caption tensor [B, 1, 1] of one value: the pseudo-model's c is the mean of its row. */
    private static Tensor filled(int batch, double value) {
        float[] v = new float[batch];
        Arrays.fill(v, (float) value);
        return Tensor.of(v, batch, 1, 1);
    }

    /** The additional_args RFLOW passes to the model (height, width, fps); the pseudo-model ignores them. */
    private static Conditioning videoConditions(Tensor caption, int height, int width, JsonNode cfg) {
        int batch = caption.size(0);
        float[] hw = new float[2 * batch], fps = new float[batch];
        for (int b = 0; b < batch; b++) {
            hw[2 * b] = height;
            hw[2 * b + 1] = width;
            fps[b] = (float) cfg.path("fps").asDouble(24);
        }
        return Conditioning.caption(caption, null).withVideoConditions(Tensor.of(hw, batch, 2), Tensor.of(fps, batch));
    }

    private static float[] flatten(List<float[]> parts) {
        int n = parts.stream().mapToInt(p -> p.length).sum(), at = 0;
        float[] out = new float[n];
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /**
     * The NOTE.txt model as an Open-Sora 1.2 denoiser: per row, v(x, t, c) with c the mean of that row's caption,
     * and tanh(x) as the learned-sigma channels. Records the t of every row of every call.
     */
    private static final class VelocityPseudoModel implements Denoiser {
        private final ModelInfo info;
        final List<float[]> calls = new ArrayList<>();

        VelocityPseudoModel(int channels) {
            info = ModelInfo.builder(ModelFamily.STDIT3).inChannels(channels).outChannels(2 * channels).patchSize(1)
                    .frames(0).hidden(1).depth(1).heads(1).captionChannels(1).build();
        }

        @Override public ModelInfo info() { return info; }
        @Override public Map<String, Linear> linears() { return Map.of(); }
        @Override public void close() { }

        @Override
        public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
            int batch = x.size(0);
            long perRow = x.numel() / batch;
            float[] out = new float[Math.toIntExact(2 * x.numel())];
            float[] times = new float[batch];
            calls.add(times);
            for (int b = 0; b < batch; b++) {
                double t = timesteps.getFloat(timesteps.numel() == 1 ? 0 : b);
                times[b] = (float) t;
                Tensor row = x.sliceRows(b, b + 1);
                Tensor v = PseudoModel.withTanhVariance(PseudoModel.eps(row, t, rowMean(cond.caption(), b), true), row);
                System.arraycopy(v.toFloatArray(), 0, out, Math.toIntExact(2 * b * perRow), Math.toIntExact(2 * perRow));
            }
            long[] shape = x.shape();
            shape[1] *= 2;
            return Tensor.of(out, shape);
        }

        private static double rowMean(Tensor caption, int row) {
            long n = caption.numel() / caption.size(0);
            double sum = 0;
            for (long i = 0; i < n; i++) sum += caption.getFloat(row * n + i);
            return sum / n;
        }
    }
}
