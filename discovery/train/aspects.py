"""Contrastive aspect heads: one linear map per aspect on top of the frozen encoder, trained so
that an aspect of a paper is recognised among other papers' same aspect.

Navigating Ideation Space learns one space per aspect by contrastive training; SemCSE-Multi
(aspect-specific embeddings trained contrastively per facet) does it with generated summaries.
Here the views are free: CSAbstruct's hand-labelled sentences (problem = background +
objective, method, findings = result). For every abstract with at least two sentences of an
aspect, the sentences are split at random into two halves; the pooled vectors of the halves
are a positive pair, the other abstracts of the batch are negatives (InfoNCE, symmetric; van
den Oord et al. 2018). Each head starts as the identity, so it can only move away from the
untrained space as far as the data pushes it.

    python -m discovery.train.aspects     # writes discovery/weights/aspects.safetensors

Vectors are the segmenter's cached CSAbstruct vectors (discovery.train.segmenter). Training is
deterministic (fixed seed and one thread) and takes seconds once the vectors exist. Whether a
head is used is decided on CSFCube dev (python -m discovery.bench.csfcube --sweep prints the
product with and without heads): see AspectConfig.heads in aspects.py.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from discovery import ASPECTS
from discovery.aspects import HEADS_WEIGHTS
SOURCE_TO_ASPECT = {"background": "problem", "objective": "problem", "method": "method", "result": "findings"}


@dataclass
class HeadTrainConfig:
    epochs: int = 10        # ~1,000 abstracts per aspect: a few epochs; 3 and 30 score alike on dev
    batch_size: int = 128   # abstracts per step, i.e. 127 negatives per positive pair
    temperature: float = 0.05  # InfoNCE temperature, SimCSE's value
    lr: float = 1e-3        # AdamW
    weight_decay: float = 1e-2
    seed: int = 0
    encoder_mode: str = "fp32"  # heads are trained on reference vectors and applied to either


def aspect_groups(rows: list[dict], vectors: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Per aspect, the sentence vectors of each abstract that has >= 2 sentences of it."""
    groups = {a: [] for a in ASPECTS}
    for row, vecs in zip(rows, vectors):
        aspects = [SOURCE_TO_ASPECT.get(label) for label in row["labels"]]
        for a in ASPECTS:
            rows_a = [i for i, x in enumerate(aspects) if x == a]
            if len(rows_a) >= 2:
                groups[a].append(vecs[rows_a])
    return groups


def _pooled(x: np.ndarray) -> np.ndarray:
    m = x.mean(0)
    return m / np.linalg.norm(m)


def two_views(group: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(len(group))
    half = len(perm) // 2
    return _pooled(group[perm[:half]]), _pooled(group[perm[half:]])


def info_nce(x: torch.Tensor, y: torch.Tensor, temperature: float) -> torch.Tensor:
    logits = x @ y.T / temperature
    target = torch.arange(len(x))
    return (torch.nn.functional.cross_entropy(logits, target)
            + torch.nn.functional.cross_entropy(logits.T, target)) / 2


def identity_head(dim: int) -> torch.nn.Linear:
    head = torch.nn.Linear(dim, dim)
    torch.nn.init.eye_(head.weight)
    torch.nn.init.zeros_(head.bias)
    return head


def train_head(groups: list[np.ndarray], cfg: HeadTrainConfig) -> torch.nn.Linear:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    head = identity_head(groups[0].shape[1])
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    for _ in range(cfg.epochs):
        order = rng.permutation(len(groups))
        for start in range(0, len(order), cfg.batch_size):
            views = [two_views(groups[i], rng) for i in order[start:start + cfg.batch_size]]
            x, y = (torch.nn.functional.normalize(head(torch.tensor(np.stack(v))), dim=-1)
                    for v in zip(*views))
            loss = info_nce(x, y, cfg.temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return head


def save_heads(heads: dict[str, torch.nn.Linear], cfg: HeadTrainConfig, path: Path = HEADS_WEIGHTS) -> None:
    from safetensors.torch import save_file

    # fp16 on disk halves the file; heads are applied in float32
    tensors = {f"{a}.{n}": t.detach().half().contiguous() for a, h in heads.items() for n, t in h.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"config": json.dumps(asdict(cfg))})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HEADS_WEIGHTS)
    args = ap.parse_args(argv)
    from discovery.train.segmenter import cached_vectors, load_split

    cfg = HeadTrainConfig()
    torch.set_num_threads(1)  # float reductions depend on the thread count
    rows = load_split("train")
    groups = aspect_groups(rows, cached_vectors("train", rows, cfg.encoder_mode))
    heads = {}
    for a in ASPECTS:
        heads[a] = train_head(groups[a], cfg)
        print(f"{a}: {len(groups[a])} abstracts with >= 2 {a} sentences", flush=True)
    save_heads(heads, cfg, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
