"""Ideation transitions (Navigating Ideation Space, Radensky et al. 2025): the logical step from a
research problem to a method that could solve it, learned from the corpus itself.

Each paper is one observed transition: its problem vector p and its method vector m in the
ideation space. We learn a residual linear map f(p) = normalise(p + W p) with an InfoNCE loss
(van den Oord et al. 2018, "Representation Learning with Contrastive Predictive Coding"): f(p_i)
must score its own m_i above the other methods of the batch. W starts at zero, so the untrained
map is the identity baseline (search the method space with the problem vector itself) and
training can only move away from it where the corpus says so. Training and the Hit Rate@k
evaluation are in discovery/train/transitions.py; the weights ship in discovery/weights/.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "weights" / "transitions.npz"


@dataclass
class TransitionConfig:
    dim: int = 384  # all-MiniLM-L6-v2
    temperature: float = 0.05  # InfoNCE temperature: cosines of related papers differ by ~0.1
    lr: float = 1e-3  # Adam; W is 384x384 and starts at zero
    weight_decay: float = 1e-4  # keeps W small, i.e. the map close to the identity prior
    batch_size: int = 1024  # in-batch negatives: more negatives, sharper contrast
    epochs: int = 8  # ~44k pairs: a few hundred steps, under a minute on two cores
    seed: int = 0


def normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


class Transition:
    """f(p) = normalise(p + W p); W = 0 is the identity baseline."""

    def __init__(self, w: np.ndarray | None = None, dim: int = 384, meta: dict | None = None):
        self.w = np.zeros((dim, dim), np.float32) if w is None else np.asarray(w, np.float32)
        self.meta = meta or {}

    def __call__(self, problem_vectors: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(np.asarray(problem_vectors, np.float32))
        out = normalise(p + p @ self.w.T)
        return out if np.ndim(problem_vectors) == 2 else out[0]

    @property
    def is_identity(self) -> bool:
        return not self.w.any()

    def save(self, path: Path | str = WEIGHTS) -> None:
        """float16 halves the committed file (300 kB); the map's outputs change by < 1e-3."""
        import json

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, w=self.w.astype(np.float16), meta=np.asarray(json.dumps(self.meta)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path | str = WEIGHTS) -> Transition:
        import json

        with np.load(path) as z:
            return cls(z["w"].astype(np.float32), meta=json.loads(str(z["meta"])))


@functools.lru_cache(maxsize=1)
def default() -> Transition:
    """The shipped map, or the identity when no weights were trained yet (still usable)."""
    return Transition.load() if WEIGHTS.exists() else Transition()


def train(problems: np.ndarray, methods: np.ndarray, cfg: TransitionConfig | None = None,
          log=lambda msg: None) -> Transition:
    """Fit W on paired (problem, method) vectors; deterministic for a given seed."""
    import torch

    cfg = cfg or TransitionConfig()
    torch.manual_seed(cfg.seed)
    p = torch.from_numpy(normalise(problems))
    m = torch.from_numpy(normalise(methods))
    w = torch.zeros((cfg.dim, cfg.dim), requires_grad=True)
    opt = torch.optim.AdamW([w], lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    labels = torch.arange(cfg.batch_size)
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(p), generator=gen)
        total = 0.0
        for start in range(0, len(p), cfg.batch_size):
            rows = order[start:start + cfg.batch_size]
            q = torch.nn.functional.normalize(p[rows] + p[rows] @ w.T, dim=-1)
            logits = q @ m[rows].T / cfg.temperature
            loss = torch.nn.functional.cross_entropy(logits, labels[:len(rows)])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        log(f"epoch {epoch + 1}/{cfg.epochs}: InfoNCE {total / len(p):.4f}")
    return Transition(w.detach().numpy().copy(), cfg.dim)


def hit_rate(queries: np.ndarray, own_rows: np.ndarray, pool: np.ndarray, k: int = 30,
             chunk: int = 512) -> tuple[float, float]:
    """(Hit Rate@k, mean reciprocal rank) of each query's own row among all `pool` rows."""
    hits, rr = 0, 0.0
    pool = np.ascontiguousarray(pool, np.float32)
    for lo in range(0, len(queries), chunk):
        q, own = queries[lo:lo + chunk], own_rows[lo:lo + chunk]
        scores = q @ pool.T
        own_score = scores[np.arange(len(q)), own]
        rank = (scores > own_score[:, None]).sum(axis=1) + 1  # 1-based; ties count in its favour
        hits += int((rank <= k).sum())
        rr += float((1.0 / rank).sum())
    return hits / len(queries), rr / len(queries)
