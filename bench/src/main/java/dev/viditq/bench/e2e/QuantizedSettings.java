package dev.viditq.bench.e2e;

import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;

import java.io.PrintStream;

/**
 * Puts a loaded float model into a benchmark {@link Setting}. The float setting leaves it as loaded; the quantized
 * ones belong to the quant module (ViDiT-Q presets, quantized Linear executors on the integer kernels), which this
 * calls once it offers in-process quantization. Until then a quantized setting is refused with a clear message,
 * never imitated.
 */
final class QuantizedSettings {
    private QuantizedSettings() {}

    static void apply(Denoiser model, Setting setting, PrintStream log) {
        if (!setting.quantized()) return;
        throw new UnsupportedOperationException("setting " + setting.label() + " (preset " + setting.preset()
                + ") is not available yet: the quant module does not yet provide in-process quantization with integer "
                + "executors; only bf16 can be measured");
    }

    /** Bytes of the weight {@code layer} executes with (the stored tensor for a float executor). */
    static long weightBytes(Linear layer) {
        return layer.weight().byteSize();
    }
}
