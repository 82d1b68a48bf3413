"""Tokenizer cases from the real libraries: SentencePiece models trained the way T5's and umT5's were configured, and
the ids that `sentencepiece` and Hugging Face `tokenizers` give for a set of hard strings.

For each variant this writes OUT/<variant>/ with
  spiece.model     a Unigram model (nmt_nfkc normalization, pad 0 / eos 1 / unk 2, no bos, as T5 and umT5)
  tokenizer.json   the same model converted by transformers' T5 converter (extra_ids added tokens included)
  cases.json       {"strings": [...], "spiece": [[ids]...], "tokenizer_json": [[ids]...]}: ids with the trailing </s>

The Java suite (TokenizerReferenceCasesTest) replays every string against its readers of both files. Run where the
libraries are (the GPU machine): python3 reference/tokenizer_cases.py OUT
"""
import json
import os
import sys
import tempfile


# Training text: many scripts, so that the vocabulary has pieces of each; rare characters stay out of it
# (character_coverage < 1) so that unknown runs and byte fallback are exercised.
TRAIN_LINES = [
    "a red circle above a blue square on a white background",
    "two green triangles moving left, then a yellow star rotating slowly",
    "The quick brown fox jumps over the lazy dog; 1234567890 times!",
    "Ein kleiner Hund läuft über die Straße, während es regnet.",
    "Le chat noir dort près de la fenêtre à côté d'un café.",
    "El niño pequeño come una manzana en el jardín mañana.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "一只红色的猫在蓝色的桌子上睡觉，窗外下着雨。",
    "赤い猫が青いテーブルの上で寝ています。カタカナもひらがなも。",
    "빨간 고양이가 파란 탁자 위에서 자고 있습니다.",
    "القطة الحمراء تنام على الطاولة الزرقاء",
    "लाल बिल्ली नीली मेज़ पर सो रही है।",
    "A cinematic shot of waves crashing on rocks at sunset, 4k, highly detailed.",
    "slow motion: a hummingbird hovers near a flower (macro lens, f/2.8).",
    "Prices rose 3.5% in 2024 -- e-mail me at someone@example.com or call +1-555-0100.",
]

# The strings checked: normalization (NFKC, full-width, ligatures, combining marks), whitespace handling, scripts,
# unknown characters, emoji sequences, digits and punctuation, added tokens, and the empty cases.
CHECK_STRINGS = [
    "a red circle above a blue square",
    "A Red Circle ABOVE a blue square.",
    "  leading and trailing spaces  ",
    "many     spaces\tand\ttabs\nand\nnewlines\r\nhere",
    "",
    " ",
    "\t\n",
    "ＡＢＣ　ｆｕｌｌｗｉｄｔｈ　１２３！",
    "ﬁne ﬂowers, ﬀ and ﬃ ligatures",
    "café vs cafe\u0301 (composed and decomposed)",
    "Ångström, naïve, Øresund, Œuvre, Straße",
    "ｶﾀｶﾅ half-width katakana ｶﾞ",
    "① ② ③ circled, ¹²³ superscripts, ½ fractions, ™ ©",
    "Ein kleiner Hund läuft über die Straße.",
    "Быстрая лиса прыгает.",
    "一只红色的猫在蓝色的桌子上睡觉。",
    "赤い猫が寝ています。",
    "빨간 고양이",
    "القطة الحمراء",
    "लाल बिल्ली सो रही है।",
    "rare: 𓀀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ ᚠᚢᚦ",
    "emoji 🐱🐶 and 👩\u200d👩\u200d👧 family, 👍🏽 tone, 🇫🇷 flag",
    "zero\u200bwidth space and soft\u00adhyphen",
    "Prices rose 3.5% in 2024 -- e-mail someone@example.com",
    "1234567890 0.001 1e-9 3,141,592",
    "punctuation!!! ??? ... --- ((brackets)) [x] {y} <z>",
    "<extra_id_0> masked span <extra_id_1>",
    "</s> in the text and <pad> and <unk>",
    "averyveryverylongwordwithoutanyspacesatallthatgoesonandonandon",
    "slow motion: a hummingbird hovers near a flower (macro lens, f/2.8).",
    "Tab\tseparated\tvalues\u00a0with non-breaking\u00a0spaces",
    "mixed 中文 and English 和 日本語 text",
    "ÀÁÂÃÄÅàáâãäå ÇçÑñ",
    "\u2028line separator\u2029paragraph separator",
]

