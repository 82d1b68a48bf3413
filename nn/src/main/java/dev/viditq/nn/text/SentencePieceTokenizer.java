package dev.viditq.nn.text;

import dev.viditq.core.io.CheckpointException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece Unigram model ({@code spiece.model}, the file the real T5 ships), used the way transformers'
 * T5Tokenizer uses it: SentencePiece normalization and segmentation, then the EOS id appended.
 *
 * <p>The ModelProto is read by hand (fields: pieces {piece, score, type}; trainer_spec {model_type, byte_fallback,
 * unk/bos/eos/pad ids}; normalizer_spec {precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces,
 * escape_whitespaces}); a protobuf dependency would buy nothing for these few fields.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    /** SentencePiece's whitespace meta symbol U+2581. */
    static final String SPACE_SYMBOL = "\u2581";

    private static final int TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3, TYPE_USER_DEFINED = 4,
            TYPE_UNUSED = 5, TYPE_BYTE = 6;
    private static final int MODEL_UNIGRAM = 1;

    private final UnigramModel model;
    private final PrecompiledCharsMap charsMap; // null: identity
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final int eosId;
    private final int padId;

    private SentencePieceTokenizer(UnigramModel model, PrecompiledCharsMap charsMap, boolean addDummyPrefix,
                                   boolean removeExtraWhitespaces, boolean escapeWhitespaces, int eosId, int padId) {
        this.model = model;
        this.charsMap = charsMap;
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.eosId = eosId;
        this.padId = padId;
    }

    public static SentencePieceTokenizer load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read SentencePiece model: " + e.getMessage(), e);
        }
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "is not a valid SentencePiece model: " + e.getMessage(), e);
        }
    }

    /** Parses a serialized ModelProto. */
    static SentencePieceTokenizer parse(byte[] modelProto) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        // proto2 defaults of TrainerSpec and NormalizerSpec
        int modelType = MODEL_UNIGRAM, unkId = 0, eosId = 2, padId = -1;
        boolean byteFallback = false, addDummyPrefix = true, removeExtra = true, escape = true;
        byte[] charsMap = null;
        ProtoReader r = new ProtoReader(modelProto);
        while (r.next()) {
            switch (r.field()) {
                case 1 -> readPiece(r.message(), pieces, scores, types);
                case 2 -> {
                    ProtoReader t = r.message();
                    while (t.next()) {
                        switch (t.field()) {
                            case 3 -> modelType = t.int32();
                            case 35 -> byteFallback = t.bool();
                            case 40 -> unkId = t.int32();
                            case 42 -> eosId = t.int32();
                            case 43 -> padId = t.int32();
                            default -> t.skip();
                        }
                    }
                }
                case 3 -> {
                    ProtoReader n = r.message();
                    while (n.next()) {
                        switch (n.field()) {
                            case 2 -> charsMap = n.bytes();
                            case 3 -> addDummyPrefix = n.bool();
                            case 4 -> removeExtra = n.bool();
                            case 5 -> escape = n.bool();
                            default -> n.skip();
                        }
                    }
                }
                default -> r.skip();
            }
        }
        if (pieces.isEmpty()) throw new IllegalArgumentException("no pieces");
        if (modelType != MODEL_UNIGRAM) {
            throw new IllegalArgumentException("model type " + modelType + " is not Unigram (1); only Unigram models are supported");
        }
        int n = pieces.size();
        checkId("unk_id", unkId, n, true);
        checkId("eos_id", eosId, n, false);
        checkId("pad_id", padId, n, false);
        String[] p = pieces.toArray(String[]::new);
        double[] s = new double[n];
        UnigramModel.Kind[] kinds = new UnigramModel.Kind[n];
        for (int i = 0; i < n; i++) {
            s[i] = scores.get(i);
            kinds[i] = switch (types.get(i)) {
                case TYPE_NORMAL -> UnigramModel.Kind.NORMAL;
                case TYPE_USER_DEFINED -> UnigramModel.Kind.USER_DEFINED;
                case TYPE_UNKNOWN, TYPE_CONTROL, TYPE_UNUSED, TYPE_BYTE -> UnigramModel.Kind.RESERVED;
                default -> throw new IllegalArgumentException("piece " + i + " '" + p[i] + "' has unknown type " + types.get(i));
            };
        }
        UnigramModel model = new UnigramModel(p, s, kinds, unkId, byteFallback);
        PrecompiledCharsMap map = charsMap == null || charsMap.length == 0 ? null : new PrecompiledCharsMap(charsMap);
        // T5 pads with id 0 (<pad>) and its model says so; a model without a pad id pads with the unknown token.
        return new SentencePieceTokenizer(model, map, addDummyPrefix, removeExtra, escape, eosId, padId >= 0 ? padId : unkId);
    }

    private static void readPiece(ProtoReader m, List<String> pieces, List<Float> scores, List<Integer> types) {
        String piece = "";
        float score = 0;
        int type = TYPE_NORMAL;
        while (m.next()) {
            switch (m.field()) {
                case 1 -> piece = m.string();
                case 2 -> score = m.float32();
                case 3 -> type = m.int32();
                default -> m.skip();
            }
        }
        pieces.add(piece);
        scores.add(score);
        types.add(type);
    }

    private static void checkId(String name, int id, int vocab, boolean required) {
        if ((required && id < 0) || id >= vocab) {
            throw new IllegalArgumentException(name + " " + id + " is outside the vocabulary of " + vocab + " pieces");
        }
    }

    @Override
    public int[] tokenize(String text) {
        return model.encode(normalize(text)).stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int[] addSpecialTokens(int[] content) {
        if (eosId < 0) return content.clone();
        int[] out = java.util.Arrays.copyOf(content, content.length + 1);
        out[content.length] = eosId;
        return out;
    }

    @Override
    public int numSpecialTokens() {
        return eosId < 0 ? 0 : 1;
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
        return model.size();
    }

    @Override
    public String piece(int id) {
        return model.piece(id);
    }

    /**
     * SentencePiece's normalizer: the charsmap rule by rule, leading, trailing and repeated spaces removed, a
     * dummy space prefix added, spaces written as U+2581.
     */
    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        int pos = 0;
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                PrecompiledCharsMap.Step s = step(in, pos);
                if (!isSingleSpace(s.output())) break;
                pos += s.consumed();
            }
        }
        if (pos == in.length) return "";
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length * 2);
        byte[] space = escapeWhitespaces ? SPACE_SYMBOL.getBytes(StandardCharsets.UTF_8) : new byte[]{' '};
        if (addDummyPrefix) out.writeBytes(space);
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            PrecompiledCharsMap.Step s = step(in, pos);
            byte[] piece = s.output();
            int from = 0;
            if (prevSpace && removeExtraWhitespaces) while (from < piece.length && piece[from] == ' ') from++;
            if (from < piece.length) {
                for (int i = from; i < piece.length; i++) {
                    if (piece[i] == ' ') out.writeBytes(space);
                    else out.write(piece[i]);
                }
                prevSpace = piece[piece.length - 1] == ' ';
            }
            pos += s.consumed();
        }
        String normalized = out.toString(StandardCharsets.UTF_8);
        if (removeExtraWhitespaces) {
            String sp = new String(space, StandardCharsets.UTF_8);
            while (normalized.endsWith(sp)) normalized = normalized.substring(0, normalized.length() - sp.length());
        }
        return normalized;
    }

    private PrecompiledCharsMap.Step step(byte[] in, int pos) {
        if (charsMap != null) return charsMap.step(in, pos);
        int len = Math.min(PrecompiledCharsMap.utf8Length(in[pos]), in.length - pos);
        return new PrecompiledCharsMap.Step(java.util.Arrays.copyOfRange(in, pos, pos + len), len);
    }

    private static boolean isSingleSpace(byte[] b) {
        return b.length == 1 && b[0] == ' ';
    }
}
