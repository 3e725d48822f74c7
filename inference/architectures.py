"""The model families the int8 engine runs exactly, and the check that refuses any other one
before a single weight is read (a GGUF's header, a folder's config.json).

All are decoder-only transformers with RMSNorm, SwiGLU, rotary position embedding (RoPE, Su et
al., 2021) and grouped-query attention (Ainslie et al., 2023). They differ in:

llama    Llama 2/3 (Touvron et al., 2023; Grattafiori et al., 2024): input embedding and output
         head tied (SmolLM2, Llama 3.2 1B) or not (Llama 3 8B); optional biases on the attention
         projections; Llama 3.1's "llama3" RoPE, which divides the low frequencies by `factor`
         and blends the middle band (transformers' `_compute_llama3_parameters`).
mistral  Llama's layer, usable here while its sliding window does not bind within the KV cache.
qwen2    Qwen2 / Qwen2.5 (Yang et al., 2024): Llama plus biases on the q, k and v projections.
qwen3    Qwen3 (Yang et al., 2025): no biases; RMSNorm over each head of q and k before RoPE;
         head_dim set on its own (not hidden / heads).
"""
import json
import math
import struct
from pathlib import Path

import torch

SUPPORTED = ("llama", "mistral", "qwen2", "qwen3")
ROPE_TYPES = ("default", "linear", "llama3")


class UnsupportedModel(RuntimeError):
    """The checkpoint is of a family (or uses a feature) the int8 engine does not implement."""


def refusal(path: Path, arch: str) -> UnsupportedModel:
    return UnsupportedModel(f"{path.name}: architecture {arch!r} is not supported by the int8 engine "
                            f"(supported: {', '.join(SUPPORTED)}); LLM_BACKEND=fp32 runs it through transformers")


def architecture_of(path: Path) -> str:
    """model_type of a model folder or general.architecture of a .gguf, from the header alone."""
    if path.suffix == ".gguf":
        return str(gguf_header(path, ("general.architecture",)).get("general.architecture", "unknown"))
    cfg = path / "config.json"
    if not cfg.exists():
        raise UnsupportedModel(f"{path}: neither a .gguf file nor a model folder with config.json")
    return str(json.loads(cfg.read_text()).get("model_type", "unknown"))


def check_architecture(path: Path) -> str:
    arch = architecture_of(path)
    if arch not in SUPPORTED:
        raise refusal(path, arch)
    return arch


# GGUF (ggml's file format): magic, version, tensor count, key-value count, then typed key-values.
# Scalar value types by their GGUFValueType number: struct format.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def gguf_header(path: Path, keys: tuple[str, ...]) -> dict:
    """The wanted metadata keys of a GGUF, reading key-values only until all were seen (the
    architecture comes first; the tokenizer's 150k-entry arrays after it are never parsed)."""
    found = {}
    with open(path, "rb") as f:
        magic, version = struct.unpack("<4sI", f.read(8))
        if magic != b"GGUF" or version < 2:
            raise UnsupportedModel(f"{path.name}: not a GGUF v2+ file")
        _, n_kv = struct.unpack("<QQ", f.read(16))
        for _ in range(n_kv):
            key = _read_string(f)
            vtype = struct.unpack("<I", f.read(4))[0]
            if key in keys:
                found[key] = _read_value(f, vtype)
                if len(found) == len(keys):
                    break
            else:
                _skip_value(f, vtype)
    return found


