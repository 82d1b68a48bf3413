package dev.viditq.eval.mp;

import dev.viditq.core.io.SafeOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The output folder of a sensitivity run and what makes it resumable: {@code run.json} (the settings every entry
 * depends on; a restart with other settings is refused) and {@code entries.jsonl} (one finished entry per line,
 * rewritten whole through a temporary file and an atomic rename, so an interruption leaves the previous version).
 */
final class SensitivityStore {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final Map<String, SensitivityEntry> entries = new LinkedHashMap<>();

    private SensitivityStore(Path dir) {
        this.dir = dir;
    }

    /**
     * Opens (creating) {@code dir} for a run with {@code settings}: entries of an earlier run with equal settings are
     * loaded; a folder holding another run's entries is refused. Candidates are not part of the settings, so a rerun
     * with more candidates keeps what was measured.
     */
    static SensitivityStore open(Path dir, ObjectNode given) {
        SensitivityStore s = new SensitivityStore(dir);
        try {
            // as read back from a file (numbers typed the way the parser types them), so that equal settings compare equal
            JsonNode settings = JSON.readTree(JSON.writeValueAsString(given));
            Files.createDirectories(dir);
            Path run = dir.resolve("run.json");
            if (Files.isRegularFile(run)) {
                JsonNode old = JSON.readTree(run.toFile());
                if (!old.equals(settings)) {
                    throw new IllegalArgumentException(dir + " holds a sensitivity run with other settings (" + difference(old, settings)
                            + "); give another --out, or delete " + dir.resolve("entries.jsonl") + " and " + run + " to start over");
                }
                s.load();
            } else {
                if (Files.exists(dir.resolve("entries.jsonl"))) {
                    throw new IllegalArgumentException(dir + " has entries.jsonl but no run.json: not a folder this command wrote completely");
                }
                writeAtomically(run, PRETTY.writeValueAsString(settings) + "\n");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use " + dir + " for the sensitivity results: " + e.getMessage(), e);
        }
        return s;
    }

    Path dir() {
        return dir;
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    SensitivityEntry get(String key) {
        return entries.get(key);
    }

    int size() {
        return entries.size();
    }

    /** Adds a finished entry and rewrites entries.jsonl. */
    void add(SensitivityEntry e) {
        entries.put(e.key(), e);
        StringBuilder b = new StringBuilder();
        try {
            for (SensitivityEntry x : entries.values()) b.append(JSON.writeValueAsString(x.toJson(JSON))).append('\n');
            writeAtomically(dir.resolve("entries.jsonl"), b.toString());
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write " + dir.resolve("entries.jsonl") + ": " + ex.getMessage(), ex);
        }
    }

    private void load() throws IOException {
        Path file = dir.resolve("entries.jsonl");
        if (!Files.isRegularFile(file)) return;
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            try {
                SensitivityEntry e = SensitivityEntry.fromJson(JSON.readTree(line));
                entries.put(e.key(), e);
            } catch (IOException | RuntimeException ex) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + " is not an entry (" + ex.getMessage() + "); delete the line "
                        + "to measure that entry again");
            }
        }
    }

    /** Writes through a temporary file in the same folder and a rename: readers see the old or the new file, whole. */
    static void writeAtomically(Path file, String text) throws IOException {
        writeAtomically(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        SafeOutput.write(file, tmp -> Files.write(tmp, bytes));
    }

    /** The first top-level settings that differ, for the refusal message. */
    private static String difference(JsonNode old, JsonNode now) {
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = now.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!now.get(k).equals(old.get(k))) keys.add(k + ": was " + abbreviate(old.get(k)) + ", now " + abbreviate(now.get(k)));
        }
        for (Iterator<String> it = old.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!now.has(k)) keys.add(k + " no longer given");
        }
        return keys.isEmpty() ? "unknown difference" : String.join("; ", keys.subList(0, Math.min(3, keys.size())));
    }

    private static String abbreviate(JsonNode n) {
        String s = n == null ? "absent" : n.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
