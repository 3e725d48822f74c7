"""Model loading: a Hugging Face causal-LM folder or a GGUF file of a supported family
(architectures.py), converted once to LLM.int8() and cached on disk, keyed by the model file and
the quantization settings.

transformers reads GGUF through the `gguf` package and dequantizes it to fp32; calibration runs a
short built-in text (never the benchmark's held-out text) through that fp32 model to find the
outlier feature dimensions of every linear layer's input.
"""
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import torch

from . import architectures as arch
from . import int8 as q8
from .model import Int8Llama, Layer, LlamaShape
from .settings import cache_dir, models_offline

log = logging.getLogger(__name__)
FORMAT_VERSION = 3  # bump when the cached layout changes

CALIBRATION_TEXT = """<|im_start|>system
You are a helpful research assistant.<|im_end|>
<|im_start|>user
Summarize the method of a paper that proposes sparse attention for long documents.<|im_end|>
<|im_start|>assistant
The paper replaces full self-attention with a sliding window plus a few global tokens, so cost
grows linearly with sequence length. On question answering over long documents it matches the
dense baseline while using a quarter of the memory.<|im_end|>
Protein structure prediction has improved rapidly with deep learning. We study whether language
models trained on amino-acid sequences learn contacts between residues, and find that attention
maps recover them without supervision. Results: 72.4% precision at L/5 on CASP14 targets (p < 0.01).
def mean(xs):\n    return sum(xs) / len(xs)  # {"name": "value", "count": 3, "ok": true}
Graph neural networks, reinforcement learning, causal inference, Bayesian optimization, 3D vision."""


def load_hf(path: Path, dtype=torch.float32):
    """(model, tokenizer) from a model folder or a .gguf file, offline."""
    models_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
    src = str(path.parent if path.suffix == ".gguf" else path)
    tok = AutoTokenizer.from_pretrained(src, **kw)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype, **kw).eval()
    return model, tok


def shape_of(config, max_seq: int) -> LlamaShape:
    theta = arch.rope_parameters(config)["rope_theta"]
    return LlamaShape(n_layers=config.num_hidden_layers, dim=config.hidden_size, n_heads=config.num_attention_heads,
                      n_kv_heads=config.num_key_value_heads, head_dim=arch.head_dim_of(config), vocab=config.vocab_size,
                      rope_theta=float(theta), norm_eps=float(config.rms_norm_eps),
                      max_seq=min(max_seq, config.max_position_embeddings))


@torch.inference_mode()
def calibration_inputs(model, tok, text: str = CALIBRATION_TEXT) -> dict[str, torch.Tensor]:
    """Input activations [T, K] of every nn.Linear on the calibration text, by module name."""
    acts, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            hooks.append(mod.register_forward_hook(
                lambda m, inp, out, name=name: acts.__setitem__(name, inp[0].reshape(-1, inp[0].shape[-1]).float())))
    try:
        model(tok(text, return_tensors="pt").input_ids)
    finally:
        for h in hooks:
            h.remove()
    return acts


