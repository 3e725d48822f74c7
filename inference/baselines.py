"""The engines the int8 engine is measured against, all on transformers' own Llama:

fp32        the model as a user gets it (eager attention, transformers' generate)
bnb_int8    bitsandbytes LLM.int8() (Linear8bitLt, threshold 6.0): the paper authors' reference
dynamic_int8  torch.ao dynamic int8 quantization of every nn.Linear, no outlier handling
"""
import torch

from .loading import load_hf


def fp32_model(path):
    model, tok = load_hf(path)
    model.config._attn_implementation = "eager"
    return model, tok


def bnb_model(path, threshold: float = 6.0):
    """Every decoder nn.Linear swapped for bitsandbytes' Linear8bitLt, as load_in_8bit would (the
    tied head stays fp32, which is also what transformers' load_in_8bit skips)."""
    import bitsandbytes as bnb

    model, tok = load_hf(path)
    for name, mod in list(model.model.named_modules()):
        for child_name, child in list(mod.named_children()):
            if isinstance(child, torch.nn.Linear):
                q = bnb.nn.Linear8bitLt(child.in_features, child.out_features, bias=child.bias is not None,
                                        has_fp16_weights=False, threshold=threshold)
                q.weight = bnb.nn.Int8Params(child.weight.data.clone(), requires_grad=False, has_fp16_weights=False)
                if child.bias is not None:
                    q.bias = torch.nn.Parameter(child.bias.data.clone(), requires_grad=False)
                setattr(mod, child_name, q.to("cpu"))
    return model, tok


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