VARIANTS = {
    # umT5's vocabulary spells characters outside it as UTF-8 bytes
    "unigram-nfkc-byte-fallback": dict(byte_fallback=True),
    # T5's (v1.1) maps them to <unk>
    "unigram-nfkc": dict(byte_fallback=False),
}


def train(prefix, byte_fallback):
    import sentencepiece as spm
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for _ in range(20):
            for line in TRAIN_LINES:
                f.write(line + "\n")
        corpus = f.name
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, model_type="unigram", vocab_size=600,
        character_coverage=0.98, normalization_rule_name="nmt_nfkc",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, byte_fallback=byte_fallback,
        hard_vocab_limit=False, minloglevel=2)
    os.unlink(corpus)


def hf_tokenizer_json(model_file, out_dir):
    """transformers' own conversion of the spm model (the file a diffusers folder ships as tokenizer/tokenizer.json).
    Its API moved between transformers 4 and 5 (a v5 constructor given vocab_file builds an empty vocabulary instead
    of converting), so the known ways are tried in turn and a result counts only when its vocabulary holds every
    piece of the spm model at the same id. Returns which way worked."""
    import shutil
    import types
    import sentencepiece as spm
    import transformers
    sp = spm.SentencePieceProcessor(model_file=model_file)
    src_dir = tempfile.mkdtemp()
    shutil.copy(model_file, os.path.join(src_dir, "spiece.model"))

    def from_converter():
        from transformers.convert_slow_tokenizer import T5Converter
        original = types.SimpleNamespace(vocab_file=model_file, _extra_ids=100, legacy=True, add_prefix_space=True,
                                         convert_tokens_to_ids=sp.piece_to_id)
        tok = T5Converter(original).converted()
        path = os.path.join(tempfile.mkdtemp(), "tokenizer.json")
        tok.save(path)
        return path

    def saved(make):
        tok = make()
        save_dir = tempfile.mkdtemp()
        tok.save_pretrained(save_dir)
        return os.path.join(save_dir, "tokenizer.json")

    attempts = [
        ("T5TokenizerFast.from_pretrained", lambda: saved(lambda: transformers.T5TokenizerFast.from_pretrained(src_dir, extra_ids=100))),
        ("T5Tokenizer.from_pretrained", lambda: saved(lambda: transformers.T5Tokenizer.from_pretrained(src_dir, extra_ids=100))),
        ("convert_slow_tokenizer.T5Converter", from_converter),
        ("T5TokenizerFast(vocab_file)", lambda: saved(lambda: transformers.T5TokenizerFast(vocab_file=model_file, extra_ids=100))),
    ]
    errors = []
    for name, make in attempts:
        try:
            path = make()
            problem = vocabulary_problem(path, sp)
            if problem is None:
                os.replace(path, os.path.join(out_dir, "tokenizer.json"))
                return f"transformers {transformers.__version__}, {name}"
            errors.append(f"{name}: {problem}")
        except Exception as e:  # the next way may work
            errors.append(f"{name}: {type(e).__name__}: {e}")
    raise RuntimeError("no conversion to tokenizer.json worked:\n  " + "\n  ".join(errors))


def vocabulary_problem(path, sp):
    """None when tokenizer.json's Unigram vocabulary starts with the spm model's pieces, in order; else what differs."""
    if not os.path.exists(path):
        return "no tokenizer.json written"
    with open(path, encoding="utf-8") as f:
        model = json.load(f)["model"]
    vocab = model.get("vocab") or []
    if model.get("type") != "Unigram" or len(vocab) < sp.get_piece_size():
        return f"{model.get('type')} model with {len(vocab)} pieces for an spm model of {sp.get_piece_size()}"
    for i in range(sp.get_piece_size()):
        if vocab[i][0] != sp.id_to_piece(i):
            return f"piece {i} is {vocab[i][0]!r}, spm has {sp.id_to_piece(i)!r}"
    return None


