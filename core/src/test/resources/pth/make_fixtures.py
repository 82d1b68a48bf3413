#!/usr/bin/env python3
"""Writes the small PyTorch checkpoints that PthFileTest reads, plus expected.json describing them.

Run from this folder with a Python that has torch (made with Debian's python3-torch 1.13):
    /usr/bin/python3 make_fixtures.py
The expected values come from torch itself (tensor.tolist()), so the Java test compares against torch, not
against numbers typed by hand. The fixtures are committed so the build needs no torch.
"""
import collections
import json
import os

import torch

torch.manual_seed(1234)
HERE = os.path.dirname(os.path.abspath(__file__))
SAFETENSORS_NAME = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}
expected = {}


def describe(tensors):
    out = {}
    for name, t in tensors.items():
        values = t.detach().flatten().to(torch.float64 if t.is_floating_point() else torch.int64).tolist()
        out[name] = {"dtype": SAFETENSORS_NAME[t.dtype], "shape": list(t.shape), "values": values}
    return out


def save(name, obj, selected, **kwargs):
    torch.save(obj, os.path.join(HERE, name), **kwargs)
    expected[name] = {"tensors": describe(selected)}


# Every dtype the Java side knows, with a 0-d scalar and an empty tensor.
dtypes = collections.OrderedDict()
dtypes["f64"] = torch.randn(3, 2, dtype=torch.float64)
dtypes["f32"] = torch.randn(2, 3, 4)
dtypes["f16"] = torch.randn(5).half()
dtypes["bf16"] = torch.randn(3, 3).bfloat16()
dtypes["i64"] = torch.tensor([-(2 ** 40), -1, 0, 7, 2 ** 40], dtype=torch.int64)
dtypes["i32"] = torch.tensor([[-(2 ** 20), 3], [5, 2 ** 20]], dtype=torch.int32)
dtypes["i16"] = torch.tensor([-300, 0, 300], dtype=torch.int16)
dtypes["i8"] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
dtypes["u8"] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
dtypes["bool"] = torch.tensor([True, False, True])
dtypes["scalar"] = torch.tensor(2.5)
dtypes["empty"] = torch.zeros(0, 4)
save("dtypes.pth", dtypes, dtypes)

# Views: storage offsets and two tensors sharing one storage.
base = torch.arange(24, dtype=torch.float32)
views = {"whole": base.view(4, 6), "tail": base[5:], "rows": base.view(4, 6)[1:3], "one": base[23:]}
save("views.pth", views, views)

# A transposed view (stride [1, 6]) cannot be read without a copy: the reader must say so.
torch.save({"ok": torch.ones(2), "transposed": torch.arange(12.0).view(2, 6).t()},
           os.path.join(HERE, "noncontiguous.pth"))

# A training checkpoint: the EMA weights are chosen over the raw model, the rest is ignored.
ema = collections.OrderedDict([("w", torch.randn(2, 2)), ("b", torch.randn(2))])
model = collections.OrderedDict([("w", torch.randn(2, 2)), ("b", torch.randn(2))])
opt = {"state": {0: {"exp_avg": torch.zeros(2, 2), "step": 3}}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}
save("nested_ema.pth", {"model": model, "ema": ema, "opt": opt, "steps": 100, "note": "trained"}, ema)

# A state dict wrapped as {"state_dict": ...} with a real module's OrderedDict (which carries _metadata).
net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.BatchNorm1d(4))
sd = net.state_dict()
save("wrapped_state_dict.pth", {"state_dict": sd}, sd)

# nn.Parameter objects pickle through torch._utils._rebuild_parameter.
param = torch.nn.Parameter(torch.randn(3))
save("parameter.pth", {"p": param}, {"p": param})

# Pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
p4 = {"a": torch.randn(4).half(), "b": torch.arange(6, dtype=torch.int32).view(2, 3)}
save("protocol4.pth", p4, p4, pickle_protocol=4)

# The pre-1.6 format: consecutive pickles followed by raw storages, no zip.
legacy = {"x": torch.randn(2, 3), "y": torch.arange(10, dtype=torch.int64)[2:7], "h": torch.randn(3).half()}
legacy["x_view"] = legacy["x"][1]
save("legacy.pth", legacy, legacy, _use_new_zipfile_serialization=False)
legacy4 = {"z": torch.randn(4).bfloat16()}
save("legacy_protocol4.pth", legacy4, legacy4, _use_new_zipfile_serialization=False, pickle_protocol=4)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


# A checkpoint that would run a shell command under pickle.load: the reader must refuse it by name.
torch.save({"w": torch.ones(1), "payload": Evil()}, os.path.join(HERE, "evil.pth"))

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
