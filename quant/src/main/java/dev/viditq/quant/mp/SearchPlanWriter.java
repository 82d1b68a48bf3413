package dev.viditq.quant.mp;

import dev.viditq.core.io.SafeOutput;
import dev.viditq.quant.mp.SearchInput.Candidate;
import dev.viditq.quant.mp.SearchInput.Range;
import dev.viditq.quant.config.QuantConfig;
import dev.viditq.quant.config.QuantConfigReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an allocation as a quant config ({@code preset} + {@code weight.bits} / {@code activation.bits} of the
 * fewest-bits choice + {@code bit_map} rules with step ranges) that {@code ./viditq quantize --plan} reads, with a
 * header comment saying how it was made and what it costs.
 *
 * <p>Rule layout, chosen so that the runtime stores exactly the bit widths the allocation uses: each group first
 * gets one all-steps rule setting its most used precision (when that is not the base), then one rule per run of
 * consecutive ranges at another precision. Steps outside every range (a run with more steps than the sensitivity's)
 * use the group's most used precision.
 */
public final class SearchPlanWriter {
    private SearchPlanWriter() {}

    /**
     * What the header states besides the allocation.
     *
     * @param lowActivationBits null, or activation bits for the cells at the fewest-bits choice instead of the measured
     *                          ones (an unmeasured attempt at lower activation precision, e.g. W4A6-MP from an A8
     *                          sensitivity; the header says so)
     */
    public record Header(String command, String preset, String date, SearchAllocation other, Integer lowActivationBits) {
        public Header(String command, String preset, String date, SearchAllocation other) {
            this(command, preset, date, other, null);
        }
    }

    /** The YAML text; it is parsed back with the config reader before anything is written. */
    public static String yaml(SearchProblem p, SearchAllocation a, Header h) {
        StringBuilder y = new StringBuilder();
        header(y, p, a, h);
        Candidate base = base(p, h);
        y.append("preset: ").append(h.preset()).append('\n');
        y.append("weight: {bits: ").append(base.weightBits()).append("}\n");
        y.append("activation: {bits: ").append(base.activationBits()).append("}\n");
        List<Rule> rules = rules(p, a);
        // a rule without activation_bits keeps the bits of the rule before it: state them whenever candidates differ
        boolean mixed = false;
        for (int k = 1; k < p.choices(); k++) mixed |= p.candidate(k).activationBits() != base.activationBits();
        if (!rules.isEmpty()) {
            y.append("bit_map:\n");
            for (Rule r : rules) {
                y.append("  - layers: [");
                for (int i = 0; i < r.layers.size(); i++) y.append(i == 0 ? "" : ", ").append('\'').append(regex(r.layers.get(i))).append('\'');
                y.append("]\n");
                Candidate c = r.choice == 0 ? base : p.candidate(r.choice);
                y.append("    weight_bits: ").append(c.weightBits()).append('\n');
                if (mixed) y.append("    activation_bits: ").append(c.activationBits()).append('\n');
                if (r.first >= 0) y.append("    steps: [").append(r.first).append(", ").append(r.end).append("]\n");
            }
        }
        methodRules(y, p, a);
        String text = y.toString();
        QuantConfigReader.parse(text, "search plan", null); // quantize must accept what we write
        return text;
    }

    /**
     * {@code layer_methods}: per group whose weight method differs from the preset's, the grouping, GPTQ and rank
     * it runs with (groups of one method share a rule). A group's ranges share one method ({@link SearchProblem#storable}).
     */
    private static void methodRules(StringBuilder y, SearchProblem p, SearchAllocation a) {
        QuantConfig preset = p.preset();
        int presetGroup = preset.weight().granularity() == QuantConfig.WeightGranularity.GROUP ? preset.weight().groupSize() : 0;
        int presetRank = preset.lowRank() == null ? 0 : preset.lowRank().rank();
        Map<MethodCandidate.WeightMethod, List<String>> byMethod = new LinkedHashMap<>();
        for (int g = 0; g < p.groups(); g++) {
            MethodCandidate.WeightMethod m = p.method(a.choice()[g][0]);
            if (m.groupSize() == presetGroup && java.util.Objects.equals(m.gptq(), preset.gptq()) && m.lowRank() == presetRank) continue;
            byMethod.computeIfAbsent(m, k -> new ArrayList<>()).addAll(p.input().groups().get(g).layers());
        }
        if (byMethod.isEmpty()) return;
        y.append("layer_methods:\n");
        byMethod.forEach((m, layers) -> {
            y.append("  - layers: [");
            for (int i = 0; i < layers.size(); i++) y.append(i == 0 ? "" : ", ").append('\'').append(regex(layers.get(i))).append('\'');
            y.append("]\n");
            if (m.groupSize() != presetGroup) {
                y.append(m.groupSize() == 0 ? "    granularity: channel\n" : "    granularity: group\n    group_size: " + m.groupSize() + "\n");
            }
            if (!java.util.Objects.equals(m.gptq(), preset.gptq())) {
                QuantConfig.Gptq q = m.gptq();
                y.append(q == null ? "    gptq: false\n" : String.format(Locale.ROOT, "    gptq: {damp: %s, act_order: %s, block_size: %d}%n",
                        q.damp(), q.actOrder(), q.blockSize()));
            }
            if (m.lowRank() != presetRank) y.append("    low_rank: ").append(m.lowRank()).append('\n');
        });
    }

    /** The fewest-bits choice as the plan runs it. */
    private static Candidate base(SearchProblem p, Header h) {
        Candidate c = p.candidate(0);
        if (h.lowActivationBits() == null) return c;
        int a = h.lowActivationBits();
        if (a < 2 || a > 8) throw new IllegalArgumentException("--low-activation-bits must be 2..8, is " + a);
        return new Candidate("W" + c.weightBits() + "A" + a, c.weightBits(), a);
    }

    /** Writes atomically (temporary file, then rename). */
    public static void write(Path out, String yaml) {
        try {
            SafeOutput.write(out, tmp -> Files.writeString(tmp, yaml, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    private static void header(StringBuilder y, SearchProblem p, SearchAllocation a, Header h) {
        SearchInput in = p.input();
        line(y, "ViDiT-Q-MP plan: weight/activation bits per (layer group, timestep range), for ./viditq quantize --plan.");
        line(y, "Made by: " + h.command() + (h.date() == null ? "" : "  (" + h.date() + ")"));
        line(y, "Model: " + in.model() + (in.modelSha256() == null ? "" : ", denoiser sha256 " + in.modelSha256())
                + "; sensitivity: " + in.source());
        line(y, "Search: " + describe(a.method()) + "; predicted loss " + fmt(a.predictedLoss())
                + " (normalised metric deltas summed over groups and ranges; " + metrics(p, a) + ")");
        if (h.other() != null) {
            SearchAllocation o = h.other();
            line(y, "  the other search (" + o.method() + ") predicts " + fmt(o.predictedLoss()) + " at "
                    + String.format(Locale.ROOT, "%.3f", o.averageWeightBits()) + " average weight bits"
                    + (o.storedBytes() >= 0 ? ", " + o.storedBytes() + " stored bytes" : ""));
        }
        if (h.lowActivationBits() != null) {
            line(y, "ATTEMPT: the " + p.candidate(0).name() + " cells run as " + base(p, h).name() + " (activation bits not measured by the "
                    + "sensitivity: the predicted loss is that of " + p.candidate(0).name() + ")");
        }
        line(y, "Budget: " + p.budget() + (p.hasByteCap() ? " and at most " + p.byteCap() + " stored bytes" : "") + "; average weight bits " + String.format(Locale.ROOT, "%.4f", a.averageWeightBits())
                + " (parameter-weighted over the " + countLayers(in) + " layers of " + in.groups().size() + " groups and all "
                + in.steps() + " steps)");
        if (a.storedBytes() >= 0) {
            line(y, "Stored quantized weights: " + a.storedBytes() + " bytes (packed integers + scales + zero points"
                    + (p.methodSearch() ? " + low-rank factors" : "") + String.format(Locale.ROOT, ", %.4f stored bits per weight); ",
                    p.storedBitsPerWeight(a.storedBytes()))
                    + a.layersWithTwoOrMoreWidths() + " layers need two or more bit widths and store each of them");
        } else {
            line(y, "Stored quantized weights: not computed (the model was not found; give search --model DIR)");
        }
        StringBuilder rs = new StringBuilder();
        for (Range r : in.ranges()) {
            rs.append(rs.isEmpty() ? "" : ", ").append("r").append(r.index()).append(" steps [").append(r.first()).append(", ").append(r.end()).append(")");
            if (!Double.isNaN(r.timestepLow())) rs.append(String.format(Locale.ROOT, " t %.0f..%.0f", r.timestepLow(), r.timestepHigh()));
        }
        line(y, "Step ranges assume " + in.steps() + " sampling steps: " + rs);
        line(y, "Allocation:");
        int width = in.groups().stream().mapToInt(g -> g.name().length()).max().orElse(8);
        for (int g = 0; g < p.groups(); g++) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-" + width + "s", in.groups().get(g).name()));
            for (int r = 0; r < p.ranges(); r++) {
                int k = a.choice()[g][r];
                row.append("  ").append(k == 0 ? base(p, h).name() : p.candidate(k).name());
            }
            line(y, row.toString());
        }
    }

    private static String describe(String method) {
        return method.equals("knapsack") ? "knapsack (exact multiple-choice knapsack, dynamic programming over Pareto fronts)"
                : "viditq (budget split across groups by MSE sensitivity, then greedy within each group by its own metric)";
    }

    private static String metrics(SearchProblem p, SearchAllocation a) {
        StringBuilder s = new StringBuilder();
        for (var e : a.lossByMetric().entrySet()) {
            s.append(s.isEmpty() ? "" : ", ").append(e.getKey()).append(' ').append(fmt(e.getValue()))
                    .append(" (scale ").append(fmt(p.metricScales().get(e.getKey()))).append(')');
        }
        if (p.mseWeight() > 0) s.append("; + ").append(p.mseWeight()).append(" x normalised MSE");
        return s.toString();
    }

    private static int countLayers(SearchInput in) {
        return in.groups().stream().mapToInt(g -> g.layers().size()).sum();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static void line(StringBuilder y, String text) {
        y.append("# ").append(text).append('\n');
    }

    /** A layer name as a regex matching exactly it. */
    static String regex(String layer) {
        return layer.replaceAll("([\\\\.\\[\\]{}()*+?^$|])", "\\\\$1");
    }

    private static final class Rule {
        final int choice, first, end; // first = -1: all steps
        final List<String> layers = new ArrayList<>();

        Rule(int choice, int first, int end) {
            this.choice = choice;
            this.first = first;
            this.end = end;
        }
    }

    /** All-steps rules first (a group's most used precision), then ranged ones; identical rules share a layer list. */
    private static List<Rule> rules(SearchProblem p, SearchAllocation a) {
        Map<String, Rule> always = new LinkedHashMap<>(), ranged = new LinkedHashMap<>();
        for (int g = 0; g < p.groups(); g++) {
            int[] c = byPrecision(p, a.choice()[g]);
            int main = mostUsed(c);
            List<String> layers = p.input().groups().get(g).layers();
            if (main != 0) always.computeIfAbsent(main + ":all", k -> new Rule(main, -1, -1)).layers.addAll(layers);
            for (int r = 0; r < c.length; ) {
                int end = r;
                while (end + 1 < c.length && c[end + 1] == c[r]) end++;
                if (c[r] != main) {
                    int first = p.input().ranges().get(r).first(), last = p.input().ranges().get(end).end(), k = c[r];
                    ranged.computeIfAbsent(k + ":" + first + ":" + last, key -> new Rule(k, first, last)).layers.addAll(layers);
                }
                r = end + 1;
            }
        }
        List<Rule> out = new ArrayList<>(always.values());
        List<Rule> rest = new ArrayList<>(ranged.values());
        rest.sort((x, z) -> x.first != z.first ? Integer.compare(x.first, z.first) : Integer.compare(x.choice, z.choice));
        out.addAll(rest);
        return out;
    }

    /**
     * Each choice replaced by the first choice of the same weight and activation bits: candidates that differ only in
     * method need no bit-map rule between them (the method is the layer's, {@link #methodRules}).
     */
    private static int[] byPrecision(SearchProblem p, int[] choice) {
        int[] out = new int[choice.length];
        for (int r = 0; r < choice.length; r++) {
            SearchInput.Candidate c = p.candidate(choice[r]);
            int k = 0;
            while (p.candidate(k).weightBits() != c.weightBits() || p.candidate(k).activationBits() != c.activationBits()) k++;
            out[r] = k;
        }
        return out;
    }

    /** The choice used in the most ranges; ties go to the later range's choice (the last steps, where runs end). */
    private static int mostUsed(int[] c) {
        int best = c[c.length - 1], bestCount = 0;
        for (int i = c.length - 1; i >= 0; i--) {
            int n = 0;
            for (int v : c) if (v == c[i]) n++;
            if (n > bestCount) {
                best = c[i];
                bestCount = n;
            }
        }
        return best;
    }
}