def _proto_fields(buf):
    """(field, wire type, value) of a protobuf message: varints as ints, length-delimited as bytes, fixed32 as bytes."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        else:
            raise ValueError(f"wire type {wire}")
        yield field, wire, value


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def tokenizer_json_from_spm(model_file, out_path, extra_ids=100):
    """tokenizer.json in the layout transformers' T5 converter (SpmConverter) writes: Precompiled charsmap and
    Replace(" {2,}") normalizers, Metaspace pre-tokenizer, Unigram model (byte fallback as trained), "$A </s>",
    <extra_id_N> added tokens. Needs neither sentencepiece nor transformers (the ModelProto is read here), so it can
    be written where only Hugging Face tokenizers, as the reference, runs."""
    import base64
    import struct
    with open(model_file, "rb") as f:
        proto = f.read()
    pieces, charsmap, byte_fallback, unk_id = [], b"", False, 2
    for field, _, value in _proto_fields(proto):
        if field == 1:  # SentencePiece {1: piece, 2: score, 3: type}
            piece, score, kind = "", 0.0, 1
            for f2, _, v2 in _proto_fields(value):
                if f2 == 1:
                    piece = v2.decode("utf-8")
                elif f2 == 2:
                    score = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    kind = v2
            pieces.append((piece, score, kind))
        elif field == 2:  # TrainerSpec {35: byte_fallback, 40: unk_id}
            for f2, _, v2 in _proto_fields(value):
                if f2 == 35:
                    byte_fallback = bool(v2)
                elif f2 == 40:
                    unk_id = v2
        elif field == 3:  # NormalizerSpec {2: precompiled_charsmap}
            for f2, _, v2 in _proto_fields(value):
                if f2 == 2:
                    charsmap = v2
    vocab = [[p, s] for p, s, _ in pieces] + [[f"<extra_id_{i}>", 0.0] for i in range(extra_ids - 1, -1, -1)]
    special = lambda i, c: {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True}
    added = [special(i, p) for i, (p, _, kind) in enumerate(pieces) if kind in (2, 3)]  # unknown, control
    added += [special(len(pieces) + k, vocab[len(pieces) + k][0]) for k in range(extra_ids)]
    seq = {"Sequence": {"id": "A", "type_id": 0}}
    eos = {"SpecialToken": {"id": "</s>", "type_id": 0}}
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing", "single": [seq, eos], "pair": [seq, eos, {"Sequence": {"id": "B", "type_id": 0}}, eos],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": unk_id, "vocab": vocab, "byte_fallback": byte_fallback},
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)


def main(out):
    import sentencepiece as spm
    from tokenizers import Tokenizer
    for name, options in VARIANTS.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        train(os.path.join(d, "spiece"), **options)
        os.remove(os.path.join(d, "spiece.vocab"))
        converter = hf_tokenizer_json(os.path.join(d, "spiece.model"), d)
        sp = spm.SentencePieceProcessor(model_file=os.path.join(d, "spiece.model"))
        hf = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        import sentencepiece, tokenizers
        cases = {"made_with": f"sentencepiece {sentencepiece.__version__}, tokenizers {tokenizers.__version__}, "
                              f"tokenizer.json by {converter}",
                 "strings": CHECK_STRINGS,
                 "spiece": [sp.encode(s) + [sp.eos_id()] for s in CHECK_STRINGS],
                 "tokenizer_json": [hf.encode(s).ids for s in CHECK_STRINGS]}
        with open(os.path.join(d, "cases.json"), "w", encoding="utf-8") as f:
            json.dump(cases, f, ensure_ascii=False, indent=0)
        differ = sum(a != b for a, b in zip(cases["spiece"], cases["tokenizer_json"]))
        with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
            t = json.load(f)
        print(f"{name}: vocab {sp.get_piece_size()}, {len(CHECK_STRINGS)} strings, "
              f"sentencepiece and tokenizers differ on {differ}; {cases['made_with']}; normalizer "
              f"{json.dumps(t['normalizer'])[:200]}; pre_tokenizer {json.dumps(t['pre_tokenizer'])}")


if __name__ == "__main__":
    if sys.argv[1] == "--from-spm":  # tokenizer.json beside each DIR/*/spiece.model, in the converter's layout
        for folder in sorted(os.listdir(sys.argv[2])):
            model = os.path.join(sys.argv[2], folder, "spiece.model")
            if os.path.exists(model):
                tokenizer_json_from_spm(model, os.path.join(sys.argv[2], folder, "tokenizer.json"))
    else:
        main(sys.argv[1])
