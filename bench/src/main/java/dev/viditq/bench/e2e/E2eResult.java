package dev.viditq.bench.e2e;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.viditq.bench.profile.MachineState;

import java.util.List;
import java.util.Map;

/**
 * What one end-to-end measurement found. Times in seconds, sizes in bytes; JSON names are snake_case
 * ({@code sec_per_step}, {@code model_bytes}, {@code peak_rss_bytes}, {@code split}, ...).
 *
 * @param secPerStep   median over the measured steps (after one warm-up step) of one sampling step with CFG (batch 2)
 * @param stepSeconds  every measured step, in order
 * @param modelBytes   bytes of the weights the forward pass reads (as stored for the setting: BF16, or packed
 *                     integers for a quantized one; ONNX Runtime: the graph's initializers)
 * @param peakRssBytes the process's peak resident set (VmHWM) at the end of the run
 * @param rssAfterLoadBytes resident set after loading, before the first step
 * @param rssFileBytes / rssAnonBytes the resident set at the end split into file-backed (mapped checkpoints) and
 *                     anonymous (heap, native buffers, activations) pages
 * @param split        seconds per step (mean over the measured steps): gemm, attention, rest (= other_kernels +
 *                     untimed), and quantize (the activation quantization of integer layers, a part of gemm);
 *                     null for ONNX Runtime, which is not instrumented
 * @param engine       "viditq" or "onnxruntime"
 * @param runtime      kernel backend / ONNX Runtime version and thread settings
 * @param gemmGflops   achieved GEMM rate over the measured steps (GOP/s for integer layers); null when not instrumented
 * @param fmaCeilingGflops the FP32 FMA loop's rate on the same threads right after sampling: on a shared machine
 *                     the fraction of the nominal ceiling that was available
 * @param loadAverage  /proc/loadavg (1, 5, 15 min) before sampling
 * @param jvmOptions   the measuring JVM's options
 * @param avgWeightBits quantized settings: parameter-weighted mean weight bits of the quantized Linears (null for
 *                     bf16)
 * @param deviceMemory with {@code --device cuda}: the GPU's bytes by kind, else null
 * @param pool         per step (mean over the measured steps), the thread pool's calls that reached its helpers:
 *                     {@code calls}, {@code seconds} inside them, {@code busy_fraction} of the taking-part threads'
 *                     time in the bodies, {@code helper_start_us} (mean delay before a helper joins a call),
 *                     {@code late_joins} (joins later than {@code PoolStats.LATE_JOIN_NANOS}),
 *                     {@code caller_wait_us} (mean wait per call for the last helper) and {@code parked_wakes};
 *                     null when not instrumented
 * @param cpuSteal     CPU time a hypervisor took from this guest's vCPUs during the measured steps ({@code fraction} of
 *                     all vCPUs' time, {@code worst_cpu_fraction} of the most-stolen one's); null where /proc/stat
 *                     does not say
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record E2eResult(String arch, String setting, String engine, int threads, int steps, double secPerStep,
                        List<Double> stepSeconds, long modelBytes, long peakRssBytes, long rssAfterLoadBytes,
                        long rssFileBytes, long rssAnonBytes, Map<String, Double> split, double loadSeconds,
                        String runtime, Double gemmGflops, Double fmaCeilingGflops, String loadAverage,
                        String jvmOptions, Double avgWeightBits, Map<String, Long> deviceMemory,
                        Map<String, Double> pool, MachineState.Steal cpuSteal) {
    /** snake_case JSON, as printed by {@code bench e2e --json} and passed between worker and parent. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static E2eResult fromJson(String json) {
        try {
            return JSON.readValue(json, E2eResult.class);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read a benchmark result: " + e.getMessage() + "\n" + json, e);
        }
    }
}
