package dev.viditq.quant.mp;

import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A candidate of the mixed-precision sensitivity and search: weight and activation bits, and optionally the weight
 * method (docs/MIXED_PRECISION.md, "Candidates"). The one parser of the candidate syntax:
 * <pre>
 *   W&lt;w&gt;A&lt;a&gt;[-token]...      tokens: gptq, g&lt;N&gt; (groups of N inputs), lr&lt;R&gt; (low-rank branch of rank R)
 *   W4A8            the bits only: the weight method of the sensitivity's preset
 *   W4A8-rtn        per output channel, round-to-nearest, no branch (whatever the preset)
 *   W4A8-gptq-g64   GPTQ, groups of 64;   W4A8-lr16-gptq   a rank-16 branch and GPTQ of the residual
 *   float           the group unquantized (a noise-floor check of the sensitivity; no choice of the search)
 * </pre>
 * A candidate with any token states its whole method: what it does not name is off (per channel, round-to-nearest,
 * no branch). Names are case-insensitive and normalised to the order lr, gptq, g ({@code W4A8-g64-GPTQ} is
 * {@code W4A8-gptq-g64}).
 *
 * @param method null for a bits-only candidate (the preset's method) and for float
 */
public record MethodCandidate(String name, int weightBits, int activationBits, Method method) {
    /** Bits a float candidate is counted with (weights stored as BF16). */
    public static final int FLOAT_BITS = 16;
    private static final Pattern BITS = Pattern.compile("[Ww](\\d+)[Aa](\\d+)");
    private static final Pattern GROUP = Pattern.compile("g(\\d+)");
    private static final Pattern RANK = Pattern.compile("lr(\\d+)");
    private static final String TOKENS = "known: gptq, rtn, g<N> (groups of N inputs, N a multiple of 8, weights of at most 4 bits), "
            + "lr<R> (low-rank branch of rank R >= 1)";

    /**
     * A weight method spelled out by a candidate.
     *
     * @param groupSize inputs per scale, 0 for one scale per output channel
     * @param gptq      GPTQ (with the GPTQ presets' settings, {@link #gptqSettings}) instead of round-to-nearest
     * @param lowRank   rank of the BF16 low-rank branch, 0 for none
     */
    public record Method(int groupSize, boolean gptq, int lowRank) {
        /** The name's suffix: "-lr16-gptq-g64", "-rtn" for the plain method. */
        String suffix() {
            StringBuilder s = new StringBuilder();
            if (lowRank > 0) s.append("-lr").append(lowRank);
            if (gptq) s.append("-gptq");
            if (groupSize > 0) s.append("-g").append(groupSize);
            return s.isEmpty() ? "-rtn" : s.toString();
        }
    }

    /**
     * What a layer stores and runs for a candidate once the preset is known: grouping, GPTQ settings (null:
     * round-to-nearest), low-rank rank. Two candidates with equal weight methods may share a layer's ranges (one
     * stored integer weight per bit width, one branch per layer).
     */
    public record WeightMethod(int groupSize, QuantConfig.Gptq gptq, int lowRank) {
        public String describe() {
            return (groupSize == 0 ? "per channel" : "groups of " + groupSize) + (gptq == null ? ", round-to-nearest" : ", GPTQ")
                    + (lowRank == 0 ? "" : ", low-rank rank " + lowRank);
        }
    }

    public boolean isFloat() {
        return weightBits == FLOAT_BITS;
    }

    /** True when the candidate names its weight method (any token); false: the preset's method, only the bits change. */
    public boolean explicit() {
        return method != null;
    }

    /** The precision a plan runs it at. */
    public dev.viditq.quant.plan.Precision precision() {
        if (isFloat()) throw new IllegalStateException("the float candidate has no quantized precision");
        return new dev.viditq.quant.plan.Precision(weightBits, activationBits);
    }

    /** Parses one candidate; an unknown or repeated token, or bits out of range, is refused naming it. */
    public static MethodCandidate parse(String text) {
        String t = text.strip();
        if (t.equalsIgnoreCase("float") || t.equalsIgnoreCase("fp")) return new MethodCandidate("float", FLOAT_BITS, FLOAT_BITS, null);
        String[] parts = t.split("-", -1);
        Matcher m = BITS.matcher(parts[0]);
        if (!m.matches()) {
            throw new IllegalArgumentException("candidate '" + text + "' does not start with precision bits like W4A8 "
                    + "(forms: W4A8, W4A8-gptq, W4A8-gptq-g64, W4A8-lr16-gptq, or float)");
        }
        int w = Integer.parseInt(m.group(1)), a = Integer.parseInt(m.group(2));
        if (w < 2 || w > 8 || a < 2 || a > 8) throw new IllegalArgumentException("candidate '" + text + "': bits must be 2..8 (W" + w + "A" + a + ")");
        if (parts.length == 1) return new MethodCandidate("W" + w + "A" + a, w, a, null);
        Integer group = null, rank = null;
        boolean gptq = false, rtn = false;
        for (int i = 1; i < parts.length; i++) {
            String tok = parts[i].toLowerCase(Locale.ROOT);
            Matcher g = GROUP.matcher(tok), r = RANK.matcher(tok);
            if (tok.equals("gptq")) {
                if (gptq) throw repeated(text, tok);
                gptq = true;
            } else if (tok.equals("rtn")) {
                if (rtn) throw repeated(text, tok);
                rtn = true;
            } else if (g.matches()) {
                if (group != null) throw repeated(text, "g<N>");
                group = parseInt(text, tok, g.group(1));
                if (group < 8 || group % 8 != 0) {
                    throw new IllegalArgumentException("candidate '" + text + "': group size " + group + " must be a positive multiple of 8");
                }
                if (w > 4) {
                    throw new IllegalArgumentException("candidate '" + text + "': groups exist only for weights of at most 4 bits "
                            + "(the int8 kernel has one scale per output channel)");
                }
            } else if (r.matches()) {
                if (rank != null) throw repeated(text, "lr<R>");
                rank = parseInt(text, tok, r.group(1));
                if (rank < 1) throw new IllegalArgumentException("candidate '" + text + "': low-rank rank must be at least 1 (leave lr out for none)");
            } else {
                throw new IllegalArgumentException("candidate '" + text + "': unknown method token '" + parts[i] + "' (" + TOKENS + ")");
            }
        }
        if (rtn && gptq) throw new IllegalArgumentException("candidate '" + text + "': rtn (round-to-nearest) and gptq exclude each other");
        Method method = new Method(group == null ? 0 : group, gptq, rank == null ? 0 : rank);
        return new MethodCandidate("W" + w + "A" + a + method.suffix(), w, a, method);
    }

    private static int parseInt(String text, String tok, String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("candidate '" + text + "': '" + tok + "' is out of range");
        }
    }

    private static IllegalArgumentException repeated(String text, String tok) {
        return new IllegalArgumentException("candidate '" + text + "': '" + tok + "' is given twice");
    }

    /**
     * The weight method the candidate runs with under {@code preset} (the config the sensitivity measured with):
     * a bits-only candidate takes the preset's grouping (per channel above 4 bits, where groups do not exist), GPTQ and
     * low-rank rank; an explicit one its own, its GPTQ with {@link #gptqSettings}.
     */
    public WeightMethod resolve(QuantConfig preset) {
        if (isFloat()) throw new IllegalStateException("the float candidate has no weight method");
        if (method == null) {
            QuantConfig.WeightSpec w = preset.weight();
            if (w.granularity() == QuantConfig.WeightGranularity.TENSOR) {
                throw new IllegalArgumentException("candidate " + name + ": the preset has one weight scale per tensor, which the "
                        + "mixed-precision search does not cost; use a per-channel or per-group preset");
            }
            // groups exist only up to 4 bits: wider weights of a grouped preset are per channel (the plan says so per layer)
            int group = w.granularity() == QuantConfig.WeightGranularity.GROUP && weightBits <= 4 ? w.groupSize() : 0;
            return new WeightMethod(group, preset.gptq(), preset.lowRank() == null ? 0 : preset.lowRank().rank());
        }
        return new WeightMethod(method.groupSize(), method.gptq() ? gptqSettings(preset) : null, method.lowRank());
    }

    /**
     * GPTQ settings of an explicit {@code -gptq} candidate: the preset's when it has GPTQ, else those of the GPTQ
     * presets ({@code viditq-gptq-w4a8}: damp 0.01, act_order, blocks of 128).
     */
    public static QuantConfig.Gptq gptqSettings(QuantConfig preset) {
        if (preset.gptq() != null) return preset.gptq();
        return QuantConfigReader.preset("viditq-gptq-w4a8").gptq();
    }

    @Override
    public String toString() {
        return name;
    }
}