def convert(model, acts: dict[str, torch.Tensor], cfg: q8.Int8Config, max_seq: int,
            rope_factors: torch.Tensor | None = None) -> Int8Llama:
    """LLM.int8() weights of a Llama / Mistral / Qwen2 / Qwen3 HF model, with calibrated outlier
    columns. rope_factors: a GGUF's Llama 3.1 RoPE divisors (transformers drops them)."""
    shape = shape_of(model.config, max_seq)
    arch.check_config(model.config, shape.max_seq)

    def quant(names: list[str]) -> q8.Int8Weight:
        w = torch.cat([model.get_submodule(n).weight for n in names])
        return q8.quantize_weight(w, q8.outlier_columns(acts[names[0]], cfg))

    layers = []
    for i, blk in enumerate(model.model.layers):
        p, at = f"model.layers.{i}.", blk.self_attn
        layers.append(Layer(
            attn_norm=fp32(blk.input_layernorm.weight),
            qkv=quant([p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"]),
            o=quant([p + "self_attn.o_proj"]),
            mlp_norm=fp32(blk.post_attention_layernorm.weight),
            gate_up=quant([p + "mlp.gate_proj", p + "mlp.up_proj"]),
            down=quant([p + "mlp.down_proj"]),
            qkv_bias=None if at.q_proj.bias is None else torch.cat([fp32(at.q_proj.bias), fp32(at.k_proj.bias),
                                                                    fp32(at.v_proj.bias)]),
            o_bias=fp32(at.o_proj.bias),
            q_norm=fp32(getattr(getattr(at, "q_norm", None), "weight", None)),
            k_norm=fp32(getattr(getattr(at, "k_norm", None), "weight", None))))
    # The head is int8 too (28M of the 134M MACs per token at 135M); tied, it doubles as the embedding table.
    head = q8.quantize_weight(model.lm_head.weight, q8.outlier_columns(acts["lm_head"], cfg))
    table = model.model.embed_tokens.weight
    embed = None if table.data_ptr() == model.lm_head.weight.data_ptr() else q8.quantize_weight(table)
    return Int8Llama(shape, layers, fp32(model.model.norm.weight), head, cfg.threshold, embed=embed,
                     inv_freq=arch.rope_inv_freq(model.config, rope_factors))


def fp32(t: torch.Tensor | None) -> torch.Tensor | None:
    return None if t is None else t.detach().float().clone()


def cache_key(path: Path, cfg: q8.Int8Config, max_seq: int) -> str:
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    ident = [(f.name, file_digest(f)) for f in files]
    blob = json.dumps([FORMAT_VERSION, ident, dataclasses.asdict(cfg), max_seq, CALIBRATION_TEXT])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """sha256 of a model file, remembered in the cache by (path, size, mtime): a reinstalled wheel
    (a fresh checkout's virtualenv) has a new path and mtime but the same bytes and conversion."""
    st = path.stat()
    ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo = cache_dir() / "digests" / hashlib.sha256(ident.encode()).hexdigest()[:32]
    if memo.exists():
        return memo.read_text()
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    memo.parent.mkdir(parents=True, exist_ok=True)
    tmp = memo.with_name(f"{memo.name}.tmp{os.getpid()}")
    tmp.write_text(digest)
    tmp.replace(memo)  # atomic: a concurrent reader sees no file or the whole digest
    return digest


def save_cache(folder: Path, model: Int8Llama, tok) -> None:
    """Written to a temp folder then renamed, so a crash never leaves half a cache behind."""
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    torch.save({"shape": dataclasses.asdict(model.shape), "threshold": model.threshold,
                "final_norm": model.final_norm, "head": as_saved(model.head),
                "embed": as_saved(model.embed_table), "inv_freq": model.inv_freq,
                "layers": [{k: as_saved(v) for k, v in vars(L).items()} for L in model.layers]}, tmp / "weights.pt")
    tok.save_pretrained(tmp / "tokenizer")
    try:
        tmp.rename(folder)
    except OSError:  # another process finished first; its copy is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)


def as_saved(v):
    return dataclasses.asdict(v) if isinstance(v, q8.Int8Weight) else v


def as_loaded(v):
    return q8.Int8Weight(**v) if isinstance(v, dict) else v


def read_cache(folder: Path):
    from transformers import AutoTokenizer

    d = torch.load(folder / "weights.pt", weights_only=True, mmap=True)
    layers = [Layer(**{k: as_loaded(v) for k, v in L.items()}) for L in d["layers"]]
    model = Int8Llama(LlamaShape(**d["shape"]), layers, d["final_norm"], as_loaded(d["head"]), d["threshold"],
                      embed=as_loaded(d["embed"]), inv_freq=d["inv_freq"])
    return model, AutoTokenizer.from_pretrained(folder / "tokenizer")


def load_int8(path: Path, cfg: q8.Int8Config | None = None, max_seq: int = 2048):
    """(Int8Llama, tokenizer): from the disk cache when present, else converted and cached.
    An unsupported architecture is refused from the file's header, before anything is dequantized."""
    arch.check_architecture(path)
    cfg = cfg or q8.Int8Config()
    folder = cache_dir() / f"int8-{path.stem}-{cache_key(path, cfg, max_seq)}"
    if not (folder / "weights.pt").exists():
        t0 = time.perf_counter()
        hf, tok = load_hf(path)
        factors = arch.gguf_rope_factors(path) if path.suffix == ".gguf" else None
        if factors is not None:
            log.warning("%s: Llama 3.1 RoPE scaling read from rope_freqs.weight (transformers' fp32 ignores it)", path.name)
        model = convert(hf, calibration_inputs(hf, tok), cfg, max_seq, factors)
        del hf
        save_cache(folder, model, tok)
        log.info("quantized %s to LLM.int8() in %.1fs, cached in %s", path.name, time.perf_counter() - t0, folder)
    return read_cache(folder)
