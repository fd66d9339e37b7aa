#!/usr/bin/python3
"""An independent reader and forward pass for HF Llama / Mistral / Qwen2 / Qwen3 folders.

    /usr/bin/python3 tests/models/hf_reference.py MODEL_FOLDER CASE_JSON [MODEL_FOLDER CASE_JSON ...]

Written from the equations of transformers' modeling_{llama,mistral,qwen2,qwen3}.py (not from
vecrl's C++), in float64 with Debian's PyTorch, so that a convention vecrl got wrong — tensor names,
which projections carry biases, RoPE layout and scaling, where the q/k norm sits, tied embeddings,
the transformers 5 "rope_parameters" form of the config — shows up as a mismatch. transformers
itself cannot be installed on the development machine; scripts/gpu/hf_check.py is the check
against it.

Each CASE_JSON holds {"ids": [[...], ...], "logits": [[[...]]]} (vecrl's logits for those ids).
The script checks every pair and exits 1 when any folder does not load as transformers would load
it (a missing or unexpected tensor) or a logit differs by more than the tolerance (default 1e-4,
"tolerance" in the case); it prints one line per pair.
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    data = blob[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        raw = bytearray(data[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"]).to(torch.float64)
    return tensors


def read_weights(folder):
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        index = json.load(f)
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        tensors.update(read_safetensors(os.path.join(folder, shard)))
    return tensors


class Config:
    def __init__(self, j):
        self.model_type = j["model_type"]
        assert self.model_type in ("llama", "mistral", "qwen2", "qwen3"), self.model_type
        self.vocab = j["vocab_size"]
        self.hidden = j["hidden_size"]
        self.layers = j["num_hidden_layers"]
        self.heads = j["num_attention_heads"]
        self.kv_heads = j.get("num_key_value_heads") or self.heads
        self.head_dim = j.get("head_dim") or self.hidden // self.heads
        self.eps = j.get("rms_norm_eps", 1e-6)
        self.tied = j.get("tie_word_embeddings", False)
        # Biases: Qwen2 on q/k/v always, never on o; Llama and Qwen3 on all four when attention_bias;
        # Mistral on none.
        bias = j.get("attention_bias", False)
        self.qkv_bias = {"qwen2": True, "mistral": False}.get(self.model_type, bias)
        self.o_bias = {"qwen2": False, "mistral": False}.get(self.model_type, bias)
        self.qk_norm = self.model_type == "qwen3"
        # transformers 5 writes {"rope_parameters": {"rope_type", "rope_theta", ...}}; 4.x wrote
        # rope_theta and rope_scaling at the top level.
        params = j.get("rope_parameters") or {}
        self.rope_theta = params.get("rope_theta", j.get("rope_theta", 10000.0))
        scaling = j.get("rope_scaling") or (params if params.get("rope_type", "default") != "default" else None)
        self.rope_scaling = scaling


def inverse_frequencies(c):
    inv = 1.0 / (c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.float64) / c.head_dim))
    s = c.rope_scaling
    if s is None:
        return inv
    assert s.get("rope_type", s.get("type")) == "llama3", s
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old_context = s["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv
    long_wavelengths = wavelength > old_context / low  # low frequencies: divided by the factor
    short_wavelengths = wavelength < old_context / high  # high frequencies: kept
    divided = inv / factor
    smooth = (old_context / wavelength - low) / (high - low)
    blended = (1 - smooth) * divided + smooth * inv
    return torch.where(long_wavelengths, divided, torch.where(short_wavelengths, inv, blended))


def expected_names(c):
    names = {"model.embed_tokens.weight", "model.norm.weight"}
    if not c.tied:
        names.add("lm_head.weight")
    for i in range(c.layers):
        p = f"model.layers.{i}."
        names |= {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"}
        names |= {p + f"mlp.{m}.weight" for m in ("gate_proj", "up_proj", "down_proj")}
        names |= {p + f"self_attn.{m}.weight" for m in ("q_proj", "k_proj", "v_proj", "o_proj")}
        if c.qkv_bias:
            names |= {p + f"self_attn.{m}.bias" for m in ("q_proj", "k_proj", "v_proj")}
        if c.o_bias:
            names.add(p + "self_attn.o_proj.bias")
        if c.qk_norm:
            names |= {p + "self_attn.q_norm.weight", p + "self_attn.k_norm.weight"}
    return names


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def linear(x, w, name):
    out = x @ w[name + ".weight"].T
    bias = w.get(name + ".bias")
    return out if bias is None else out + bias


def forward(c, w, ids):
    B, T = ids.shape
    x = w["model.embed_tokens.weight"][ids]  # [B, T, hidden]
    angles = torch.arange(T, dtype=torch.float64)[:, None] * inverse_frequencies(c)[None, :]  # [T, d/2]
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()  # [T, d]
    causal = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(c.layers):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], c.eps)
        q = linear(h, w, p + "self_attn.q_proj").view(B, T, c.heads, c.head_dim).transpose(1, 2)
        k = linear(h, w, p + "self_attn.k_proj").view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        v = linear(h, w, p + "self_attn.v_proj").view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        if c.qk_norm:  # per head, after the projection, before RoPE
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], c.eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], c.eps)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(c.heads // c.kv_heads, dim=1)
        v = v.repeat_interleave(c.heads // c.kv_heads, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(c.head_dim) + causal
        attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, c.heads * c.head_dim)
        x = x + linear(attn, w, p + "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], c.eps)
        gate = linear(h, w, p + "mlp.gate_proj")
        x = x + linear(torch.nn.functional.silu(gate) * linear(h, w, p + "mlp.up_proj"), w, p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], c.eps)
    head = w["model.embed_tokens.weight"] if c.tied else w["lm_head.weight"]
    return x @ head.T  # [B, T, vocab]


def check(folder, case_path):
    with open(os.path.join(folder, "config.json")) as f:
        c = Config(json.load(f))
    w = read_weights(folder)
    present = {n for n in w if not n.endswith("rotary_emb.inv_freq")}
    if c.tied:
        present.discard("lm_head.weight")  # transformers re-ties it on load
    expected = expected_names(c)
    if present != expected:
        print(f"{folder}: tensors differ from what {c.model_type} expects: missing {sorted(expected - present)}, "
              f"unexpected {sorted(present - expected)}")
        return False
    with open(case_path) as f:
        case = json.load(f)
    ids = torch.tensor(case["ids"], dtype=torch.long)
    ours = torch.tensor(case["logits"], dtype=torch.float64)
    theirs = forward(c, w, ids)
    if theirs.shape != ours.shape:
        print(f"{folder}: logits shape {list(ours.shape)} from vecrl, {list(theirs.shape)} here")
        return False
    worst = (theirs - ours).abs().max().item()
    tolerance = case.get("tolerance", 1e-4)
    print(f"{folder} ({c.model_type}): {ids.numel()} positions, max |logit difference| {worst:.3e} "
          f"(tolerance {tolerance:g})")
    return worst <= tolerance


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        print(__doc__)
        return 2
    results = [check(args[i], args[i + 1]) for i in range(0, len(args), 2)]  # every pair, even after a failure
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
