"""The bundled model folder (assets/models/shapes-t2i, shapes-t2v): writing it from trained weights, reading it back.

Layout:
  config.json                    constructor arguments of the DiT (original PixArt / Open-Sora style) + "pipeline"
  model.safetensors              DiT weights, original key layout, BF16 (pos_embed buffers F32)
  text_encoder/config.json       transformers T5EncoderModel config (T5 v1.1, gated-gelu)
  text_encoder/model.safetensors T5 weights as save_pretrained names them (shared.weight, encoder.*), BF16
  tokenizer/tokenizer.json       Hugging Face tokenizers WordLevel tokenizer
  tokenizer/tokenizer_config.json  model_max_length, pad/eos/unk tokens
"""
import json
import os
import shutil

import torch

import st_io
from pixart import PixArt
from stdit import STDiT
from t5 import T5EncoderModel

FP32_KEYS = ("pos_embed", "pos_embed_temporal")


def _dit_class(cfg):
    return PixArt if cfg["family"] == "pixart" else STDiT


def export(state_dict, cfg, t5cfg, tokenizer_json_path, folder, pipeline, extra=None, dtype=torch.bfloat16):
    """state_dict: keys `dit.*` and `t5.*` (as train.py saves them); extra: more top-level config.json sections."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    for sub in ("", "text_encoder", "tokenizer"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    dit = {k[4:]: v for k, v in state_dict.items() if k.startswith("dit.")}
    t5 = {k[3:]: v for k, v in state_dict.items() if k.startswith("t5.")}
    dit = {k: (v.float() if k in FP32_KEYS else v.to(dtype)) for k, v in dit.items()}
    t5 = {k: v.to(dtype) for k, v in t5.items()}
    meta = {"format": "pt"}
    st_io.save(os.path.join(folder, "model.safetensors"), dit, meta)
    st_io.save(os.path.join(folder, "text_encoder", "model.safetensors"), t5, meta)
    config = dict(cfg)
    config["pipeline"] = pipeline
    config.update(extra or {})
    _dump(config, os.path.join(folder, "config.json"))
    _dump(t5cfg, os.path.join(folder, "text_encoder", "config.json"))
    shutil.copyfile(tokenizer_json_path, os.path.join(folder, "tokenizer", "tokenizer.json"))
    _dump({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": cfg["model_max_length"],
           "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>", "padding_side": "right"},
          os.path.join(folder, "tokenizer", "tokenizer_config.json"))


def _dump(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def load(folder, dtype=torch.float32):
    """-> (dit, t5, config, tokenizer json path), modules in eval mode and `dtype`."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "text_encoder", "config.json")) as f:
        t5cfg = json.load(f)
    dit = _dit_class(cfg)(**cfg)
    t5 = T5EncoderModel(t5cfg)
    for module, path in ((dit, "model.safetensors"), (t5, os.path.join("text_encoder", "model.safetensors"))):
        sd = {k: v.float() for k, v in st_io.load(os.path.join(folder, path))[0].items()}
        missing, unexpected = module.load_state_dict(sd, strict=False)
        if missing or unexpected:
            raise SystemExit(f"{folder}/{path}: missing {missing}, unexpected {unexpected}")
    return dit.to(dtype).eval(), t5.to(dtype).eval(), cfg, os.path.join(folder, "tokenizer", "tokenizer.json")
