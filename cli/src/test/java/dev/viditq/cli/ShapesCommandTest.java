package dev.viditq.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

class ShapesCommandTest {
    @TempDir
    Path tmp;

    /** Runs the CLI, returning its stdout; fails unless it exits with {@code expectedRc}. */
    private static String run(int expectedRc, String... args) {
        return CliRun.run(args).out(expectedRc);
    }

    @Test
    void exportsAFixedSplitAtItsStandardSize() throws Exception {
        Path gz = tmp.resolve("eval-video.safetensors.gz");
        JsonNode out = Json.MAPPER.readTree(run(0, "shapes", "export", "--kind", "video", "--split", "eval", "--out", gz.toString(), "--json"));
        assertEquals(64, out.get("count").asInt());
        Path plain = tmp.resolve("eval-video.safetensors");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            Files.copy(in, plain);
        }
        try (Safetensors st = Safetensors.open(plain)) {
            assertEquals("eval", st.metadata().get("split"));
            assertArrayEquals(new long[]{64, 16, 32, 32, 3}, st.get("pixels").shape());
        }
    }

    @Test
    void refusesAmbiguousRequests() {
        Path out = tmp.resolve("x.safetensors");
        run(1, "shapes", "export", "--kind", "image", "--split", "train", "--out", out.toString()); // no --count
        run(1, "shapes", "export", "--kind", "image", "--split", "eval", "--seed", "3", "--out", out.toString());
        run(1, "shapes", "export", "--kind", "picture", "--split", "eval", "--out", out.toString());
        assertFalse(Files.exists(out));
    }

    @Test
    void checkReportsPerAttributeAccuracy() throws Exception {
        JsonNode out = Json.MAPPER.readTree(run(0, "shapes", "check", "--count", "12", "--json"));
        assertEquals(12, out.get("image").get("count").asInt());
        assertTrue(out.get("image").get("accuracy").has("position"));
        assertTrue(out.get("video").get("accuracy").has("direction"));
        run(1, "shapes", "check", "--count", "4", "--noise", "0.5", "--min-accuracy", "0.99"); // noise that wrecks it
    }

    @Test
    void samplesAreWrittenWithCaptions() throws Exception {
        run(0, "shapes", "sample", "--out", tmp.toString(), "--count", "2", "--scale", "2");
        assertEquals(4, Files.readAllLines(tmp.resolve("captions.txt")).size());
        assertTrue(Files.exists(tmp.resolve("train_image_001.png")));
        assertTrue(Files.exists(tmp.resolve("train_video_001.gif")));
        assertTrue(Files.exists(tmp.resolve("train_video_001_frames.png")));
    }

    @Test
    void promptsListsTheEvalSet() {
        String out = run(0, "shapes", "prompts", "--kind", "image");
        assertEquals(200, out.lines().count());
        assertTrue(out.startsWith("0\t"));
    }
}
