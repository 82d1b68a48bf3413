package dev.viditq.nn.sampling;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Builds a sampler from a diffusers {@code scheduler_config.json} ({@code DPMSolverMultistepScheduler} or
 * {@code DDIMScheduler}). Every field that is present is checked: a value this toolkit does not implement (karras
 * sigmas, thresholding, v-prediction, ...) or a field it does not know is an error naming the field, never
 * silently ignored. Absent fields take diffusers' defaults. Keys starting with "_" are bookkeeping and skipped.
 */
public final class DiffusersSchedulerConfig {
    /** diffusers writes -Infinity for lambda_min_clipped, which strict JSON forbids. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /** Fields that only matter when a feature this toolkit rejects is on (thresholding, flow sigmas, ...). */
    private static final Set<String> INERT = Set.of("dynamic_thresholding_ratio", "sample_max_value",
            "clip_sample_range", "flow_shift", "time_shift_type");

    private DiffusersSchedulerConfig() {}

    /** Reads {@code file} and dispatches on its {@code _class_name}. */
    public static Sampler load(Path file) {
        JsonNode cfg;
        try {
            cfg = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read scheduler config: " + e.getMessage(), e);
        }
        if (cfg == null || !cfg.isObject()) throw new IllegalArgumentException(file + ": scheduler config is not a JSON object");
        String cls = cfg.path("_class_name").asText("");
        try {
            return switch (cls) {
                case "DPMSolverMultistepScheduler" -> dpmSolver(cfg);
                case "DDIMScheduler" -> ddim(cfg);
                case "UniPCMultistepScheduler" -> unipcFlow(cfg);
                default -> throw new IllegalArgumentException("scheduler class '" + cls
                        + "' is not supported (DPMSolverMultistepScheduler, DDIMScheduler, UniPCMultistepScheduler)");
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("scheduler config is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** {@code DPMSolverMultistepScheduler}: dpmsolver++, midpoint, order ≤ 2, ending at σ = 0. */
    public static DpmSolverMultistepSampler dpmSolver(JsonNode cfg) {
        Fields f = new Fields(cfg);
        NoiseSchedule schedule = f.schedule();
        int order = f.integer("solver_order", 2);
        if (order != 1 && order != 2) f.unsupported("solver_order", "1 or 2");
        f.require("prediction_type", "epsilon");
        f.require("algorithm_type", "dpmsolver++");
        f.require("solver_type", "midpoint");
        f.require("final_sigmas_type", "zero");
        f.requireFalse("thresholding", "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
                "use_lu_lambdas", "use_flow_sigmas", "rescale_betas_zero_snr", "use_dynamic_shifting");
        f.requireNull("variance_type");
        double lambdaMin = f.number("lambda_min_clipped", Double.NEGATIVE_INFINITY);
        if (lambdaMin != Double.NEGATIVE_INFINITY) f.unsupported("lambda_min_clipped", "-Infinity");
        f.bool("lower_order_final", true); // no effect with order ≤ 2 and a σ = 0 end
        f.bool("euler_at_final", false);
        TimestepSpacing spacing = TimestepSpacing.parse(f.text("timestep_spacing", "linspace"));
        int offset = f.integer("steps_offset", 0);
        f.rejectUnknown();
        return new DpmSolverMultistepSampler(new DpmSolverMultistepSampler.Config(schedule, order, spacing, offset));
    }

    /** {@code DDIMScheduler}, run with η = 0. */
    public static DdimSampler ddim(JsonNode cfg) {
        Fields f = new Fields(cfg);
        NoiseSchedule schedule = f.schedule();
        f.require("prediction_type", "epsilon");
        f.requireFalse("clip_sample", "thresholding", "rescale_betas_zero_snr");
        boolean alphaToOne = f.bool("set_alpha_to_one", true);
        int offset = f.integer("steps_offset", 0);
        TimestepSpacing spacing = TimestepSpacing.parse(f.text("timestep_spacing", "leading"));
        f.rejectUnknown();
        return new DdimSampler(new DdimSampler.Config(schedule, spacing, offset, alphaToOne));
    }

    /**
     * {@code UniPCMultistepScheduler} on flow sigmas, as Wan 2.1 configures it: flow_prediction, data prediction,
     * bh1/bh2, order ≤ 3, ending at σ = 0. The beta schedule and timestep spacing play no part with flow sigmas.
     */
    public static UniPcFlowSampler unipcFlow(JsonNode cfg) {
        Fields f = new Fields(cfg);
        f.text("beta_schedule", "linear");
        f.number("beta_start", 1e-4);
        f.number("beta_end", 0.02);
        f.requireNull("trained_betas");
        f.text("timestep_spacing", "linspace");
        f.integer("steps_offset", 0);
        int train = f.integer("num_train_timesteps", 1000);
        double shift = f.number("flow_shift", 1.0);
        int order = f.integer("solver_order", 2);
        if (order < 1 || order > 3) f.unsupported("solver_order", "1, 2 or 3");
        String type = f.text("solver_type", "bh2");
        if (!type.equals("bh1") && !type.equals("bh2")) f.unsupported("solver_type", "'bh1' or 'bh2'");
        f.require("prediction_type", "flow_prediction");
        if (!f.bool("use_flow_sigmas", false)) f.unsupported("use_flow_sigmas", "true");
        if (!f.bool("predict_x0", true)) f.unsupported("predict_x0", "true");
        f.require("final_sigmas_type", "zero");
        f.requireFalse("thresholding", "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas",
                "rescale_betas_zero_snr", "use_dynamic_shifting");
        for (String n : new String[]{"solver_p", "shift_terminal", "sigma_min", "sigma_max"}) f.requireNull(n);
        boolean lowerOrderFinal = f.bool("lower_order_final", true);
        java.util.Set<Integer> disabled = new java.util.HashSet<>();
        JsonNode dc = f.get("disable_corrector");
        if (dc != null && !dc.isNull()) {
            if (!dc.isArray()) throw new IllegalArgumentException("disable_corrector must be a list of step indices, got " + dc);
            for (JsonNode n : dc) {
                if (!n.canConvertToInt()) throw new IllegalArgumentException("disable_corrector entry " + n + " is not a step index");
                disabled.add(n.intValue());
            }
        }
        f.rejectUnknown();
        return new UniPcFlowSampler(new UniPcFlowSampler.Config(train, shift, order,
                type.equals("bh1") ? UniPcFlowSampler.SolverType.BH1 : UniPcFlowSampler.SolverType.BH2, lowerOrderFinal, disabled));
    }

    /** Reads fields of one config object, remembering which were consumed so leftovers can be rejected. */
    private static final class Fields {
        private final JsonNode cfg;
        private final HashSet<String> seen = new HashSet<>();

        Fields(JsonNode cfg) {
            if (cfg == null || !cfg.isObject()) throw new IllegalArgumentException("scheduler config is not a JSON object");
            this.cfg = cfg;
        }

        private JsonNode get(String name) {
            seen.add(name);
            JsonNode v = cfg.get(name);
            return v == null || v.isMissingNode() ? null : v;
        }

        NoiseSchedule schedule() {
            require("beta_schedule", "linear");
            requireNull("trained_betas");
            return new NoiseSchedule(integer("num_train_timesteps", 1000), number("beta_start", 1e-4), number("beta_end", 0.02));
        }

        int integer(String name, int dflt) {
            JsonNode v = get(name);
            if (v == null) return dflt;
            if (!v.canConvertToInt() || !v.isIntegralNumber()) throw new IllegalArgumentException(name + " must be an integer, got " + v);
            return v.intValue();
        }

        double number(String name, double dflt) {
            JsonNode v = get(name);
            if (v == null) return dflt;
            if (!v.isNumber()) throw new IllegalArgumentException(name + " must be a number, got " + v);
            return v.doubleValue();
        }

        boolean bool(String name, boolean dflt) {
            JsonNode v = get(name);
            if (v == null) return dflt;
            if (!v.isBoolean()) throw new IllegalArgumentException(name + " must be true or false, got " + v);
            return v.booleanValue();
        }

        String text(String name, String dflt) {
            JsonNode v = get(name);
            if (v == null || v.isNull()) return dflt;
            if (!v.isTextual()) throw new IllegalArgumentException(name + " must be a string, got " + v);
            return v.textValue();
        }

        void require(String name, String only) {
            String v = text(name, only);
            if (!v.equals(only)) unsupported(name, "'" + only + "'");
        }

        void requireFalse(String... names) {
            for (String n : names) if (bool(n, false)) unsupported(n, "false");
        }

        void requireNull(String name) {
            JsonNode v = get(name);
            if (v != null && !v.isNull()) unsupported(name, "null");
        }

        void unsupported(String name, String supported) {
            throw new IllegalArgumentException(name + " = " + cfg.get(name) + " is not supported (only " + supported + ")");
        }

        void rejectUnknown() {
            for (Map.Entry<String, JsonNode> field : cfg.properties()) {
                String name = field.getKey();
                if (!name.startsWith("_") && !seen.contains(name) && !INERT.contains(name)) {
                    throw new IllegalArgumentException("unknown scheduler field '" + name + "'");
                }
            }
        }
    }
}
