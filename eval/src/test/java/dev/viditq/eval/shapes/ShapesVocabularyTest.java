package dev.viditq.eval.shapes;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ShapesVocabularyTest {
    @Test
    void tokenizeSplitsPunctuationOff() {
        assertEquals(List.of("two", "shapes", ":", "a", "red", "circle", ",", "black", "background"),
                ShapesVocabulary.tokenize("Two shapes: a red circle, black  background"));
    }

    @Test
    void captionsUseOnlyVocabularyWordsAndUseThemAll() {
        Set<String> vocabulary = new HashSet<>(ShapesVocabulary.words());
        assertEquals(vocabulary.size(), ShapesVocabulary.words().size(), "no duplicates");
        Set<String> used = new HashSet<>();
        for (Kind kind : Kind.values()) {
            for (int i = 0; i < 5000; i++) {
                for (String token : ShapesVocabulary.tokenize(ShapesGenerator.train(kind, 11, i).caption())) {
                    assertTrue(vocabulary.contains(token), "not in the vocabulary: " + token);
                    used.add(token);
                }
            }
        }
        Set<String> unused = new HashSet<>(vocabulary);
        unused.removeAll(used);
        assertEquals(Set.of(), unused, "vocabulary words no caption uses");
    }

    @Test
    void wordsAreSortedLowerCaseTokens() {
        List<String> words = ShapesVocabulary.words();
        assertEquals(words.stream().sorted().toList(), words);
        for (String w : words) assertEquals(List.of(w), ShapesVocabulary.tokenize(w), w);
    }
}
