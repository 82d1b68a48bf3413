"""Cross-checks against the Hugging Face libraries where they are installed (the GPU machine has them):
the tokenizer.json through `tokenizers`, and the T5 encoder of t5.py against transformers' T5EncoderModel on
random weights of the bundled size. Prints one line per check; exit code 1 on a mismatch.

    python3 reference/verify_hf.py TOKENIZER_JSON [CAPTIONS_FILE...]
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import configs  # noqa: E402
from sample import DEFAULT_CAPTIONS  # noqa: E402
from t5 import T5EncoderModel, t5_config  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402


def check_tokenizer(path, captions):
    from tokenizers import Tokenizer
    hf = Tokenizer.from_file(path)
    mine = WordTokenizer.from_file(path)
    bad = 0
    for c in captions:
        ids, mask = mine.encode(c, configs.MAX_TOKENS)
        ours = [i for i, m in zip(ids, mask) if m]
        if hf.encode(c).ids != ours:
            bad += 1
            print(f"tokenizer mismatch: {c!r}: hf {hf.encode(c).ids} mine {ours}")
    print(f"tokenizers {len(captions)} captions: {'ok' if bad == 0 else f'{bad} FAIL'}")
    return bad == 0


def check_t5(vocab):
    from transformers import T5Config
    from transformers import T5EncoderModel as HfT5
    cfg = t5_config(vocab, **configs.T5)
    torch.manual_seed(0)
    hf = HfT5(T5Config(**cfg)).double().eval()
    mine = T5EncoderModel(cfg)
    sd = {k: v for k, v in hf.state_dict().items() if k != "encoder.embed_tokens.weight"}
    missing, unexpected = mine.load_state_dict(sd, strict=False)
    mine = mine.double().eval()
    ids = torch.randint(3, vocab, (3, configs.MAX_TOKENS))
    mask = torch.zeros_like(ids)
    for b, n in enumerate((5, 17, configs.MAX_TOKENS)):
        mask[b, :n] = 1
    with torch.no_grad():
        ref = hf(input_ids=ids, attention_mask=mask).last_hidden_state
        out = mine(ids, mask)
    err = ((out - ref).norm() / ref.norm()).item()
    ok = err < 1e-6 and not missing and not unexpected
    print(f"transformers T5EncoderModel vs t5.py: rel L2 {err:.2e}, missing {missing}, unexpected {unexpected}: "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def main():
    path = sys.argv[1]
    captions = sum(DEFAULT_CAPTIONS.values(), [])
    for extra in sys.argv[2:]:
        with open(extra) as f:
            captions += [line.strip() for line in f if line.strip()]
    ok = True
    for name, fn in (("tokenizers", lambda: check_tokenizer(path, captions)),
                     ("transformers", lambda: check_t5(len(json.load(open(path))["model"]["vocab"])))):
        try:
            ok &= fn()
        except ImportError as e:
            print(f"{name}: not installed ({e}); skipped")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
