"""LLM.int8(): 8-bit matrix multiplication for transformers at scale (Dettmers et al., 2022).

Vector-wise quantization: each weight row (output feature) and each activation row (token) gets
its own absmax scale, so one large value spoils only its own row. Mixed-precision decomposition:
the few hidden dimensions whose activations exceed a threshold (6.0 in the paper) carry the
emergent outliers that int8 cannot represent next to ordinary values; those columns of X and
the matching columns of W are multiplied in floating point, everything else in int8 with int32
accumulation.

Here the outlier columns are found once, on calibration text, and their weight columns are kept
in fp16; at run time any other column that exceeds the threshold is also routed through fp32
(against the dequantized int8 weight: what overflows int8 is the activation, not the weight).
"""
from dataclasses import dataclass

import torch

from . import kernels


@dataclass
class Int8Config:
    threshold: float = 2.0        # |x| above this goes through fp. The paper uses 6.0 for >=6.7B models;
                                  # at 135M: 6.0 costs +1.9% perplexity, 3.0 +0.9%, 2.0 +0.5% (README, Local LLM)
    min_outlier_rows: float = 0.001  # a column is a calibrated outlier if this share of tokens exceed it
    max_outliers: int = 64        # cap on calibrated fp16 columns per layer: each costs N fp16 weights per token


@dataclass
class Int8Weight:
    """One linear layer in LLM.int8() form. Plain tensors, so torch.save can cache it."""
    q: torch.Tensor          # [N, K] int8, outlier columns zeroed
    scale: torch.Tensor      # [N] fp32 absmax / 127 per output row
    rowsum: torch.Tensor     # [N] int32 sum of q per row (the VNNI kernel shifts x by +128)
    outl_idx: torch.Tensor   # [P] int64 calibrated outlier columns
    outl_w: torch.Tensor     # [P, N] fp16 weights of those columns (the paper keeps them in fp16)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.q, self.scale, self.rowsum, self.outl_idx, self.outl_w))


def outlier_columns(acts: torch.Tensor, cfg: Int8Config) -> torch.Tensor:
    """Columns of calibration activations [T, K] where enough tokens exceed the threshold."""
    share = (acts.abs() > cfg.threshold).float().mean(0)
    cols = torch.nonzero(share >= cfg.min_outlier_rows).flatten()
    if cols.numel() > cfg.max_outliers:  # keep the columns hit most often
        cols = cols[share[cols].argsort(descending=True)[: cfg.max_outliers]]
    return cols.sort().values


def quantize_weight(w: torch.Tensor, outl_idx: torch.Tensor | None = None) -> Int8Weight:
    """Row-wise absmax int8 of W [N, K]; the outlier columns go to fp16 and leave the int8 part."""
    w = w.detach().float()
    idx = torch.empty(0, dtype=torch.long) if outl_idx is None else outl_idx.long()
    inl = w.clone()
    inl[:, idx] = 0.0
    scale = inl.abs().amax(1).clamp_min(1e-8) / 127.0
    q = torch.round(inl / scale[:, None]).clamp_(-127, 127).to(torch.int8)
    return Int8Weight(q=q.contiguous(), scale=scale.contiguous(), rowsum=q.sum(1, dtype=torch.int32),
                      outl_idx=idx.contiguous(), outl_w=w[:, idx].t().contiguous().half())


def dequantize(wt: Int8Weight) -> torch.Tensor:
    w = wt.q.float() * wt.scale[:, None]
    w[:, wt.outl_idx] = wt.outl_w.t().float()
    return w


def int8_linear_reference(x: torch.Tensor, wt: Int8Weight, threshold: float) -> torch.Tensor:
    """Pure-torch LLM.int8() matmul: the specification the VNNI kernel is tested against."""
    x2 = x.reshape(-1, x.shape[-1]).float()
    outl = torch.zeros(x2.shape[-1], dtype=torch.bool)
    outl[wt.outl_idx] = True
    dyn = (x2.abs() > threshold) & ~outl           # run-time outliers, per token
    inl = x2.masked_fill(outl | dyn, 0.0)
    sx = inl.abs().amax(1, keepdim=True).clamp_min(1e-30) / 127.0
    sx = torch.where(sx > 1e-30, sx, torch.ones_like(sx))
    xq = torch.round(inl / sx).to(torch.int32)
    y = (xq @ wt.q.t().to(torch.int32)).float() * sx * wt.scale[None, :]
    y += x2[:, wt.outl_idx] @ wt.outl_w.float()
    y += (x2 * dyn) @ (wt.q.float() * wt.scale[:, None]).t()
    return y.reshape(*x.shape[:-1], -1)


def int8_linear(x: torch.Tensor, wt: Int8Weight, threshold: float, silu_mul: bool = False,
                residual: torch.Tensor | None = None, norm: torch.Tensor | None = None,
                eps: float = 1e-5) -> torch.Tensor:
    """y = LLM.int8(x W^T) (+ residual). norm: RMSNorm weight applied to x first; silu_mul:
    x = [gate | up] and the input is silu(gate) * up (SwiGLU). One kernel call for all of it."""
    ops = kernels.ops()
    if ops is not None:
        return ops.int8_linear(x, wt.q, wt.scale, wt.rowsum, wt.outl_idx, wt.outl_w, threshold, silu_mul,
                               residual, norm, eps)
    if norm is not None:
        x = torch.nn.functional.rms_norm(x, (x.shape[-1],), norm, eps)
    if silu_mul:
        gate, up = x.chunk(2, dim=-1)
        x = torch.nn.functional.silu(gate) * up
    y = int8_linear_reference(x, wt, threshold)
    return y if residual is None else y + residual.reshape(y.shape)
