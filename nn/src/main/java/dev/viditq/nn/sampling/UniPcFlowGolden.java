package dev.viditq.nn.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.Safetensors;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.parity.GoldenCase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The golden folder {@code schedulers/unipc_flow}: whole UniPC trajectories with classifier-free guidance as
 * WanPipeline runs them, one run per entry of config.json (its {@code scheduler} member is the
 * scheduler_config.json, the rest the run's settings). The model is the pseudo-model of the scheduler cases,
 * v = ε(x, t, c) with c the caption's constant value ({@link PseudoModel#eps}), guided as
 * v_u + g·(v_c − v_u). Each run yields {@code RUN_timesteps} (must match exactly), {@code RUN_sigmas} (float32) and
 * {@code RUN_traj} (the latent after every step).
 */
public final class UniPcFlowGolden implements GoldenCase {
    @Override public String folderName() { return "schedulers/unipc_flow"; }
    @Override public double tolerance() { return 1e-5; }

    /** One run's results next to what the reference recorded. */
    record Run(String name, long[] timesteps, long[] refTimesteps, float[] sigmas, float[] refSigmas,
               float[] trajectory, float[] refTrajectory) {}

    @Override
    public List<Comparison> run(Path caseDir) throws Exception {
        List<Comparison> out = new ArrayList<>();
        for (Run r : runs(caseDir)) {
            out.add(new Comparison(r.name() + "_timesteps", GoldenCase.relErr(toFloats(r.timesteps()), toFloats(r.refTimesteps()))));
            out.add(new Comparison(r.name() + "_sigmas", GoldenCase.relErr(r.sigmas(), r.refSigmas())));
            out.add(new Comparison(r.name() + "_traj", GoldenCase.relErr(r.trajectory(), r.refTrajectory())));
        }
        return out;
    }

    /** Every run of the folder, sampled. */
    static List<Run> runs(Path caseDir) throws Exception {
        JsonNode config = DiffusersSchedulerConfig.parse(Files.readString(caseDir.resolve("config.json")));
        List<Run> runs = new ArrayList<>();
        try (Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            for (var entry : config.properties()) runs.add(run(entry.getKey(), entry.getValue(), io));
        }
        return runs;
    }

    private static Run run(String name, JsonNode cfg, Safetensors io) {
        UniPcFlowSampler sampler = DiffusersSchedulerConfig.unipcFlow(cfg.path("scheduler"));
        int steps = requireInt(name, cfg, "num_inference_steps");
        double scale = cfg.path("guidance_scale").asDouble(Double.NaN);
        double cond = cfg.path("cond_value").asDouble(Double.NaN), uncond = cfg.path("uncond_value").asDouble(Double.NaN);
        if (Double.isNaN(scale) || Double.isNaN(cond) || Double.isNaN(uncond)) {
            throw new IllegalArgumentException("config.json run '" + name + "' lacks guidance_scale, cond_value or uncond_value");
        }
        Tensor xT = io.get(name + "_x_T").toF32();
        ModelFunction guided = (x, step) -> {
            float[] v = x.toFloatArray(), g = new float[v.length];
            double t = step.modelTime();
            for (int i = 0; i < v.length; i++) {
                double vu = PseudoModel.eps(v[i], t, uncond), vc = PseudoModel.eps(v[i], t, cond);
                g[i] = (float) (vu + scale * (vc - vu));
            }
            return Tensor.of(g, x.shape());
        };
        List<float[]> latents = new ArrayList<>();
        sampler.sample(guided, xT, steps, shape -> { throw new IllegalStateException("UniPC drew noise"); },
                (step, latent) -> latents.add(latent.toFloatArray()));
        Tensor refTimesteps = io.get(name + "_timesteps");
        long[] ref = new long[Math.toIntExact(refTimesteps.numel())];
        for (int i = 0; i < ref.length; i++) ref[i] = refTimesteps.getLong(i);
        return new Run(name, sampler.timesteps(steps), ref, sampler.sigmas(steps), io.get(name + "_sigmas").toFloatArray(),
                concat(latents), io.get(name + "_traj").toFloatArray());
    }

    private static int requireInt(String run, JsonNode cfg, String field) {
        JsonNode n = cfg.get(field);
        if (n == null || !n.canConvertToInt()) throw new IllegalArgumentException("config.json run '" + run + "' lacks an integer " + field);
        return n.intValue();
    }

    private static float[] concat(List<float[]> parts) {
        float[] out = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static float[] toFloats(long[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i];
        return out;
    }

    static boolean sameTimesteps(Run r) {
        return Arrays.equals(r.timesteps(), r.refTimesteps());
    }
}
