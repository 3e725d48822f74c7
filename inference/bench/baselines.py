"""Benchmark-only baselines and measures of `python -m inference bench` (the fp32 and bnb_int8
engines are LLM_BACKEND choices too, so they stay in inference/baselines.py):

dynamic_int8  torch.ao dynamic int8 quantization of every nn.Linear, no outlier handling
"""
import torch

from inference.loading import load_hf


def dynamic_int8_model(path):
    model, tok = load_hf(path)
    model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())  # untie: quantize the head too
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8), tok


def weight_bytes(model) -> int:
    """Bytes of distinct parameter and buffer storage, quantized packed weights included."""
    seen, total = set(), 0
    for t in list(model.parameters()) + list(model.buffers()):
        if t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
            scb = getattr(t, "SCB", None)
            total += 0 if scb is None else scb.numel() * scb.element_size()
    for mod in model.modules():  # torch.ao packed weights live outside parameters()
        if isinstance(mod, torch.ao.nn.quantized.dynamic.Linear):
            w = mod.weight()
            total += w.int_repr().numel() + (w.q_per_channel_scales().numel() * 12
                                             if w.qscheme() == torch.per_channel_affine else 12)
            b = mod.bias()
            total += 0 if b is None else b.numel() * 4
    return total
