package dev.viditq.nn.sampling;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class DiffusersSchedulerConfigTest {
    /** PixArt-α's scheduler_config.json as diffusers writes it, -Infinity included. */
    private static final String PIXART = """
            {"_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.22.0", "algorithm_type": "dpmsolver++",
             "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001, "dynamic_thresholding_ratio": 0.995,
             "euler_at_final": false, "lambda_min_clipped": -Infinity, "lower_order_final": true,
             "num_train_timesteps": 1000, "prediction_type": "epsilon", "sample_max_value": 1.0, "solver_order": 2,
             "solver_type": "midpoint", "steps_offset": 0, "thresholding": false, "timestep_spacing": "linspace",
             "trained_betas": null, "use_karras_sigmas": false, "use_lu_lambdas": false, "variance_type": null}""";

    @Test
    void loadsAPixArtSchedulerConfig(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, PIXART);
        Sampler s = DiffusersSchedulerConfig.load(f);
        assertInstanceOf(DpmSolverMultistepSampler.class, s);
        assertArrayEquals(new long[]{999, 749, 500, 250}, ((DpmSolverMultistepSampler) s).timesteps(4));
    }

    @Test
    void rejectsUnsupportedValuesNamingTheField() {
        assertRejected(PIXART.replace("\"use_karras_sigmas\": false", "\"use_karras_sigmas\": true"), "use_karras_sigmas");
        assertRejected(PIXART.replace("\"solver_type\": \"midpoint\"", "\"solver_type\": \"heun\""), "solver_type");
        assertRejected(PIXART.replace("\"solver_order\": 2", "\"solver_order\": 3"), "solver_order");
        assertRejected(PIXART.replace("\"prediction_type\": \"epsilon\"", "\"prediction_type\": \"v_prediction\""), "prediction_type");
        assertRejected(PIXART.replace("\"lambda_min_clipped\": -Infinity", "\"lambda_min_clipped\": -5.1"), "lambda_min_clipped");
        assertRejected(PIXART.replace("\"timestep_spacing\": \"linspace\"", "\"timestep_spacing\": \"karras\""), "timestep_spacing");
        assertRejected(PIXART.replace("\"steps_offset\": 0", "\"steps_offset\": 0, \"brand_new_option\": 1"), "brand_new_option");
        assertRejected(PIXART.replace("\"beta_schedule\": \"linear\"", "\"beta_schedule\": \"squaredcos_cap_v2\""), "beta_schedule");
    }

    private static void assertRejected(String json, String field) {
        var e = assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.dpmSolver(DiffusersSchedulerConfig.parse(json)));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void ddimConfigWithAbsentFieldsTakesDiffusersDefaults() {
        DdimSampler s = DiffusersSchedulerConfig.ddim(DiffusersSchedulerConfig.parse(
                "{\"_class_name\": \"DDIMScheduler\", \"steps_offset\": 1, \"clip_sample\": false}"));
        assertArrayEquals(new long[]{501, 1}, s.timesteps(2)); // leading by default: 1000 // 2 = 500, + offset
        var e = assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.ddim(
                DiffusersSchedulerConfig.parse("{\"clip_sample\": true}")));
        assertTrue(e.getMessage().contains("clip_sample"), e.getMessage());
    }

    @Test
    void unknownSchedulerClassIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, "{\"_class_name\": \"EulerDiscreteScheduler\"}");
        var e = assertThrows(IllegalArgumentException.class, () -> DiffusersSchedulerConfig.load(f));
        assertTrue(e.getMessage().contains("EulerDiscreteScheduler") && e.getMessage().contains(f.toString()), e.getMessage());
    }
}
