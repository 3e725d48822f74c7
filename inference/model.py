"""A lean Llama forward pass over LLM.int8() weights, for batch-1 generation on CPU.

At 135M parameters a decoded token costs ~134M int8 MACs, about as long as the ~600 small
operator calls that transformers spends on it. So this module keeps one op per step where it can:
fused q|k|v and gate|up projections, the SwiGLU product and the residual add fused into the
following int8 matmul, rotary embedding fused with the append to a preallocated (static) KV
cache, and single-query attention in the kernel module (torch's SDPA for prompt blocks).

A tied embedding is read from the int8 output head (row q * row scale), so the token table is
stored once, in int8; an untied one (Llama 3 8B, most GGUFs) is its own row-wise int8 table.
The family differences (architectures.py) are optional per-layer tensors: q|k|v and output
biases (Qwen2, Llama with attention_bias), per-head q and k RMSNorm before RoPE (Qwen3); the
RoPE variant is baked into the inverse frequencies at conversion.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import int8 as q8
from . import kernels


@dataclass
class LlamaShape:
    n_layers: int = 30        # SmolLM2-135M values; read from the HF config at conversion
    dim: int = 576
    n_heads: int = 9
    n_kv_heads: int = 3
    head_dim: int = 64
    vocab: int = 49152
    rope_theta: float = 100000.0  # informative: the tables come from Int8Llama's inv_freq
    norm_eps: float = 1e-5
    max_seq: int = 2048       # static KV cache length (and the longest prompt + completion)


@dataclass
class KVCache:
    """Keys and values [n_kv_heads, max_seq, head_dim] per layer, rows 0..pos-1 valid."""
    k: list[torch.Tensor]
    v: list[torch.Tensor]

    def copy_prefix(self, other: "KVCache", n: int) -> None:
        """Take other's first n rows: a shared prompt prefilled once serves several sequences."""
        for dst, src in zip(self.k + self.v, other.k + other.v):
            dst[:, :n] = src[:, :n]


@dataclass
class Layer:
    attn_norm: torch.Tensor
    qkv: q8.Int8Weight
    o: q8.Int8Weight
    mlp_norm: torch.Tensor
    gate_up: q8.Int8Weight
    down: q8.Int8Weight
    qkv_bias: torch.Tensor | None = None  # [N_q + 2 N_kv] fp32
    o_bias: torch.Tensor | None = None    # [dim] fp32
    q_norm: torch.Tensor | None = None    # [head_dim] RMSNorm weight over each query head
    k_norm: torch.Tensor | None = None    # [head_dim] RMSNorm weight over each key head


