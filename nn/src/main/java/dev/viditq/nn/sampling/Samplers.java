package dev.viditq.nn.sampling;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * The samplers by name, as {@code ./viditq generate --sampler NAME} takes them:
 * <ul>
 *   <li>{@code iddpm} — DiT / Open-Sora 1.0 respaced ancestral sampling ({@link IddpmSampler}); stochastic</li>
 *   <li>{@code ddim} — diffusers DDIM, η = 0 ({@link DdimSampler})</li>
 *   <li>{@code dpm-solver} — PixArt's own DPM-Solver++, multistep order 2 ({@link PixArtDpmSolver})</li>
 *   <li>{@code dpmpp-2m} — diffusers DPMSolverMultistepScheduler ({@link DpmSolverMultistepSampler})</li>
 *   <li>{@code rflow} — Open-Sora 1.2 rectified flow ({@link RectifiedFlowSampler}); the model predicts velocity</li>
 * </ul>
 */
public final class Samplers {
    public static final List<String> NAMES = List.of("iddpm", "ddim", "dpm-solver", "dpmpp-2m", "rflow", "unipc");

    /**
     * What a sampler needs to know about the model and run.
     *
     * @param learnedSigma    the model returns 2C channels (ε and variance values): iddpm uses LEARNED_RANGE
     * @param flowShift       rflow's timestep-shift ratio (1 = none; see {@link RectifiedFlowSampler#openSoraShift})
     * @param schedulerConfig a diffusers scheduler_config.json of the model folder, or null; used by ddim and
     *                        dpmpp-2m when it names their scheduler class
     */
    public record Options(boolean learnedSigma, double flowShift, JsonNode schedulerConfig) {
        public static final Options DEFAULT = new Options(true, 1.0, null);
    }

    private Samplers() {}

    /**
     * The sampler a model folder's diffusers {@code scheduler_config.json} asks for ({@code DDIMScheduler} → ddim,
     * {@code DPMSolverMultistepScheduler} → dpmpp-2m), or null when there is none or its class is none of these.
     */
    public static String forSchedulerConfig(JsonNode schedulerConfig) {
        if (schedulerConfig == null) return null;
        return switch (schedulerConfig.path("_class_name").asText("")) {
            case "DDIMScheduler" -> "ddim";
            case "DPMSolverMultistepScheduler" -> "dpmpp-2m";
            case "UniPCMultistepScheduler" -> "unipc";
            default -> null;
        };
    }

    public static Sampler create(String name, Options options) {
        String cls = options.schedulerConfig() == null ? "" : options.schedulerConfig().path("_class_name").asText("");
        return switch (name) {
            case "iddpm" -> new IddpmSampler(NoiseSchedule.DEFAULT,
                    options.learnedSigma() ? IddpmSampler.Variance.LEARNED_RANGE : IddpmSampler.Variance.FIXED_LARGE);
            case "ddim" -> cls.equals("DDIMScheduler")
                    ? DiffusersSchedulerConfig.ddim(options.schedulerConfig()) : new DdimSampler(DdimSampler.Config.DEFAULT);
            case "dpm-solver" -> new PixArtDpmSolver();
            case "dpmpp-2m" -> cls.equals("DPMSolverMultistepScheduler")
                    ? DiffusersSchedulerConfig.dpmSolver(options.schedulerConfig())
                    : new DpmSolverMultistepSampler(DpmSolverMultistepSampler.Config.DEFAULT);
            case "rflow" -> new RectifiedFlowSampler(1000, options.flowShift());
            // Wan's flow UniPC; a folder's scheduler_config.json gives its settings, the family its flow shift
            case "unipc" -> cls.equals("UniPCMultistepScheduler")
                    ? DiffusersSchedulerConfig.unipcFlow(options.schedulerConfig())
                    : new UniPcFlowSampler(UniPcFlowSampler.Config.WAN_480P.withFlowShift(options.flowShift()));
            default -> throw new IllegalArgumentException("unknown sampler '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }
}
