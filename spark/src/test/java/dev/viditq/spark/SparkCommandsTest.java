package dev.viditq.spark;

import dev.viditq.core.testing.CapturedRun;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The --spark commands against the plain ones on the bundled text-to-image model, on Spark local mode (one
 * SparkContext for the whole class: starting one takes seconds). Outputs must be the same bytes, timings aside, also
 * when the first attempt of a task fails.
 */
class SparkCommandsTest {
    static final Path T2I = Path.of(System.getProperty("viditq.models", "../assets/models")).resolve("shapes-t2i");
    static final String SPARK = "local[2]";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path calibration;

    @BeforeAll
    static void calibrate() {
        calibration = tmp.resolve("plain.calib.safetensors");
        run("calibrate", "--model", T2I.toString(), "--count", "3", "--steps", "3", "--hessians", "--out", calibration.toString());
    }

    /** Runs a command in this JVM; returns its stdout after checking it succeeded. */
    static String run(String... args) {
        CapturedRun r = CapturedRun.of(() -> Main.execute(args));
        assertEquals(0, r.code(), () -> String.join(" ", args) + "\n" + r.err());
        return r.out();
    }

    /** A task's first attempt fails in the next stage whose name starts with {@code stage}; true when it did. */
    static void failFirstAttempt(String stage, int task) {
        System.setProperty(SparkCluster.FAIL_PROPERTY, stage + ":" + task);
    }

    static void assertInjectedFailureHappened() {
        assertNull(System.getProperty(SparkCluster.FAIL_PROPERTY), "no stage took the injected failure");
    }

    @Test
    void calibrationWithHessiansIsByteIdenticalDespiteAFailedTask() throws IOException {
        Path spark = tmp.resolve("spark.calib.safetensors");
        failFirstAttempt("calibrate", 1);
        run("calibrate", "--model", T2I.toString(), "--count", "3", "--steps", "3", "--hessians", "--out", spark.toString(), "--spark", SPARK);
        assertInjectedFailureHappened();
        assertArrayEquals(Files.readAllBytes(calibration), Files.readAllBytes(spark));
    }

    @Test
    void evalJsonIsTheSameButForTimings() throws IOException {
        String[] args = {"eval", "--model", T2I.toString(), "--reference", T2I.toString(), "--count", "4", "--batch", "2",
                "--steps", "3", "--json"};
        JsonNode plain = withoutTimings(JSON.readTree(run(args)));
        failFirstAttempt("eval model", 1);
        JsonNode spark = withoutTimings(JSON.readTree(run(concat(args, "--spark", SPARK))));
        assertInjectedFailureHappened();
        assertEquals(JSON.writeValueAsString(plain), JSON.writeValueAsString(spark));
        assertTrue(plain.has("psnr") && plain.has("alignment"), plain::toString);
    }

    @Test
    void sensitivityIsTheSameButForTimingsAndARerunMeasuresNothing() throws IOException {
        Path plainDir = tmp.resolve("sens-plain"), sparkDir = tmp.resolve("sens-spark");
        String[] args = {"sensitivity", "--model", T2I.toString(), "--calibration", calibration.toString(), "--count", "2",
                "--steps", "3", "--candidates", "W4A8", "--ranges", "2", "--json", "--out"};
        run(concat(args, plainDir.toString()));
        failFirstAttempt("sensitivity", 3);
        run(concat(args, sparkDir.toString(), "--spark", SPARK));
        assertInjectedFailureHappened();
        assertEquals(sensitivityWithoutTimings(plainDir), sensitivityWithoutTimings(sparkDir));
        JsonNode again = JSON.readTree(run(concat(args, sparkDir.toString(), "--spark", SPARK)));
        assertEquals(0, again.get("measured").asInt(), again::toString);
    }

    @Test
    void sweepQualityIsTheSame() throws IOException {
        String[] args = {"sweep", "--model", T2I.toString(), "--settings", "float,naive-w8a8", "--count", "2", "--batch", "2",
                "--steps", "3", "--calibration-count", "2", "--sheet", "2", "--json", "--out"};
        JsonNode plain = JSON.readTree(run(concat(args, tmp.resolve("sweep-plain").toString())));
        JsonNode spark = JSON.readTree(run(concat(args, tmp.resolve("sweep-spark").toString(), "--spark", SPARK)));
        assertEquals(2, spark.get("settings").size());
        for (int i = 0; i < 2; i++) {
            for (String k : new String[]{"setting", "alignment", "psnr", "ssim", "model_bytes"}) {
                assertEquals(plain.get("settings").get(i).path(k), spark.get("settings").get(i).path(k), k + " of setting " + i);
            }
        }
        assertArrayEquals(Files.readAllBytes(tmp.resolve("sweep-plain").resolve("calibration.safetensors")),
                Files.readAllBytes(tmp.resolve("sweep-spark").resolve("calibration.safetensors")));
    }

    static JsonNode withoutTimings(JsonNode report) {
        ObjectNode o = report.deepCopy();
        o.remove("seconds_per_sample");
        o.remove("seconds_per_step");
        o.remove("timing");
        return o;
    }

    static String sensitivityWithoutTimings(Path dir) throws IOException {
        ObjectNode o = (ObjectNode) JSON.readTree(dir.resolve("sensitivity.json").toFile());
        o.remove("timing");
        ((ObjectNode) o.get("float")).remove("seconds");
        o.get("entries").forEach(e -> ((ObjectNode) e).remove("seconds"));
        return JSON.writeValueAsString(o);
    }

    static String[] concat(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }
}
