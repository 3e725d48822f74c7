"""An inference-only forward pass of the encoder's BERT (all-MiniLM-L6-v2) in Int8, for the
`fast` path on CPUs with AVX-512 VNNI, built from the Hugging Face model's own weights.

Why not the Hugging Face forward with its Linear layers swapped for PyTorch's dynamic Int8
ones, as before: profiled on 256 abstracts (whole texts and sentences), the Int8 GEMMs took
2.3 s and attention 1.9 s (with heads of 32, PyTorch's fused CPU attention runs far below the
GEMMs' speed), and per-tensor activation scales put the vectors at cosine 0.993 to fp32 and
made a text's vector depend on its batchmates. Here, with discovery.kernels (csrc/minilm_ops.cpp):

- every Linear layer is Int8 with vector-wise scales (one per token, one per output channel,
  as in LLM.int8()), cosine 0.997 to fp32, each text independent of its batch;
- Q, K and V are one GEMM (1152 outputs), so their input is quantized once;
- attention is the kernel's: float32, exact, about twice PyTorch's speed at these shapes;
- the up-projection's exact GELU, and the residual + LayerNorm after the attention output and
  the down-projection, are fused into the dequantizing pass of those GEMMs;
- embeddings stay float32, as do all the sums.

Without the kernels (no AVX-512, or no compiler) the same forward runs on PyTorch's dynamic
Int8 Linear (per-tensor activation scales) and its fused attention.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F


class _Int8Linear:
    """y = x W^T + b with int8 weights, one scale per output channel: through the kernel
    (a scale per token) when there is one, else PyTorch's dynamic Int8 (a scale per batch)."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, kernel, full_range: bool):
        self.kernel, self.full_range = kernel, full_range
        weight, bias = weight.detach().float(), bias.detach().float().contiguous()
        if kernel is None:
            self.packed = _packed(weight, bias)
            return
        scale = weight.abs().amax(dim=1).clamp_min(1e-12) / 127.0
        self.wq = torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8).t().contiguous()
        self.scale, self.bias = scale.contiguous(), bias

    def __call__(self, x: torch.Tensor, gelu: bool = False, residual: torch.Tensor | None = None,
                 norm: tuple | None = None) -> torch.Tensor:
        """y = x W^T + b, then GELU(y) if `gelu`, or LayerNorm(residual + y) with norm =
        (gamma, beta, eps) if `residual` is given (fused into the kernel's last pass)."""
        if self.kernel is None:
            # the full 8-bit activation range only where VNNI's int32 accumulation cannot
            # overflow; AVX2's int16 pair sums need 7 bits
            y = torch.ops.quantized.linear_dynamic(x, self.packed, reduce_range=not self.full_range)
            if residual is not None:
                return F.layer_norm(y + residual, y.shape[-1:], *norm)
            return F.gelu(y) if gelu else y
        flat = self.kernel.int8_linear(x.reshape(-1, x.shape[-1]), self.wq, self.scale, self.bias, gelu,
                                       residual, *(norm or (None, None, 1e-12)))
        return flat.view(*x.shape[:-1], -1)


def _packed(weight: torch.Tensor, bias: torch.Tensor):
    """Int8 per-output-channel weights as quantize_dynamic makes them, for linear_dynamic."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig

    linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        linear.weight.copy_(weight)
        linear.bias.copy_(bias)
    linear.qconfig = per_channel_dynamic_qconfig
    with warnings.catch_warnings():  # torch.ao eager quantization is deprecated, not removed
        warnings.simplefilter("ignore")
        return DynamicLinear.from_float(linear)._packed_params._packed_params


def _ln(norm: torch.nn.LayerNorm):
    return norm.weight.detach().clone(), norm.bias.detach().clone(), norm.eps


class _Layer:
    def __init__(self, layer, kernel, full_range: bool):
        att = layer.attention.self

        def int8(weight, bias):
            return _Int8Linear(weight, bias, kernel, full_range)
        self.qkv = int8(torch.cat([att.query.weight, att.key.weight, att.value.weight]),
                        torch.cat([att.query.bias, att.key.bias, att.value.bias]))
        self.out = int8(layer.attention.output.dense.weight, layer.attention.output.dense.bias)
        self.ln1 = _ln(layer.attention.output.LayerNorm)
        self.up = int8(layer.intermediate.dense.weight, layer.intermediate.dense.bias)
        self.down = int8(layer.output.dense.weight, layer.output.dense.bias)
        self.ln2 = _ln(layer.output.LayerNorm)


class FastMiniLM:
    """hidden = FastMiniLM(hf_bert_model, kernel)(input_ids, attention_mask): (B, L, hidden)
    float32. `kernel` is discovery.kernels.ops() or None; `full_range`: the CPU has VNNI (only
    PyTorch's fallback Int8 needs to know)."""

    def __init__(self, model, kernel=None, full_range: bool = True):
        cfg = model.config
        if cfg.hidden_act != "gelu" or getattr(cfg, "position_embedding_type", "absolute") != "absolute":
            raise ValueError("FastMiniLM implements BERT with exact GELU and absolute positions")
        emb = model.embeddings
        self.word = emb.word_embeddings.weight.detach()
        self.pos = emb.position_embeddings.weight.detach()
        self.type0 = emb.token_type_embeddings.weight.detach()[0]
        self.ln0 = _ln(emb.LayerNorm)
        self.heads = cfg.num_attention_heads
        if cfg.hidden_size // self.heads != 32 or cfg.hidden_size % 16 or cfg.intermediate_size % 16:
            kernel = None  # the kernel's head size and vector width
        self.kernel = kernel
        self.layers = [_Layer(layer, kernel, full_range) for layer in model.encoder.layer]

    def _attention(self, qkv: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        b, length, _ = qkv.shape
        if self.kernel is not None:
            return self.kernel.attention(qkv, lengths, self.heads)
        q, k, v = qkv.view(b, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)  # each (B, H, L, D)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :].bool())
        return out.transpose(1, 2).reshape(b, length, -1)

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Right-padded batches only (attention_mask 1...1 0...0), as the encoder builds them."""
        length = input_ids.shape[1]
        x = self.word[input_ids] + self.pos[:length] + self.type0
        x = F.layer_norm(x, x.shape[-1:], *self.ln0)
        lengths = attention_mask.sum(1)
        for layer in self.layers:
            x = layer.out(self._attention(layer.qkv(x), attention_mask, lengths), residual=x, norm=layer.ln1)
            x = layer.down(layer.up(x, gelu=True), residual=x, norm=layer.ln2)
        return x
