"""Model loading: a Hugging Face causal-LM folder or a GGUF file, converted once to LLM.int8()
and cached on disk, keyed by the model file and the quantization settings.

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

from . import int8 as q8
from .model import Int8Llama, Layer, LlamaShape
from .settings import cache_dir

log = logging.getLogger(__name__)
FORMAT_VERSION = 2  # bump when the cached layout changes

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
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
    src = str(path.parent if path.suffix == ".gguf" else path)
    tok = AutoTokenizer.from_pretrained(src, **kw)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype, **kw).eval()
    return model, tok


def shape_of(config, max_seq: int) -> LlamaShape:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta") or getattr(config, "rope_theta", 10000.0)
    return LlamaShape(n_layers=config.num_hidden_layers, dim=config.hidden_size, n_heads=config.num_attention_heads,
                      n_kv_heads=config.num_key_value_heads, head_dim=head_dim, vocab=config.vocab_size,
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


def convert(model, acts: dict[str, torch.Tensor], cfg: q8.Int8Config, max_seq: int) -> Int8Llama:
    """LLM.int8() weights of a Llama-architecture HF model, with calibrated outlier columns."""
    if model.config.model_type not in ("llama", "mistral", "qwen2") or getattr(model.config, "attention_bias", False):
        raise RuntimeError(f"the int8 engine supports bias-free Llama-family models, not {model.config.model_type!r}")

    def quant(names: list[str]) -> q8.Int8Weight:
        w = torch.cat([model.get_submodule(n).weight for n in names])
        return q8.quantize_weight(w, q8.outlier_columns(acts[names[0]], cfg))

    layers = []
    for i, blk in enumerate(model.model.layers):
        p = f"model.layers.{i}."
        layers.append(Layer(
            attn_norm=blk.input_layernorm.weight.detach().float().clone(),
            qkv=quant([p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"]),
            o=quant([p + "self_attn.o_proj"]),
            mlp_norm=blk.post_attention_layernorm.weight.detach().float().clone(),
            gate_up=quant([p + "mlp.gate_proj", p + "mlp.up_proj"]),
            down=quant([p + "mlp.down_proj"])))
    # The head is int8 too (28M of the 134M MACs per token) and doubles as the embedding table.
    head = q8.quantize_weight(model.lm_head.weight, q8.outlier_columns(acts["lm_head"], cfg))
    return Int8Llama(shape_of(model.config, max_seq), layers, model.model.norm.weight.detach().float().clone(),
                     head, cfg.threshold)


def cache_key(path: Path, cfg: q8.Int8Config, max_seq: int) -> str:
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    ident = [(str(f.resolve()), f.stat().st_size, int(f.stat().st_mtime)) for f in files]
    blob = json.dumps([FORMAT_VERSION, ident, dataclasses.asdict(cfg), max_seq, CALIBRATION_TEXT])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def save_cache(folder: Path, model: Int8Llama, tok) -> None:
    """Written to a temp folder then renamed, so a crash never leaves half a cache behind."""
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    torch.save({"shape": dataclasses.asdict(model.shape), "threshold": model.threshold,
                "final_norm": model.final_norm, "head": dataclasses.asdict(model.head),
                "layers": [{k: (dataclasses.asdict(v) if isinstance(v, q8.Int8Weight) else v)
                            for k, v in vars(L).items()} for L in model.layers]}, tmp / "weights.pt")
    tok.save_pretrained(tmp / "tokenizer")
    try:
        tmp.rename(folder)
    except OSError:  # another process finished first; its copy is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)


def read_cache(folder: Path):
    from transformers import AutoTokenizer

    d = torch.load(folder / "weights.pt", weights_only=True, mmap=True)
    wt = lambda x: q8.Int8Weight(**x)  # noqa: E731
    layers = [Layer(attn_norm=L["attn_norm"], qkv=wt(L["qkv"]), o=wt(L["o"]), mlp_norm=L["mlp_norm"],
                    gate_up=wt(L["gate_up"]), down=wt(L["down"])) for L in d["layers"]]
    model = Int8Llama(LlamaShape(**d["shape"]), layers, d["final_norm"], wt(d["head"]), d["threshold"])
    return model, AutoTokenizer.from_pretrained(folder / "tokenizer")


def load_int8(path: Path, cfg: q8.Int8Config | None = None, max_seq: int = 2048):
    """(Int8Llama, tokenizer): from the disk cache when present, else converted and cached."""
    cfg = cfg or q8.Int8Config()
    folder = cache_dir() / f"int8-{path.stem}-{cache_key(path, cfg, max_seq)}"
    if not (folder / "weights.pt").exists():
        t0 = time.perf_counter()
        hf, tok = load_hf(path)
        model = convert(hf, calibration_inputs(hf, tok), cfg, max_seq)
        del hf
        save_cache(folder, model, tok)
        log.info("quantized %s to LLM.int8() in %.1fs, cached in %s", path.name, time.perf_counter() - t0, folder)
    return read_cache(folder)
