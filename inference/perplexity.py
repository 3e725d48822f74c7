"""Perplexity of a text under one backend: exp of the mean next-token cross-entropy over one
window of its first `tokens` tokens (no sliding; the window must fit the model's context). The
scripted check behind `python -m inference ppl`: the int8 engine and fp32 on the same tokens.
"""
from pathlib import Path

import torch

PPL_BACKENDS = ("int8", "fp32", "bnb_int8")


@torch.inference_mode()
def text_perplexity(path: Path, text: str, backend: str = "int8", tokens: int = 512) -> dict:
    if backend not in PPL_BACKENDS:
        raise ValueError(f"backend {backend!r} is not one of {', '.join(PPL_BACKENDS)}")
    if backend == "int8":
        from .loading import load_int8

        model, tok = load_int8(path)
        logits_of = lambda ids: model.forward(ids, 0, all_logits=True)  # noqa: E731
    else:
        from . import baselines

        model, tok = (baselines.fp32_model if backend == "fp32" else baselines.bnb_model)(path)
        logits_of = lambda ids: model(ids[None], use_cache=False).logits[0]  # noqa: E731
    ids = torch.tensor(tok(text).input_ids[:tokens])
    if ids.numel() < 2:
        raise ValueError("the text has fewer than 2 tokens")
    nll = torch.nn.functional.cross_entropy(logits_of(ids)[:-1].float(), ids[1:])
    return {"ppl": nll.exp().item(), "tokens": int(ids.numel()), "backend": backend, "model": str(path)}
