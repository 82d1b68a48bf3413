package dev.viditq.cli;

import dev.viditq.quant.config.QuantConfigReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.Checkpoints;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.quant.mp.MethodCandidate;
import dev.viditq.quant.mp.SearchAllocation;
import dev.viditq.quant.mp.SearchBudget;
import dev.viditq.quant.mp.SearchGreedy;
import dev.viditq.quant.mp.SearchInput;
import dev.viditq.quant.mp.SearchKnapsack;
import dev.viditq.quant.mp.SearchPlanWriter;
import dev.viditq.quant.mp.SearchProblem;
import dev.viditq.quant.mp.SearchStorage;
import dev.viditq.nn.pipeline.ModelFolder;
import dev.viditq.quant.config.Presets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "search", mixinStandardHelpOptions = true, description = {
        "ViDiT-Q-MP: choose the precision of every (layer group, timestep range) under a budget, from the table "
                + "./viditq sensitivity measured, and write it as a quant config that ./viditq quantize --plan reads "
                + "(docs/MIXED_PRECISION.md).",
        "--method viditq: the paper's way (budget split across groups by MSE sensitivity, then greedy within each "
                + "group by the group's own metric); knapsack: exact (multiple-choice knapsack, dynamic programming) "
                + "minimising the summed normalised metric losses; both (default): runs the two, compares them and "
                + "writes the one with the smaller predicted loss.",
        "Budget: average weight bits, parameter-weighted over the groups' layers and the sampling steps (e.g. 4.5), or "
                + "stored weight bytes with a unit (e.g. 3.5MiB; a layer that needs two bit widths stores both). With candidates "
                + "that differ in method (W4A8-gptq-g64, W4A8-lr16-gptq, ...) costs are stored bytes (low-rank factors included) and "
                + "a bit budget means stored bits per quantized weight.",
        "Examples:",
        "  ./viditq search --sensitivity out/sens-t2i --budget 4.5 --out docs/plans/shapes-t2i-w4a8-mp.yaml",
        "  ./viditq search --sensitivity out/sens-t2i --budget 4MiB --method knapsack --out /tmp/plan.yaml --json"})
final class SearchCommand implements Callable<Integer> {
    @Option(names = "--sensitivity", required = true, paramLabel = "DIR", description = "Folder written by ./viditq sensitivity (or its sensitivity.json).")
    Path sensitivity;

    @Option(names = "--budget", required = true, paramLabel = "BITS|BYTES", description = "Average weight bits (2..8, e.g. 4.5) or stored bytes with a unit (B, KiB, MiB, KB, MB).")
    String budget;

    @Option(names = "--method", defaultValue = "both", paramLabel = "viditq|knapsack|both", description = "Search (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The plan (quant config YAML) to write.")
    Path out;

    @Option(names = "--model", paramLabel = "DIR", description = "The model the sensitivity was measured on (default: the one sensitivity.json names); "
            + "needed for byte budgets and byte counts, checked against the recorded sha256.")
    Path model;

    @Option(names = "--preset", description = "Quant preset the plan starts from (default: the one the sensitivity was measured "
            + "with, whose weight method its bits-only candidates ran); weight/activation bits come from the plan.")
    String preset;

    @Option(names = "--candidates", split = ",", paramLabel = "W4A8,...", description = "Choose only among these measured candidates "
            + "(precisions, or precisions with a method: W4A8-gptq-g64; default: all).")
    List<String> candidates;

    @Option(names = "--mse-weight", defaultValue = "0", description = "Add this weight times the normalised output MSE to the metric loss (default ${DEFAULT-VALUE}).")
    double mseWeight;

    @Option(names = "--max-bytes", paramLabel = "BYTES", description = "With a bit budget: also keep the stored weight bytes within this "
            + "(e.g. 4MiB); layers that need two widths store both, so a bit budget alone can store more than W8 would.")
    String maxBytes;

    @Option(names = "--low-activation-bits", paramLabel = "N", description = "An unmeasured attempt: the cells left at the fewest-bits "
            + "candidate run with N activation bits (e.g. 6 for a W4A6-MP attempt from a W4A8/W6A8/W8A8 sensitivity); the header says so.")
    Integer lowActivationBits;

    @Option(names = "--same-for-all-ranges", description = "One precision per group for all steps (chosen from the summed loss of its "
            + "ranges): no precision switch inside the sampler's multistep history.")
    boolean sameForAllRanges;

