"""Training data: the Java Shapes export (`./viditq shapes export`), read from .safetensors or .safetensors.gz.

The real training data comes only from the Java generator (one generator, not two). `fake()` draws crude
stand-ins (squares on a background) with captions of the same style, for CPU smoke tests of the trainer only.
"""
import gzip
import json
import struct

import numpy as np
import torch


def _read_bytes(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read()


def load(path):
    """Reads a `viditq-shapes/1` export (eval/.../shapes/ShapesExport.java, package-info.java):
    pixels U8 [N, H, W, 3] (NHWC) or [N, T, H, W, 3] (NTHWC); captions as UTF-8 `caption_bytes` U8 with
    `caption_offsets` I64 [N + 1]; metadata with the closed caption `vocabulary` (JSON list).

    -> {"pixels": uint8 tensor, "captions": [str] * N, "vocabulary": [str], "metadata": dict}."""
    blob = _read_bytes(path)
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n

    def tensor(name):
        info = header[name]
        start, end = info["data_offsets"]
        dt = {"U8": np.uint8, "I32": np.int32, "I64": np.int64}[info["dtype"]]
        return np.frombuffer(blob, dtype=dt, count=(end - start) // np.dtype(dt).itemsize,
                             offset=base + start).reshape(info["shape"])

    meta = header.get("__metadata__", {})
    if not meta.get("format", "").startswith("viditq-shapes/1"):
        raise SystemExit(f"{path}: not a viditq-shapes/1 export (format {meta.get('format')!r})")
    pixels = torch.from_numpy(tensor("pixels").copy())
    text, offsets = tensor("caption_bytes").tobytes(), tensor("caption_offsets")
    captions = [text[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]
    if len(captions) != pixels.shape[0]:
        raise SystemExit(f"{path}: {pixels.shape[0]} pixel items but {len(captions)} captions")
    return {"pixels": pixels, "captions": captions, "vocabulary": json.loads(meta["vocabulary"]), "metadata": meta}


# ---- synthetic stand-in for smoke tests ----
_COLORS = {"red": (255, 0, 0), "green": (0, 200, 0), "blue": (30, 60, 255), "yellow": (255, 230, 0)}
_CELLS = {"in the top left": (8, 8), "in the center": (16, 16), "in the bottom right": (24, 24),
          "at the top": (8, 16), "on the left": (16, 8)}
_DIRS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def fake(kind, count, seed=0):
    rng = np.random.default_rng(seed)
    frames = 1 if kind == "image" else 16
    pixels = np.zeros((count, frames, 32, 32, 3), np.uint8)
    captions = []
    for i in range(count):
        color = rng.choice(list(_COLORS))
        size = int(rng.choice([8, 14]))
        if kind == "image":
            cell = rng.choice(list(_CELLS))
            cy, cx = _CELLS[cell]
            dy = dx = 0
            captions.append(f"a {'large' if size == 14 else 'small'} {color} square {cell} on a black background")
        else:
            d = rng.choice(list(_DIRS))
            dx, dy = _DIRS[d]
            cy, cx = 16 - 7 * dy, 16 - 7 * dx
            captions.append(f"a {'large' if size == 14 else 'small'} {color} square moving {d} quickly "
                            f"on a black background")
        for t in range(frames):
            y0, x0 = int(cy + dy * t) - size // 2, int(cx + dx * t) - size // 2
            pixels[i, t, max(y0, 0):max(y0 + size, 0), max(x0, 0):max(x0 + size, 0)] = _COLORS[color]
    pixels = pixels[:, 0] if kind == "image" else pixels
    return {"pixels": torch.from_numpy(pixels), "captions": captions}
