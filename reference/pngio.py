"""A tiny PNG writer (8-bit RGB, no filtering) and a grid helper, so no imaging library is needed."""
import struct
import zlib

import numpy as np


def write_png(path, rgb):
    """rgb: uint8 array [H, W, 3]."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid(tiles, cols, pad=2, scale=1, background=128):
    """tiles: list of uint8 [h, w, 3] of one size -> one uint8 image, row-major, upscaled by `scale` (nearest)."""
    h, w, _ = tiles[0].shape
    rows = (len(tiles) + cols - 1) // cols
    out = np.full((rows * (h * scale + pad) + pad, cols * (w * scale + pad) + pad, 3), background, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        big = np.repeat(np.repeat(t, scale, axis=0), scale, axis=1)
        y, x = pad + r * (h * scale + pad), pad + c * (w * scale + pad)
        out[y:y + h * scale, x:x + w * scale] = big
    return out


def to_uint8(x):
    """Model-space [-1, 1] array [N, C, ...] (channels second) -> uint8 [N, ..., C]."""
    a = np.asarray(x, dtype=np.float32)
    a = np.clip((a + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return np.moveaxis(a, 1, -1)
