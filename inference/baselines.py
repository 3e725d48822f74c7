"""The engines the int8 engine is measured against, all on transformers' own Llama; both are
also LLM_BACKEND choices (load_engine), so they live in the library:

fp32        the model as a user gets it (eager attention, transformers' generate)
bnb_int8    bitsandbytes LLM.int8() (Linear8bitLt, threshold 6.0): the paper authors' reference

The benchmark-only baseline (dynamic int8) is in inference/bench/baselines.py.
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
