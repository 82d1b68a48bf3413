"""Writes a parity case for a bundled model folder: inputs (x, t, caption embeddings y from the bundled T5, mask) and
the outputs of the PyTorch reference in float64 (`out`; `t5_out` for the text encoder on `input_ids`), in the
names `./viditq forward` reads, so the Java engine can be checked on the bundled weights themselves.

    python3 reference/parity_case.py assets/models/shapes-t2i /tmp/t2i_io.safetensors
    ./viditq forward --model assets/models/shapes-t2i --inputs /tmp/t2i_io.safetensors --out /tmp/o.safetensors \
        --expect out
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bundle  # noqa: E402
import st_io  # noqa: E402
from tokenizer import WordTokenizer  # noqa: E402

CAPTIONS = ["a big red circle in the top left, black background",
            "two shapes: a small blue square on the left and a large yellow ring at the bottom on a dark gray background"]


def main():
    folder, out_path = sys.argv[1], sys.argv[2]
    dit, t5, cfg, tok_path = bundle.load(folder, dtype=torch.float64)
    tok = WordTokenizer.from_file(tok_path)
    ids, mask = tok.encode_batch(CAPTIONS, cfg["model_max_length"])
    g = torch.Generator().manual_seed(0)
    shape = (2, cfg["in_channels"], 32, 32) if cfg["family"] == "pixart" else (2, cfg["in_channels"], *cfg["input_size"])
    x = torch.randn(shape, generator=g, dtype=torch.float64)
    t = torch.tensor([999.0, 321.0], dtype=torch.float64)
    with torch.no_grad():
        y = t5(ids, mask)
        out = dit(x, t, y, mask=mask)
    tensors = {"x": x, "t": t, "y": y, "mask": mask, "out": out, "input_ids": ids, "attention_mask": mask,
               "t5_out": y}
    st_io.save(out_path, {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()},
               {"captions": " | ".join(CAPTIONS)})
    print(f"wrote {out_path}: x {tuple(x.shape)}, y {tuple(y.shape)}, out {tuple(out.shape)}")


if __name__ == "__main__":
    main()