    @Option(names = "--json", description = "Print one JSON object: budget, each search's predicted loss, bits, bytes and allocation, the plan written.")
    boolean json;

    /**
     * The preset the plan starts from. Bits-only candidates (W4A8) were measured with the weight method of the
     * sensitivity's preset, so a plan that runs them must start from that preset too: another --preset is refused
     * when such a candidate is searched (candidates naming their method, W4A8-gptq-g64, carry it into the plan).
     */
    private String planPreset(SearchInput input) {
        String measured = input.preset();
        boolean bitsOnly = candidates == null ? input.candidates().stream().anyMatch(c -> !c.spec().explicit())
                : candidates.stream().anyMatch(n -> !MethodCandidate.parse(n).explicit());
        if (preset == null) {
            if (measured != null && Presets.NAMES.contains(measured)) return measured;
            if (measured == null || !bitsOnly) return "viditq-w4a8";
            throw new IllegalArgumentException(input.source() + " was measured with the config file " + measured
                    + "; a plan starts from a preset: give --preset with the same weight method");
        }
        if (bitsOnly && measured != null && !measured.equals(preset)) {
            throw new IllegalArgumentException("--preset " + preset + ": the bits-only candidates of " + input.source()
                    + " were measured with " + measured + "'s weight method; leave --preset out, or search candidates that name "
                    + "their method (e.g. W4A8-gptq-g64)");
        }
        return preset;
    }

    @Override
    public Integer call() {
        if (!List.of("viditq", "knapsack", "both").contains(method)) {
            throw new IllegalArgumentException("--method " + method + ": choose viditq, knapsack or both");
        }
        SafeOutput.checkFile(out, OutputPolicy.force);
        SearchBudget b = SearchBudget.parse(budget);
        SearchInput input = SearchInput.read(sensitivity);
        String planPreset = planPreset(input);
        Path modelDir = modelDir(input);
        SearchStorage storage = null;
        if (modelDir != null) {
            checkSha(input, modelDir);
            warnOnOtherSteps(input, modelDir);
            List<String> layers = input.groups().stream().flatMap(g -> g.layers().stream()).toList();
            storage = SearchStorage.fromModel(modelDir, layers, QuantConfigReader.preset(planPreset).weight());
        }
        SearchProblem problem = new SearchProblem(input, candidates, b, storage, mseWeight, QuantConfigReader.preset(planPreset));
        if (maxBytes != null) problem.withByteCap(SearchBudget.parse(maxBytes));
        problem.withSameForAllRanges(sameForAllRanges);
        List<SearchAllocation> results = new ArrayList<>();
        if (!method.equals("knapsack")) results.add(SearchGreedy.solve(problem));
        if (!method.equals("viditq")) results.add(SearchKnapsack.solve(problem));
        SearchAllocation chosen = results.get(results.size() - 1);
        for (SearchAllocation a : results) if (a.predictedLoss() < chosen.predictedLoss() - 1e-12) chosen = a;
        SearchAllocation other = null;
        for (SearchAllocation a : results) if (a != chosen) other = a;
        String command = "./viditq search --sensitivity " + sensitivity + " --budget " + budget + " --method " + method
                + (maxBytes == null ? "" : " --max-bytes " + maxBytes)
                + (candidates == null ? "" : " --candidates " + String.join(",", candidates))
                + (mseWeight > 0 ? " --mse-weight " + mseWeight : "")
                + (lowActivationBits == null ? "" : " --low-activation-bits " + lowActivationBits)
                + (sameForAllRanges ? " --same-for-all-ranges" : "") + (preset == null ? "" : " --preset " + preset);
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String yaml = SearchPlanWriter.yaml(problem, chosen, new SearchPlanWriter.Header(command, planPreset, date, other, lowActivationBits));
        SearchPlanWriter.write(out, yaml);
        report(problem, results, chosen);
        return 0;
    }

    /** --model, else the folder sensitivity.json names (as written, or relative to the sensitivity folder), else null. */
    private Path modelDir(SearchInput input) {
        if (model != null) return model;
        Path named = Path.of(input.model());
        Path base = Files.isDirectory(sensitivity) ? sensitivity : sensitivity.toAbsolutePath().getParent();
        for (Path p : new Path[]{named, base.resolve(named)}) if (Files.isDirectory(p)) return p;
        System.err.println("note: model folder " + input.model() + " not found: stored bytes are not computed (give --model DIR)");
        return null;
    }

