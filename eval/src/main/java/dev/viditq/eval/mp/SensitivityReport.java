package dev.viditq.eval.mp;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The files of a sensitivity run: sensitivity.json (after every entry, {@code complete} false until the end),
 * and at the end sensitivity.csv and the heat maps. Entries are listed in group, candidate, range order whatever the
 * order they were measured in (a resumed run may have measured them in another).
 */
final class SensitivityReport {
    private final Supplier<ObjectNode> header;
    private final SensitivityStore store;
    private final List<SensitivityGroups.Group> groups;
    private final List<Sensitivity.Candidate> candidates;
    private final List<Sensitivity.Range> ranges;
    private final SensitivityScoring.Outcome reference;
    private final double floatSeconds;
    private ObjectNode cachedHeader;

    SensitivityReport(Supplier<ObjectNode> header, SensitivityStore store, List<SensitivityGroups.Group> groups,
                      List<Sensitivity.Candidate> candidates, List<Sensitivity.Range> ranges, SensitivityScoring.Outcome reference,
                      double floatSeconds) {
        this.header = header;
        this.store = store;
        this.groups = groups;
        this.candidates = candidates;
        this.ranges = ranges;
        this.reference = reference;
        this.floatSeconds = floatSeconds;
    }

    /** The entries measured so far, in group, candidate, range order. */
    List<SensitivityEntry> entries() {
        List<SensitivityEntry> out = new ArrayList<>();
        for (SensitivityGroups.Group g : groups) {
            for (Sensitivity.Candidate c : candidates) {
                for (Sensitivity.Range r : ranges) {
                    SensitivityEntry e = store.get(SensitivityEntry.key(g.name(), r.index(), c.name()));
                    if (e != null) out.add(e);
                }
            }
        }
        return out;
    }

    private boolean measuredEverywhere(Sensitivity.Candidate c) {
        for (SensitivityGroups.Group g : groups) {
            for (Sensitivity.Range r : ranges) if (store.get(SensitivityEntry.key(g.name(), r.index(), c.name())) == null) return false;
        }
        return true;
    }

    ObjectNode json(boolean complete, double seconds, int measured) {
        if (cachedHeader == null) cachedHeader = header.get();
        ObjectNode o = cachedHeader.deepCopy();
        o.put("complete", complete);
        // "candidates" lists those measured in every (group, range), so that a search can use a partial run
        ArrayNode requested = o.putArray("candidates_requested");
        ArrayNode measuredCandidates = o.putArray("candidates");
        for (Sensitivity.Candidate c : candidates) {
            if (c.isFloat()) continue;
            requested.add(c.name());
            if (measuredEverywhere(c)) measuredCandidates.add(c.name());
        }
        ObjectNode f = o.putObject("float");
        f.put("alignment", reference.alignment());
        double[] components = reference.temporalComponents();
        if (components == null) {
            f.putNull("motion_accuracy");
            f.putNull("temporal_components");
        } else {
            double motion = reference.scores().motionAccuracy();
            if (Double.isFinite(motion)) f.put("motion_accuracy", motion);
            else f.putNull("motion_accuracy");
            ObjectNode c = f.putObject("temporal_components");
            for (int i = 0; i < components.length; i++) {
                if (Double.isFinite(components[i])) c.put(SensitivityEntry.TEMPORAL_COMPONENTS.get(i), components[i]);
                else c.putNull(SensitivityEntry.TEMPORAL_COMPONENTS.get(i));
            }
        }
        f.put("seconds", round(floatSeconds));
        List<SensitivityEntry> entries = entries();
        ArrayNode es = o.putArray("entries");
        for (SensitivityEntry e : entries) es.add(e.toJson(SensitivityStore.JSON));
        ObjectNode t = o.putObject("timing");
        t.put("seconds", round(seconds));
        t.put("float_seconds", round(floatSeconds));
        t.put("entries", entries.size());
        t.put("entries_total", groups.size() * candidates.size() * ranges.size());
        t.put("entries_measured_this_run", measured);
        // over every entry listed, also those measured by earlier (resumed) runs
        t.put("entry_seconds_sum", round(entries.stream().mapToDouble(SensitivityEntry::seconds).sum()));
        return o;
    }

    /**
     * Writes sensitivity.json; when {@code last} (the run's end, complete or time-boxed) also the CSV and the heat maps
     * (cells not measured are grey). Returns the files written.
     */
    List<Path> write(boolean complete, boolean last, double seconds, int measured) {
        Path dir = store.dir();
        List<Path> files = new ArrayList<>();
        try {
            Path json = dir.resolve("sensitivity.json");
            SensitivityStore.writeAtomically(json, SensitivityStore.PRETTY.writeValueAsString(json(complete, seconds, measured)) + "\n");
            files.add(json);
            if (!last) return files;
            Path csv = dir.resolve("sensitivity.csv");
            StringBuilder b = new StringBuilder(SensitivityEntry.csvHeader()).append('\n');
            for (SensitivityEntry e : entries()) b.append(e.csvRow()).append('\n');
            SensitivityStore.writeAtomically(csv, b.toString());
            files.add(csv);
            files.addAll(SensitivityHeatmap.writeAll(dir, groups, candidates, ranges, entries(), cachedHeader));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the sensitivity results to " + dir + ": " + e.getMessage(), e);
        }
        return files;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 1000) / 1000.0;
    }
}