class Int8Llama:
    """Weights plus a static KV cache; `forward(ids, pos)` returns logits of the last or all rows."""

    def __init__(self, shape: LlamaShape, layers: list[Layer], final_norm: torch.Tensor,
                 head: q8.Int8Weight, threshold: float, embed: q8.Int8Weight | None = None,
                 inv_freq: torch.Tensor | None = None):
        self.shape, self.layers, self.final_norm, self.head = shape, layers, final_norm, head
        self.threshold, self.embed_table, self.inv_freq = threshold, embed, inv_freq
        self.cos, self.sin = rope_tables(shape, inv_freq)
        self.cache = self.new_cache()
        self._rope = kernels.ops().rope_kv if kernels.available() else rope_kv_reference

    def new_cache(self) -> "KVCache":
        kv = (self.shape.n_kv_heads, self.shape.max_seq, self.shape.head_dim)
        return KVCache([torch.zeros(kv) for _ in self.layers], [torch.zeros(kv) for _ in self.layers])

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        t = self.embed_table if self.embed_table is not None else self.head  # None: tied
        e = t.q[ids].float() * t.scale[ids, None]
        e[:, t.outl_idx] = t.outl_w[:, ids].t().float()
        return e

    @torch.inference_mode()
    def forward(self, ids: torch.Tensor, pos: int, all_logits: bool = False, rowwise: bool = False,
                cache: "KVCache | None" = None) -> torch.Tensor:
        """ids: [M] token ids written at positions pos..pos+M-1 of the cache (the model's own by
        default). rowwise: attention one query row at a time, as decoding does, so that a
        speculative block's logits are those of M single steps bit for bit (the kernel's matmul
        is per row already for M < 16)."""
        c, m = cache or self.cache, ids.numel()

        def mix(i: int, qkv: torch.Tensor) -> torch.Tensor:
            q = self._rope(qkv, self.cos, self.sin, c.k[i], c.v[i], pos, self.shape.n_heads)
            return self._attend(q, c.k[i], c.v[i], pos, m, rowwise)

        return self._layers(ids, mix, all_logits)

    @torch.inference_mode()
    def forward_rows(self, ids: torch.Tensor, rows: list[tuple["KVCache", int]]) -> torch.Tensor:
        """Logits of every row, row j being token ids[j] at position rows[j][1] of cache
        rows[j][0]: several sequences decoded in one forward, so each weight is read once for
        all of them (decoding is memory-bound). Rows of one sequence come in position order; each
        row's logits are bit for bit those of its own single step (attention per row, and the
        kernel's matmul is per row below 16 rows)."""
        def mix(i: int, qkv: torch.Tensor) -> torch.Tensor:
            out = []
            for j, (c, p) in enumerate(rows):  # all rows' keys are written before any row attends
                out.append(self._rope(qkv[j:j + 1], self.cos, self.sin, c.k[i], c.v[i], p, self.shape.n_heads))
            return torch.cat([self._attend(q, c.k[i], c.v[i], p, 1) for q, (c, p) in zip(out, rows)])

        return self._layers(ids, mix, all_logits=True)

    def _layers(self, ids: torch.Tensor, mix, all_logits: bool) -> torch.Tensor:
        """The decoder stack; mix(layer, qkv) applies RoPE, writes the keys and values to the
        cache and returns the attention output [M, H*D]."""
        thr, eps = self.threshold, self.shape.norm_eps
        h = self.embed(ids)
        for i, L in enumerate(self.layers):
            qkv = q8.int8_linear(h, L.qkv, thr, norm=L.attn_norm, eps=eps)
            if L.qkv_bias is not None:
                qkv = qkv + L.qkv_bias
            if L.q_norm is not None:
                qkv = self._qk_norm(qkv, L)
            h = q8.int8_linear(mix(i, qkv), L.o, thr, residual=h)
            if L.o_bias is not None:
                h = h + L.o_bias
            gu = q8.int8_linear(h, L.gate_up, thr, norm=L.mlp_norm, eps=eps)
            h = q8.int8_linear(gu, L.down, thr, silu_mul=True, residual=h)
        if not all_logits:
            h = h[-1:]
        return q8.int8_linear(h, self.head, thr, norm=self.final_norm, eps=eps)

    def _qk_norm(self, qkv: torch.Tensor, L: Layer) -> torch.Tensor:
        """Qwen3: RMSNorm over each head of q and of k (v untouched), before RoPE."""
        s = self.shape
        t = qkv.reshape(qkv.shape[0], -1, s.head_dim)
        q = F.rms_norm(t[:, :s.n_heads], (s.head_dim,), L.q_norm, s.norm_eps)
        k = F.rms_norm(t[:, s.n_heads:s.n_heads + s.n_kv_heads], (s.head_dim,), L.k_norm, s.norm_eps)
        return torch.cat([q, k, t[:, s.n_heads + s.n_kv_heads:]], 1).reshape(qkv.shape)

    def _attend(self, q, k_cache, v_cache, pos: int, m: int, rowwise: bool = False) -> torch.Tensor:
        if rowwise and m > 1:
            return torch.cat([self._attend(q[:, :, j:j + 1].contiguous(), k_cache, v_cache, pos + j, 1)
                              for j in range(m)])
        if m == 1 and kernels.available() and self.shape.head_dim % 16 == 0:  # the kernel's vector width
            return kernels.ops().attend_one(q, k_cache, v_cache, pos + 1)
        return attend(q, k_cache, v_cache, pos, m)

    def nbytes(self) -> int:
        ws = [self.head] + ([self.embed_table] if self.embed_table is not None else []) + \
             [w for L in self.layers for w in (L.qkv, L.o, L.gate_up, L.down)]
        norms = [self.final_norm] + [t for L in self.layers
                                     for t in (L.attn_norm, L.mlp_norm, L.qkv_bias, L.o_bias, L.q_norm, L.k_norm)
                                     if t is not None]
        return sum(w.nbytes() for w in ws) + sum(t.numel() * 4 for t in norms)


def rope_tables(s: LlamaShape, inv_freq: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin [max_seq, head_dim / 2]; inv_freq None: plain RoPE at s.rope_theta."""
    inv = inv_freq.double() if inv_freq is not None else \
        1.0 / (s.rope_theta ** (torch.arange(0, s.head_dim, 2, dtype=torch.float64) / s.head_dim))
    ang = torch.arange(s.max_seq, dtype=torch.float64)[:, None] * inv[None, :]
    return ang.cos().float().contiguous(), ang.sin().float().contiguous()


def rope_kv_reference(qkv, cos, sin, k_cache, v_cache, pos: int, n_heads: int) -> torch.Tensor:
    """Pure-torch twin of the kernel's rope_kv (rotate-half convention of HF Llama)."""
    kvh, _, d = k_cache.shape
    m = qkv.numel() // ((n_heads + 2 * kvh) * d)
    qkv = qkv.reshape(m, n_heads + 2 * kvh, d).transpose(0, 1)
    c, s_ = cos[pos:pos + m], sin[pos:pos + m]

    def rot(t):
        a, b = t[..., : d // 2], t[..., d // 2:]
        return torch.cat([a * c - b * s_, b * c + a * s_], -1)

    k_cache[:, pos:pos + m] = rot(qkv[n_heads:n_heads + kvh])
    v_cache[:, pos:pos + m] = qkv[n_heads + kvh:]
    return rot(qkv[:n_heads]).unsqueeze(0).contiguous()


def attend(q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor, pos: int, m: int) -> torch.Tensor:
    """Causal GQA attention of q [1, H, M, D] over cache rows 0..pos+M-1; returns [M, H*D]."""
    k = k_cache[None, :, : pos + m]
    v = v_cache[None, :, : pos + m]
    mask = None
    if m > 1 and pos > 0:  # is_causal aligns top-left; a prefix in the cache needs an explicit mask
        mask = torch.ones(m, pos + m, dtype=torch.bool).tril(pos)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=m > 1 and pos == 0, enable_gqa=True)
    return out[0].transpose(0, 1).reshape(m, -1)
