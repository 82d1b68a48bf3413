package dev.viditq.nn.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.viditq.core.io.CheckpointException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.*;
import java.util.function.UnaryOperator;

/**
 * A Hugging Face {@code tokenizer.json} (the tokenizers library's format): added tokens split off first, then
 * normalizer, pre-tokenizer and model (Unigram or WordLevel) on the text between them, and the TemplateProcessing
 * post-processor for a single sequence (T5: {@code $A </s>}). Unsupported component types are refused by name.
 *
 * <p>Known simplifications: added tokens are matched in the raw text (also those marked {@code normalized}), their
 * {@code lstrip}/{@code rstrip}/{@code single_word} options are ignored. The Precompiled normalizer reads the charsmap
 * per grapheme as the tokenizers library does (not with SentencePiece's longest match); graphemes are Java's
 * {@code \X}, which may differ from Rust's unicode-segmentation on rare sequences.
 */
public final class HfTokenizer implements Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How the model turns one pre-tokenized piece into ids. */
    private interface Model {
        List<Integer> tokenize(String piece);
        int size();
        String piece(int id);
        int idOf(String token);
        int unkId();
    }

    private record AddedToken(String content, int id) {}

    private final List<AddedToken> addedTokens; // longest first, so that the longest match wins
    private final UnaryOperator<String> normalizer;
    private final HfPipeline.PreTokenizer preTokenizer;
    private final Model model;
    private final List<Object> template; // Integer ids of special tokens, and SEQUENCE where the text goes
    private final int numSpecial;
    private final int padId;
    private final Map<Integer, String> addedById = new HashMap<>();

    private static final Object SEQUENCE = new Object();

    private HfTokenizer(JsonNode root) {
        model = model(root.path("model"));
        addedTokens = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            AddedToken a = new AddedToken(HfPipeline.requiredText(t, "content"), t.path("id").asInt(-1));
            if (a.id() < 0) throw new IllegalArgumentException("added token '" + a.content() + "' has no id");
            addedTokens.add(a);
            addedById.put(a.id(), a.content());
        }
        addedTokens.sort(Comparator.comparingInt((AddedToken a) -> a.content().length()).reversed());
        normalizer = HfPipeline.normalizer(root.get("normalizer"));
        preTokenizer = HfPipeline.preTokenizer(root.get("pre_tokenizer"));
        template = template(root.get("post_processor"));
        numSpecial = (int) template.stream().filter(o -> o != SEQUENCE).count();
        padId = padId(root);
    }

    public static HfTokenizer load(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new CheckpointException(file, "is not a readable tokenizer.json: " + e.getMessage(), e);
        }
        try {
            return parse(root);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "cannot be used as a tokenizer: " + e.getMessage(), e);
        }
    }

    /** Builds the tokenizer from the parsed JSON of a tokenizer.json. */
    static HfTokenizer parse(JsonNode root) {
        if (root == null || !root.isObject()) throw new IllegalArgumentException("top level is not a JSON object");
        return new HfTokenizer(root);
    }

    @Override
    public int[] tokenize(String text) {
        List<Integer> ids = new ArrayList<>();
        int segmentStart = 0;
        for (int i = 0; i < text.length(); ) {
            AddedToken hit = addedTokenAt(text, i);
            if (hit == null) {
                i++;
                continue;
            }
            tokenizeSegment(text.substring(segmentStart, i), segmentStart == 0, ids);
            ids.add(hit.id());
            i += hit.content().length();
            segmentStart = i;
        }
        tokenizeSegment(text.substring(segmentStart), segmentStart == 0, ids);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private AddedToken addedTokenAt(String text, int i) {
        for (AddedToken a : addedTokens) if (!a.content().isEmpty() && text.startsWith(a.content(), i)) return a;
        return null;
    }

    private void tokenizeSegment(String segment, boolean startsInput, List<Integer> ids) {
        if (segment.isEmpty()) return;
        String normalized = normalizer.apply(segment);
        // a segment after an added token does not start the input: give it a non-zero offset
        List<HfPipeline.Piece> pieces = preTokenizer.split(List.of(new HfPipeline.Piece(normalized, startsInput ? 0 : 1)));
        for (HfPipeline.Piece p : pieces) {
            if (!p.text().isEmpty()) ids.addAll(model.tokenize(p.text()));
        }
    }

    @Override
    public int[] addSpecialTokens(int[] content) {
        int[] out = new int[content.length + numSpecial];
        int k = 0;
        for (Object item : template) {
            if (item == SEQUENCE) {
                System.arraycopy(content, 0, out, k, content.length);
                k += content.length;
            } else {
                out[k++] = (Integer) item;
            }
        }
        return out;
    }

    @Override
    public int numSpecialTokens() {
        return numSpecial;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public int unkId() {
        return model.unkId();
    }

    @Override
    public int vocabSize() {
        int max = model.size() - 1;
        for (int id : addedById.keySet()) max = Math.max(max, id);
        return max + 1;
    }

    @Override
    public String piece(int id) {
        String added = addedById.get(id);
        if (added != null) return added;
        if (id < 0 || id >= model.size()) throw new IllegalArgumentException("id " + id + " is outside the vocabulary");
        return model.piece(id);
    }

    // ---------------------------------------------------------------- parts

    /** Id of a token by its text: added tokens first, then the model's vocabulary; -1 when absent. */
    private int tokenId(String token) {
        for (AddedToken a : addedTokens) if (a.content().equals(token)) return a.id();
        return model.idOf(token);
    }

    private int padId(JsonNode root) {
        JsonNode padding = root.get("padding");
        if (padding != null && padding.isObject() && padding.has("pad_id")) return padding.get("pad_id").asInt();
        int pad = tokenId("<pad>");
        return pad >= 0 ? pad : 0; // padded positions are masked out, so any valid id serves
    }

    /** The single-sequence template of the post-processor: special token ids around SEQUENCE. */
    private List<Object> template(JsonNode post) {
        if (post == null || post.isNull()) return List.of(SEQUENCE);
        String type = post.path("type").asText();
        return switch (type) {
            case "TemplateProcessing" -> templateProcessing(post);
            case "Sequence" -> {
                List<Object> t = List.of(SEQUENCE);
                for (JsonNode p : post.path("processors")) {
                    List<Object> inner = template(p);
                    List<Object> merged = new ArrayList<>();
                    for (Object o : inner) {
                        if (o == SEQUENCE) merged.addAll(t);
                        else merged.add(o);
                    }
                    t = merged;
                }
                yield t;
            }
            default -> throw new IllegalArgumentException("post-processor type '" + type
                    + "' is not supported (supported: TemplateProcessing, Sequence)");
        };
    }

    private List<Object> templateProcessing(JsonNode post) {
        JsonNode special = post.path("special_tokens");
        List<Object> t = new ArrayList<>();
        for (JsonNode item : post.path("single")) {
            if (item.has("Sequence")) {
                t.add(SEQUENCE);
            } else if (item.has("SpecialToken")) {
                String name = HfPipeline.requiredText(item.get("SpecialToken"), "id");
                JsonNode ids = special.path(name).path("ids");
                if (ids.isArray() && !ids.isEmpty()) {
                    for (JsonNode id : ids) t.add(id.asInt());
                } else {
                    int id = tokenId(name);
                    if (id < 0) throw new IllegalArgumentException("template special token '" + name + "' has no id");
                    t.add(id);
                }
            } else {
                throw new IllegalArgumentException("template item " + item + " is neither Sequence nor SpecialToken");
            }
        }
        if (!t.contains(SEQUENCE)) throw new IllegalArgumentException("post-processor template has no $A sequence");
        return t;
    }

    private static Model model(JsonNode m) {
        String type = m.path("type").asText(m.has("vocab") && m.get("vocab").isObject() ? "WordLevel" : "");
        return switch (type) {
            case "Unigram" -> unigram(m);
            case "WordLevel" -> wordLevel(m);
            default -> throw new IllegalArgumentException("model type '" + type + "' is not supported (supported: Unigram, WordLevel)");
        };
    }

    private static Model unigram(JsonNode m) {
        JsonNode vocab = m.path("vocab");
        if (!vocab.isArray() || vocab.isEmpty()) throw new IllegalArgumentException("Unigram model has no vocab array");
        int n = vocab.size();
        String[] pieces = new String[n];
        double[] scores = new double[n];
        UnigramModel.Kind[] kinds = new UnigramModel.Kind[n];
        for (int i = 0; i < n; i++) {
            JsonNode e = vocab.get(i);
            if (!e.isArray() || e.size() < 2 || !e.get(0).isTextual() || !e.get(1).isNumber()) {
                throw new IllegalArgumentException("Unigram vocab entry " + i + " is not [piece, score]: " + e);
            }
            pieces[i] = e.get(0).asText();
            scores[i] = e.get(1).asDouble();
            kinds[i] = UnigramModel.Kind.NORMAL; // the tokenizers library matches (and scores) every entry, <unk> too
        }
        JsonNode unk = m.get("unk_id");
        int unkId = unk == null || unk.isNull() ? -1 : unk.asInt();
        if (unkId >= n) throw new IllegalArgumentException("unk_id " + unkId + " is outside the vocabulary of " + n);
        UnigramModel um = new UnigramModel(pieces, scores, kinds, unkId, m.path("byte_fallback").asBoolean(false));
        return new Model() {
            public List<Integer> tokenize(String piece) { return um.encode(piece); }
            public int size() { return um.size(); }
            public String piece(int id) { return um.piece(id); }
            public int idOf(String token) { return um.idOf(token); }
            public int unkId() { return um.unkId(); }
        };
    }

    private static Model wordLevel(JsonNode m) {
        JsonNode vocab = m.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) throw new IllegalArgumentException("WordLevel model has no vocab object");
        Map<String, Integer> ids = new HashMap<>();
        Map<Integer, String> tokens = new HashMap<>();
        vocab.fields().forEachRemaining(e -> {
            ids.put(e.getKey(), e.getValue().asInt());
            tokens.put(e.getValue().asInt(), e.getKey());
        });
        String unkToken = m.path("unk_token").asText(null);
        Integer unkId = unkToken == null ? null : ids.get(unkToken);
        if (unkToken != null && unkId == null) throw new IllegalArgumentException("WordLevel unk_token '" + unkToken + "' is not in the vocab");
        int size = tokens.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        return new Model() {
            public List<Integer> tokenize(String piece) {
                Integer id = ids.get(piece);
                if (id != null) return List.of(id);
                if (unkId == null) throw new IllegalArgumentException("word '" + piece + "' is not in the vocab and there is no unk_token");
                return List.of(unkId);
            }
            public int size() { return size; }
            public String piece(int id) {
                String t = tokens.get(id);
                if (t == null) throw new IllegalArgumentException("id " + id + " is not in the vocab");
                return t;
            }
            public int idOf(String token) { return ids.getOrDefault(token, -1); }
            public int unkId() { return unkId == null ? -1 : unkId; }
        };
    }
}
