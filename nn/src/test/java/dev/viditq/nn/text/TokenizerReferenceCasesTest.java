package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our readers of {@code spiece.model} and {@code tokenizer.json} against the real libraries: each folder of the cases
 * directory holds both files of one SentencePiece Unigram model (trained and converted by
 * {@code reference/tokenizer_cases.py}: nmt_nfkc normalization as T5 and umT5, with and without byte fallback) and the
 * ids {@code sentencepiece} and {@code tokenizers} gave for a set of hard strings (a folder may hold either file and its
 * ids alone). Data-driven: another directory
 * ({@code -Dviditq.tokenizerCases=DIR}) with other models and strings is checked the same way.
 */
class TokenizerReferenceCasesTest {
    private static final Path CASES = Path.of(System.getProperty("viditq.tokenizerCases", "src/test/resources/tokenizer-cases"));

    @TestFactory
    Stream<DynamicTest> everyStringTokenizesAsTheRealLibraryDoes() throws IOException {
        assertTrue(Files.isDirectory(CASES), "no tokenizer cases at " + CASES.toAbsolutePath());
        List<Path> folders;
        try (Stream<Path> s = Files.list(CASES)) {
            folders = s.filter(p -> Files.isRegularFile(p.resolve("cases.json"))).sorted().toList();
        }
        assertFalse(folders.isEmpty(), "no folder with a cases.json under " + CASES.toAbsolutePath());
        return folders.stream().flatMap(folder -> {
            JsonNode cases = read(folder);
            Stream.Builder<DynamicTest> tests = Stream.builder();
            // each file whose reference ids the folder holds: spiece.model (sentencepiece), tokenizer.json (tokenizers)
            if (cases.has("spiece")) {
                tests.add(DynamicTest.dynamicTest(folder.getFileName() + ": spiece.model against sentencepiece",
                        () -> check(folder, cases, "spiece.model", "spiece")));
            }
            if (cases.has("tokenizer_json")) {
                tests.add(DynamicTest.dynamicTest(folder.getFileName() + ": tokenizer.json against tokenizers",
                        () -> check(folder, cases, "tokenizer.json", "tokenizer_json")));
            }
            return tests.build();
        });
    }

    private static JsonNode read(Path folder) {
        try {
            JsonNode cases = new ObjectMapper().readTree(folder.resolve("cases.json").toFile());
            if (!cases.has("spiece") && !cases.has("tokenizer_json")) {
                throw new AssertionError(folder.resolve("cases.json") + " holds no reference ids (spiece, tokenizer_json)");
            }
            return cases;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void check(Path folder, JsonNode cases, String file, String expectedKey) {
        JsonNode strings = cases.required("strings"), expected = cases.required(expectedKey);
        Tokenizer tokenizer = Tokenizers.load(folder.resolve(file));
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < strings.size(); i++) {
            String text = strings.get(i).asText();
            int[] want = ids(expected.get(i));
            int[] got = tokenizer.encode(text);
            if (!Arrays.equals(want, got)) {
                mismatches.add(quoted(text) + "\n    expected " + Arrays.toString(want) + "\n    got      " + Arrays.toString(got));
            }
        }
        if (!mismatches.isEmpty()) {
            fail(file + " of " + folder.getFileName() + " differs from the reference on " + mismatches.size() + " of "
                    + strings.size() + " strings:\n  " + String.join("\n  ", mismatches));
        }
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = array.get(i).asInt();
        return ids;
    }

    /** The text with control and invisible characters spelled as escapes, for a readable failure. */
    static String quoted(String text) {
        StringBuilder b = new StringBuilder("\"");
        text.codePoints().forEach(c -> {
            if (c < 0x20 || (c >= 0x7f && c < 0xa0) || Character.getType(c) == Character.FORMAT
                    || Character.isWhitespace(c) && c != ' ') {
                b.append(String.format("\\u%04x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.append('"').toString();
    }
}
