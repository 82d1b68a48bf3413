"""Word-level tokenizer written as a Hugging Face `tokenizers` tokenizer.json, and a plain-Python encoder for it.

Pipeline (what the JSON declares, and what `WordTokenizer.encode` does):
  normalizer Lowercase -> pre-tokenizer Whitespace (regex \\w+|[^\\w\\s]+) -> WordLevel lookup (unknown -> <unk>)
  -> post-processor TemplateProcessing "$A </s>".
Ids: <pad> 0, </s> 1, <unk> 2, then the words of the closed Shapes vocabulary in its order (sorted). For the models: truncate the words to
max_length - 1, append </s>, pad with 0 to max_length; the attention mask is 1 on the words and </s>.
"""
import json
import re

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
_PRETOKENIZE = re.compile(r"\w+|[^\w\s]+")


def words_of(text):
    return _PRETOKENIZE.findall(text.lower())


def build_tokenizer_json(words):
    """words: the closed word list, in id order (the Java ShapesVocabulary's, carried in every export)."""
    vocab = {PAD: 0, EOS: 1, UNK: 2}
    for w in words:
        vocab.setdefault(w, len(vocab))
    special = lambda i, s: {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                            "normalized": False, "special": True}
    seq = {"Sequence": {"id": "A", "type_id": 0}}
    eos = {"SpecialToken": {"id": EOS, "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special(0, PAD), special(1, EOS), special(2, UNK)],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [seq, eos],
            "pair": [seq, eos, {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": EOS, "type_id": 1}}],
            "special_tokens": {EOS: {"id": EOS, "ids": [1], "tokens": [EOS]}},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    }


class WordTokenizer:
    def __init__(self, tokenizer_json):
        model = tokenizer_json["model"]
        assert model["type"] == "WordLevel"
        self.vocab = model["vocab"]
        self.unk = self.vocab[model["unk_token"]]
        self.eos = self.vocab[EOS]
        self.pad = self.vocab[PAD]

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            return cls(json.load(f))

    def __len__(self):
        return len(self.vocab)

    def encode(self, text, max_length):
        """-> (ids, mask), both lists of max_length ints."""
        ids = [self.vocab.get(w, self.unk) for w in words_of(text)][:max_length - 1] + [self.eos]
        mask = [1] * len(ids) + [0] * (max_length - len(ids))
        return ids + [self.pad] * (max_length - len(ids)), mask

    def encode_batch(self, texts, max_length):
        import torch
        pairs = [self.encode(t, max_length) for t in texts]
        return (torch.tensor([p[0] for p in pairs], dtype=torch.long),
                torch.tensor([p[1] for p in pairs], dtype=torch.long))


def main():
    """python3 reference/tokenizer.py OUT.json EXPORT [EXPORT...]: builds the tokenizer from the vocabulary the Java
    Shapes exports carry (they must agree) and checks that every caption encodes without <unk>."""
    import sys
    import shapes_data
    out, exports = sys.argv[1], sys.argv[2:]
    words, captions = None, []
    for path in exports:
        data = shapes_data.load(path)
        if words is not None and data["vocabulary"] != words:
            raise SystemExit(f"{path}: vocabulary differs from {exports[0]}")
        words = data["vocabulary"]
        captions += data["captions"]
    tj = build_tokenizer_json(words)
    tok = WordTokenizer(tj)
    unknown = sorted({w for c in captions for w in words_of(c) if w not in tok.vocab})
    if unknown:
        raise SystemExit(f"caption words missing from the vocabulary: {unknown}")
    longest = max(len(words_of(c)) + 1 for c in captions)
    with open(out, "w") as f:
        json.dump(tj, f, indent=1)
    print(f"wrote {out}: {len(tok)} tokens; {len(captions)} captions, longest {longest} tokens with </s>")


if __name__ == "__main__":
    main()
