package dev.viditq.nn.text;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our {@code tokenizer.json} reader against Hugging Face tokenizers itself (the Rust library, through DJL's bindings),
 * live: every tokenizer.json of the cases directory (T5/umT5-layout files: Precompiled charsmap, Metaspace, Unigram
 * with and without byte fallback; written by {@code reference/tokenizer_cases.py}) and of the bundled models, on
 * every string of the cases. Data-driven like {@link TokenizerReferenceCasesTest}.
 */
class TokenizerJsonAgainstRustTest {
    private static final Path CASES = Path.of(System.getProperty("viditq.tokenizerCases", "src/test/resources/tokenizer-cases"));
    private static final Path MODELS = Path.of("../assets/models");

    @TestFactory
    Stream<DynamicTest> everyTokenizerJsonEncodesAsTokenizersDoes() throws IOException {
        List<String> strings = strings();
        List<Path> files = new ArrayList<>();
        for (Path root : List.of(CASES, MODELS)) {
            if (!Files.isDirectory(root)) continue;
            try (Stream<Path> s = Files.walk(root, 3)) {
                s.filter(p -> p.getFileName().toString().equals("tokenizer.json")).sorted().forEach(files::add);
            }
        }
        assertFalse(files.isEmpty(), "no tokenizer.json under " + CASES.toAbsolutePath() + " or " + MODELS.toAbsolutePath());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getParent().getFileName() + "/" + f.getFileName(), () -> check(f, strings)));
    }

    /** The strings of every cases.json, in order, once each. */
    private static List<String> strings() throws IOException {
        Set<String> all = new LinkedHashSet<>();
        try (Stream<Path> s = Files.list(CASES)) {
            for (Path folder : s.sorted().toList()) {
                Path cases = folder.resolve("cases.json");
                if (!Files.isRegularFile(cases)) continue;
                for (JsonNode t : new ObjectMapper().readTree(cases.toFile()).required("strings")) all.add(t.asText());
            }
        }
        assertFalse(all.isEmpty(), "no strings in the cases under " + CASES.toAbsolutePath());
        return List.copyOf(all);
    }

    private static void check(Path file, List<String> strings) throws IOException {
        Tokenizer ours = Tokenizers.load(file);
        List<String> mismatches = new ArrayList<>();
        try (HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(file,
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"))) {
            for (String text : strings) {
                long[] want = rust.encode(text).getIds();
                int[] got = ours.encode(text);
                if (!Arrays.equals(Arrays.stream(want).mapToInt(Math::toIntExact).toArray(), got)) {
                    mismatches.add(TokenizerReferenceCasesTest.quoted(text) + "\n    tokenizers " + Arrays.toString(want)
                            + "\n    ours       " + Arrays.toString(got));
                }
            }
        }
        if (!mismatches.isEmpty()) {
            fail(file + " differs from tokenizers on " + mismatches.size() + " of " + strings.size() + " strings:\n  "
                    + String.join("\n  ", mismatches));
        }
    }
}