def gguf_rope_factors(path: Path) -> torch.Tensor | None:
    """llama.cpp stores Llama 3.1's RoPE scaling not as metadata but as a `rope_freqs.weight`
    tensor of per-frequency divisors, which transformers' GGUF loader ignores; None if absent."""
    with open(path, "rb") as f:
        f.seek(8)
        n_tensors, n_kv = struct.unpack("<QQ", f.read(16))
        alignment = 32  # GGUF's default
        for _ in range(n_kv):
            key = _read_string(f)
            vtype = struct.unpack("<I", f.read(4))[0]
            if key == "general.alignment":
                alignment = _read_value(f, vtype)
            else:
                _skip_value(f, vtype)
        found = None
        for _ in range(n_tensors):
            name = _read_string(f)
            (n_dims,) = struct.unpack("<I", f.read(4))
            dims = struct.unpack(f"<{n_dims}Q", f.read(8 * n_dims))
            ttype, offset = struct.unpack("<IQ", f.read(12))
            if name == "rope_freqs.weight":
                found = (math.prod(dims), ttype, offset)
        if found is None:
            return None
        n, ttype, offset = found
        if ttype != 0:  # GGMLQuantizationType.F32, what llama.cpp writes
            raise UnsupportedModel(f"{path.name}: rope_freqs.weight of ggml type {ttype}, expected F32")
        f.seek(-(-f.tell() // alignment) * alignment + offset)
        return torch.frombuffer(bytearray(f.read(4 * n)), dtype=torch.float32).double()


def _read_string(f) -> str:
    (n,) = struct.unpack("<Q", f.read(8))
    return f.read(n).decode("utf-8", errors="replace")


def _read_value(f, vtype: int):
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        etype, n = struct.unpack("<IQ", f.read(12))
        return [_read_value(f, etype) for _ in range(n)]
    fmt = "<" + _SCALARS[vtype]
    return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def _skip_value(f, vtype: int) -> None:
    if vtype == _STRING:
        (n,) = struct.unpack("<Q", f.read(8))
        f.seek(n, 1)
    elif vtype == _ARRAY:
        etype, n = struct.unpack("<IQ", f.read(12))
        if etype in _SCALARS:
            f.seek(n * struct.calcsize(_SCALARS[etype]), 1)
        else:
            for _ in range(n):
                _skip_value(f, etype)
    else:
        f.seek(struct.calcsize(_SCALARS[vtype]), 1)


def check_config(config, max_seq: int) -> None:
    """Refuse the features of a supported family that the engine does not implement."""
    if config.model_type not in SUPPORTED:
        raise UnsupportedModel(f"architecture {config.model_type!r} is not supported (supported: {', '.join(SUPPORTED)})")
    problems = []
    if getattr(config, "hidden_act", "silu") != "silu":
        problems.append(f"hidden_act={config.hidden_act!r} (SwiGLU needs silu)")
    if getattr(config, "mlp_bias", False):
        problems.append("biases on the MLP projections")
    rope = rope_parameters(config)
    if rope.get("rope_type", "default") not in ROPE_TYPES:
        problems.append(f"RoPE type {rope['rope_type']!r} (supported: {', '.join(ROPE_TYPES)})")
    if rope.get("partial_rotary_factor", 1.0) != 1.0:
        problems.append("partial rotary embedding")
    window = getattr(config, "sliding_window", None)
    types = getattr(config, "layer_types", None)
    if window is not None and (types is None or "sliding_attention" in types) and window < max_seq:
        problems.append(f"a {window}-token sliding window within the {max_seq}-token cache")
    if problems:
        raise UnsupportedModel(f"{config.model_type}: the int8 engine does not implement " + "; ".join(problems))


def rope_parameters(config) -> dict:
    """transformers 5 keeps RoPE settings in `rope_parameters`; older configs in rope_theta/rope_scaling."""
    params = dict(getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {})
    params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
    params["rope_type"] = params.get("rope_type") or params.get("type") or "default"
    return params


def head_dim_of(config) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def rope_inv_freq(config, factors: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse frequencies [head_dim / 2] (float64) of the config's RoPE variant; `factors`: a
    GGUF's rope_freqs divisors (gguf_rope_factors)."""
    if factors is not None:
        return rope_inv_freq(config) / factors
    p = rope_parameters(config)
    d = head_dim_of(config)
    inv = 1.0 / (float(p["rope_theta"]) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    if p["rope_type"] == "linear":
        return inv / p["factor"]
    if p["rope_type"] == "llama3":
        return llama3_inv_freq(inv, p["factor"], p["low_freq_factor"], p["high_freq_factor"],
                               p["original_max_position_embeddings"])
    return inv


def llama3_inv_freq(inv: torch.Tensor, factor: float, low: float, high: float, old_ctx: int) -> torch.Tensor:
    """Llama 3.1: wavelengths longer than old_ctx / low are stretched by `factor`, shorter than
    old_ctx / high are kept, and the band between is a linear blend in old_ctx / wavelength."""
    wavelen = 2 * math.pi / inv
    smooth = ((old_ctx / wavelen - low) / (high - low)).clamp(0.0, 1.0)
    blended = (1 - smooth) * inv / factor + smooth * inv
    return torch.where(wavelen > old_ctx / low, inv / factor, torch.where(wavelen < old_ctx / high, inv, blended))
