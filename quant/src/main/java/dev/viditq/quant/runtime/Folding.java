package dev.viditq.quant.runtime;

import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.quant.plan.LayerPlan;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Folds balancing vectors into the model: where a quantized layer's input comes out of an adaLN modulation
 * ({@link Denoiser#inputScalings()}), its balancing vector m is handed to that modulation, which then produces
 * x ⊙ m at no extra cost (m enters the per-sample scale/shift vectors), and the layer's quantizer skips the
 * multiply. The weight side, W / m, is already in the quantized weights, so nothing else changes.
 *
 * <p>A seam is folded only when every Linear reading its input is quantized here with the same balancing vector
 * (diffusers' separate to_q / to_k / to_v have one vector each: fused, not folded) and runs quantized at every step
 * (a float step would read the scaled input with the unscaled float weight). Layers not folded keep the multiply
 * fused into their quantization pass (merged with the rotation's signs into one diagonal).
 *
 * <p>On by default; {@code -Dviditq.quant.fold=false} (or VIDITQ_QUANT_FOLD=false) turns it off, for comparison.
 */
public final class Folding {
    private Folding() {}

    /** Whether folding is on for loads in this process (default true). */
    public static boolean enabledFromEnvironment() {
        String v = System.getProperty("viditq.quant.fold", System.getenv().getOrDefault("VIDITQ_QUANT_FOLD", "true"));
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "on", "1", "yes" -> true;
            case "false", "off", "0", "no" -> false;
            default -> throw new IllegalArgumentException("viditq.quant.fold is '" + v + "'; use true or false");
        };
    }

    /**
     * Sets (or, with {@code enabled} false, clears) the model's input scalings for the quantized {@code layers};
     * returns the names of the layers whose balancing is now folded (their executors must not multiply again).
     * Every seam is reset first, so installing another plan on the same model starts clean.
     */
    public static Set<String> apply(Denoiser model, Map<String, LayerPlan> layers, boolean enabled) {
        Set<String> folded = new LinkedHashSet<>();
        for (InputScaling seam : model.inputScalings()) {
            seam.set(null);
            if (!enabled) continue;
            float[] m = commonBalancing(seam.consumers(), layers);
            if (m == null) continue;
            seam.set(m);
            for (Linear l : seam.consumers()) folded.add(l.name());
        }
        return folded;
    }

    /** The balancing vector every consumer shares, or null when they do not all have the same one. */
    private static float[] commonBalancing(List<Linear> consumers, Map<String, LayerPlan> layers) {
        float[] common = null;
        for (Linear l : consumers) {
            LayerPlan p = layers.get(l.name());
            if (p == null || p.smooth() == null || p.needsFloatWeight()) return null;
            if (common == null) common = p.smooth();
            else if (!Arrays.equals(common, p.smooth())) return null;
        }
        return common;
    }
}
