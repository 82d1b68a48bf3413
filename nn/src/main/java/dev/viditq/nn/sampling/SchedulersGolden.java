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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The golden folder {@code schedulers}: whole sampler trajectories of diffusers' DPM-Solver++ and DDIM, PixArt's
 * DPM-Solver++ with CFG, and DiT's respaced IDDPM, each driven by the pseudo-model of its NOTE.txt
 * ({@link PseudoModel}).
 * Step counts, shapes and scheduler settings come from config.json and io.safetensors; a section missing from
 * config.json is skipped, an unknown one is an error.
 */
public final class SchedulersGolden implements GoldenCase {
    private static final Pattern LINSPACE = Pattern.compile("linspace\\(([^,]+),([^,]+),([^)]+)\\)");

    @Override public String folderName() { return "schedulers"; }
    @Override public double tolerance() { return 1e-5; }

    @Override
    public List<Comparison> run(Path caseDir) throws Exception {
        JsonNode config = DiffusersSchedulerConfig.parse(Files.readString(caseDir.resolve("config.json")));
        List<Comparison> out = new ArrayList<>();
        try (Safetensors io = Safetensors.open(caseDir.resolve("io.safetensors"))) {
            Tensor xT = io.get("x_T").toF32();
            for (var section : config.properties()) {
                JsonNode cfg = section.getValue();
                switch (section.getKey()) {
                    case "diffusers_dpmpp" -> out.addAll(diffusersTrajectory("diffusers_dpmpp",
                            DiffusersSchedulerConfig.dpmSolver(cfg), io, xT));
                    case "diffusers_ddim" -> out.addAll(diffusersTrajectory("diffusers_ddim",
                            DiffusersSchedulerConfig.ddim(cfg), io, xT));
                    case "pixart_dpmpp" -> out.addAll(pixart(cfg, io, xT));
                    case "dit_iddpm" -> out.addAll(ditIddpm(cfg, io, xT));
                    default -> throw new IllegalArgumentException("config.json section '" + section.getKey() + "' has no handler");
                }
            }
        }
        return out;
    }

    private static Tensor pseudoModel(Tensor x, double t, double c) {
        return PseudoModel.eps(x, t, c, false);
    }

    /** {@code NAME_traj} [steps, ...] holds x after each step; {@code NAME_timesteps} the scheduler's timesteps. */
    private static List<Comparison> diffusersTrajectory(String name, Sampler sampler, Safetensors io, Tensor xT) {
        Tensor ref = io.get(name + "_traj").toF32();
        int steps = ref.size(0);
        Recorder rec = new Recorder();
        sampler.sample((x, step) -> pseudoModel(x, step.modelTime(), 0), xT, steps, unusedNoise(), rec);
        return List.of(
                new Comparison(name + "_timesteps", GoldenCase.relErr(rec.times(), io.get(name + "_timesteps").toF32().toFloatArray())),
                new Comparison(name + "_traj", GoldenCase.relErr(rec.latents(), ref.toFloatArray())));
    }

    /** PixArt's DPMS with classifier-free guidance on constant condition tensors. */
    private static List<Comparison> pixart(JsonNode cfg, Safetensors io, Tensor xT) {
        requireText(cfg, "skip_type", "time_uniform");
        requireText(cfg, "method", "multistep");
        int steps = cfg.path("steps").asInt();
        double scale = cfg.path("guidance_scale").asDouble();
        double cond = cfg.path("cond_value").asDouble(), uncond = cfg.path("uncond_value").asDouble();
        PixArtDpmSolver sampler = new PixArtDpmSolver(schedule(cfg.path("betas").asText()), cfg.path("order").asInt());
        ModelFunction guided = (x, step) -> {
            float[] u = pseudoModel(x, step.modelTime(), uncond).toFloatArray();
            float[] c = pseudoModel(x, step.modelTime(), cond).toFloatArray();
            float[] g = new float[u.length];
            for (int i = 0; i < g.length; i++) g[i] = (float) (u[i] + scale * ((double) c[i] - u[i]));
            return Tensor.of(g, x.shape());
        };
        Recorder rec = new Recorder();
        Tensor result = sampler.sample(guided, xT, steps, unusedNoise(), rec);
        return List.of(
                new Comparison("pixart_dpmpp_model_t", GoldenCase.relErr(rec.times(), io.get("pixart_dpmpp_model_t").toF32().toFloatArray())),
                new Comparison("pixart_dpmpp_out", GoldenCase.relErr(result.toFloatArray(), io.get("pixart_dpmpp_out").toF32().toFloatArray())));
    }