    /** Refuses a sensitivity measured on other weights than the model's (e.g. a model retrained since). */
    private static void checkSha(SearchInput input, Path modelDir) {
        if (input.modelSha256() == null || input.modelSha256().isBlank()) return;
        Path file = Checkpoints.findIn(ModelFolder.resolve(modelDir).denoiser());
        String sha = sha256(file);
        if (!sha.startsWith(input.modelSha256().toLowerCase(Locale.ROOT)) && !input.modelSha256().toLowerCase(Locale.ROOT).startsWith(sha)) {
            throw new IllegalArgumentException(input.source() + " was measured on weights with sha256 " + input.modelSha256()
                    + ", but " + file + " has " + sha + ": measure the sensitivity of this model again");
        }
    }

    /** Step ranges are step indices: a model whose recipe samples another number of steps would shift them. */
    private static void warnOnOtherSteps(SearchInput input, Path modelDir) {
        Path config = ModelFolder.resolve(modelDir).denoiser().resolve("config.json");
        try {
            var steps = Json.MAPPER.readTree(config.toFile()).path("pipeline").path("steps");
            if (steps.isInt() && steps.asInt() != input.steps()) {
                System.err.println("note: the sensitivity ran " + input.steps() + " steps, the model's recipe runs " + steps.asInt()
                        + "; the plan's step ranges are step indices of a " + input.steps() + "-step run");
            }
        } catch (IOException e) {
            // no readable recipe: nothing to compare
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void report(SearchProblem p, List<SearchAllocation> results, SearchAllocation chosen) {
        if (json) {
            ObjectNode o = Json.object();
            o.put("sensitivity", p.input().source());
            o.put("model", p.input().model());
            o.put("model_sha256", p.input().modelSha256());
            ObjectNode bo = o.putObject("budget");
            bo.put("kind", p.budget().kind().name().toLowerCase(Locale.ROOT));
            bo.put("value", p.budget().value());
            bo.put("units", p.costsBytes() ? "stored bytes" : "weight bits x params x steps");
            bo.put("limit", p.budgetUnits());
            if (p.hasByteCap()) bo.put("max_bytes", p.byteCap());
            ArrayNode cands = o.putArray("candidates");
            for (int k = 0; k < p.choices(); k++) cands.add(p.candidate(k).name());
            ObjectNode scales = o.putObject("metric_scales");
            p.metricScales().forEach(scales::put);
            o.put("mse_weight", p.mseWeight());
            ArrayNode rs = o.putArray("results");
            for (SearchAllocation a : results) rs.add(result(p, a));
            o.put("chosen", chosen.method());
            o.put("out", out.toString());
            Json.print(o);
        }
        System.err.printf(Locale.ROOT, "budget %s%s; candidates %s%n", p.budget(), p.hasByteCap() ? ", at most " + p.byteCap() + " stored bytes" : "",
                java.util.stream.IntStream.range(0, p.choices()).mapToObj(k -> p.candidate(k).name()).toList());
        System.err.printf("%-9s %14s %12s %14s %12s%n", "method", "predicted loss", "avg w bits", "stored bytes", "2+ widths");
        for (SearchAllocation a : results) {
            System.err.printf(Locale.ROOT, "%-9s %14.4f %12.4f %14s %12d%n", a.method(), a.predictedLoss(), a.averageWeightBits(),
                    a.storedBytes() < 0 ? "?" : Long.toString(a.storedBytes()), a.layersWithTwoOrMoreWidths());
        }
        System.err.println("wrote " + out + " (" + chosen.method() + ")");
    }

    private static ObjectNode result(SearchProblem p, SearchAllocation a) {
        ObjectNode r = Json.object();
        r.put("method", a.method());
        r.put("predicted_loss", a.predictedLoss());
        r.put("average_weight_bits", a.averageWeightBits());
        if (a.storedBytes() >= 0) {
            r.put("stored_bytes", a.storedBytes());
            r.put("stored_bits_per_weight", p.storedBitsPerWeight(a.storedBytes()));
        }
        r.put("layers_with_two_or_more_widths", a.layersWithTwoOrMoreWidths());
        ObjectNode lm = r.putObject("loss_by_metric");
        a.lossByMetric().forEach(lm::put);
        ObjectNode alloc = r.putObject("allocation");
        for (int g = 0; g < p.groups(); g++) {
            ArrayNode row = alloc.putArray(p.input().groups().get(g).name());
            for (int k : a.choice()[g]) row.add(p.candidate(k).name());
        }
        return r;
    }
}
