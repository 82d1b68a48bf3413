package dev.viditq.quant;

import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.calib.Calibration;
import dev.viditq.quant.checkpoint.QuantizedCheckpoint;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;
import dev.viditq.quant.method.QuantMethod;
import dev.viditq.quant.runtime.ExecutionMode;
import dev.viditq.quant.runtime.QuantizedModel;
import dev.viditq.quant.runtime.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.*;

class DebugRoundTripTest {
    @TempDir Path tmp;

    @Test
    void debug() {
        String yaml = "preset: viditq-w4a8\nbit_map: [{layers: '.*mlp.*', weight_bits: 8}, {layers: '.*', weight_bits: 8, timesteps: [750, 1000]}]";
        QuantConfig cfg = QuantConfigReader.parse(yaml, "dbg", null);
        Calibration cal;
        try (Denoiser m = GoldenModels.load(GoldenModels.PIXART)) { cal = GoldenModels.calibrate(m, GoldenModels.PIXART, 1, tmp.resolve("c")); }
        Path out = tmp.resolve("q");
        Map<String, float[]> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        try (Denoiser model = GoldenModels.load(GoldenModels.PIXART)) {
            QuantizedModel q = Quantizer.quantize(model, QuantMethod.of(cfg.method()).plan(model, cal, cfg));
            QuantizedCheckpoint.write(GoldenModels.PIXART, q, out, false);
            q.install(model, ExecutionMode.INTEGER);
            record(model, a);
            GoldenModels.forward(model, GoldenModels.PIXART);
        }
        try (Denoiser model = GoldenModels.load(out)) {
            record(model, b);
            GoldenModels.forward(model, GoldenModels.PIXART);
        }
        for (String k : a.keySet()) System.out.println(k + " in " + Arrays.equals(a.get(k), b.get(k)) + " out " + Arrays.equals(a.get(k + "#out"), b.get(k + "#out")));
    }

    @Test
    void determinism() {
        try (Denoiser m = GoldenModels.load(GoldenModels.PIXART)) {
            int diff = 0;
            float[] first = GoldenModels.forward(m, GoldenModels.PIXART).toFloatArray();
            for (int i = 0; i < 30; i++) if (!Arrays.equals(first, GoldenModels.forward(m, GoldenModels.PIXART).toFloatArray())) diff++;
            System.out.println("float runs differing: " + diff);
            Calibration cal = GoldenModels.calibrate(m, GoldenModels.PIXART, 1, tmp.resolve("c2"));
            QuantConfig cfg = QuantConfigReader.parse("preset: viditq-w4a8", "dbg", null);
            Quantizer.quantize(m, QuantMethod.of(cfg.method()).plan(m, cal, cfg)).install(m, ExecutionMode.INTEGER);
            diff = 0;
            first = GoldenModels.forward(m, GoldenModels.PIXART).toFloatArray();
            for (int i = 0; i < 30; i++) if (!Arrays.equals(first, GoldenModels.forward(m, GoldenModels.PIXART).toFloatArray())) diff++;
            System.out.println("quantized runs differing: " + diff);
        }
    }

    @Test
    void gemmDeterminism() {
        System.out.println("float kernels: " + dev.viditq.core.kernels.KernelBackend.get().getClass().getName());
        Random r = new Random(1);
        for (int[] mkn : new int[][]{{2, 96, 576}, {32, 96, 288}, {32, 96, 384}, {32, 384, 96}, {12, 48, 96}, {128, 96, 288}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            float[] x = new float[m * k], w = new float[n * k];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
            Tensor xt = Tensor.of(x, m, k), wt = Tensor.of(w, n, k);
            float[] first = null;
            int diff = 0;
            for (int it = 0; it < 200; it++) {
                Tensor o = Tensor.zeros(m, n);
                dev.viditq.core.kernels.KernelBackend.get().gemm(xt.data(), m, k, wt, null, o.data());
                if (first == null) first = o.toFloatArray(); else if (!Arrays.equals(first, o.toFloatArray())) diff++;
            }
            System.out.println("gemm " + Arrays.toString(mkn) + " differing runs: " + diff);
        }
    }

    @Test
    void whereFloatDiffers() {
        try (Denoiser m = GoldenModels.load(GoldenModels.PIXART)) {
            Map<String, float[]> first = new LinkedHashMap<>();
            record(m, first);
            GoldenModels.forward(m, GoldenModels.PIXART);
            for (int run = 0; run < 20; run++) {
                for (Linear l : m.linears().values()) l.setExecutor(null);
                Map<String, float[]> now = new LinkedHashMap<>();
                record(m, now);
                GoldenModels.forward(m, GoldenModels.PIXART);
                for (String k : first.keySet()) {
                    if (!Arrays.equals(first.get(k), now.get(k))) { System.out.println("run " + run + " first difference: " + k); break; }
                }
            }
        }
    }

    static void record(Denoiser m, Map<String, float[]> rec) {
        for (Linear l : m.linears().values()) {
            Linear.Executor inner = l.executor();
            l.setExecutor((layer, x, o) -> { inner.forward(layer, x, o); rec.putIfAbsent(layer.name(), x.toFloatArray()); rec.putIfAbsent(layer.name() + "#out", o.toFloatArray()); });
        }
    }
}