    /** DiT's p_sample_loop with a learned-sigma model cat([ε, tanh(x)]) and the recorded per-step noises. */
    private static List<Comparison> ditIddpm(JsonNode cfg, Safetensors io, Tensor xT) {
        if (!cfg.path("model").asText().equals("cat([eps, tanh(x)])")) {
            throw new IllegalArgumentException("dit_iddpm: pseudo-model '" + cfg.path("model").asText() + "' is not the one this handler implements");
        }
        if (cfg.path("clip_denoised").asBoolean(false)) throw new IllegalArgumentException("dit_iddpm: clip_denoised=true is not supported");
        int steps;
        try {
            steps = Integer.parseInt(cfg.path("respacing").asText().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dit_iddpm: respacing '" + cfg.path("respacing").asText() + "' is not a single step count");
        }
        boolean learned = cfg.path("learn_sigma").asBoolean(true);
        IddpmSampler sampler = new IddpmSampler(NoiseSchedule.DEFAULT,
                learned ? IddpmSampler.Variance.LEARNED_RANGE : IddpmSampler.Variance.FIXED_LARGE);
        ModelFunction model = (x, step) -> {
            Tensor eps = pseudoModel(x, step.modelTime(), 0);
            return learned ? PseudoModel.withTanhVariance(eps, x) : eps;
        };
        Tensor noises = io.get("dit_iddpm_noises").toF32();
        int[] drawn = {0};
        GaussianNoise replay = shape -> {
            if (drawn[0] >= noises.size(0)) throw new IllegalStateException("sampler drew more noises than recorded");
            Tensor z = noises.sliceRows(drawn[0], drawn[0] + 1).reshape(shape);
            drawn[0]++;
            return z;
        };
        Recorder rec = new Recorder();
        Tensor result = sampler.sample(model, xT, steps, replay, rec);
        if (drawn[0] != noises.size(0)) {
            throw new IllegalStateException("sampler drew " + drawn[0] + " noises, the reference " + noises.size(0));
        }
        return List.of(
                new Comparison("dit_iddpm_model_t", GoldenCase.relErr(rec.times(), io.get("dit_iddpm_model_t").toF32().toFloatArray())),
                new Comparison("dit_iddpm_out", GoldenCase.relErr(result.toFloatArray(), io.get("dit_iddpm_out").toF32().toFloatArray())));
    }

    private static NoiseSchedule schedule(String betas) {
        Matcher m = LINSPACE.matcher(betas.replace(" ", ""));
        if (!m.matches()) throw new IllegalArgumentException("betas '" + betas + "' is not linspace(start,end,n)");
        return new NoiseSchedule(Integer.parseInt(m.group(3)), Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)));
    }

    private static void requireText(JsonNode cfg, String field, String value) {
        if (!cfg.path(field).asText(value).equals(value)) {
            throw new IllegalArgumentException(field + " '" + cfg.path(field).asText() + "' is not supported (only " + value + ")");
        }
    }

    private static GaussianNoise unusedNoise() {
        return shape -> { throw new IllegalStateException("a deterministic sampler asked for noise"); };
    }

    /** Collects the model time and the latent of every step, flattened in order. */
    private static final class Recorder implements StepListener {
        private final List<Float> times = new ArrayList<>();
        private float[] latents = new float[0];

        @Override
        public void stepDone(Step step, Tensor latent) {
            times.add((float) step.modelTime());
            float[] v = latent.toFloatArray();
            int old = latents.length;
            latents = Arrays.copyOf(latents, old + v.length);
            System.arraycopy(v, 0, latents, old, v.length);
        }

        float[] times() {
            float[] out = new float[times.size()];
            for (int i = 0; i < out.length; i++) out[i] = times.get(i);
            return out;
        }

        float[] latents() {
            return latents;
        }
    }
}
