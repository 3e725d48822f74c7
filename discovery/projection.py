"""A 2-D map of the ideation space: every paper projected from one space (the whole paper, or its
problem, method or findings aspect) onto that space's first two principal components (PCA,
Pearson 1901; Hotelling 1933), for the browser's ideation map.

Why PCA and not t-SNE/UMAP: the map must be recomputed whenever the index changes, for 49k+ points,
on two CPU cores, inside a web request the first time. PCA on a 384 x 384 covariance is a fraction
of a second at 49k papers and linear in n, it is deterministic, and distances along its axes keep a
meaning (the directions of largest variance of the corpus in that aspect). Neighbourhood-preserving
embeddings cost minutes and add a dependency.

The result is cached on disk per (index version, space): a version never changes once saved, so the
cache needs no invalidation; old files are simply left for `prune` to remove. The cache keeps the
fitted transform too, so that a point that is not a corpus paper (an idea of a novelty report)
can be placed on the same map (`cached_transform(...).place(vectors)`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

FORMAT = 2  # bump when the cached file layout or the projection changes


@dataclass
class ProjectionConfig:
    grid: int = 4095  # coordinates quantised to 12 bits: finer than any screen, ~5 JSON chars each
    clip_quantile: float = 0.002  # a handful of outliers must not squash the map into a corner
    keep_versions: int = 2  # cached index versions kept per space by prune()


def principal_axes(vectors: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(mean, axes (k, d)) of the vectors; each axis's sign is fixed so that its largest-magnitude
    loading is positive, so the map does not flip between two computations."""
    x = np.asarray(vectors, np.float64)
    mean = x.mean(axis=0)
    cov = (x - mean).T @ (x - mean) / max(len(x) - 1, 1)
    _, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
    axes = vecs[:, ::-1][:, :k].T
    signs = np.sign(axes[np.arange(k), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


@dataclass
class Transform:
    """A fitted map: centre, principal axes and the clipping box, in the vectors' space."""
    mean: np.ndarray  # (d,)
    axes: np.ndarray  # (2, d)
    lo: np.ndarray  # (2,) clip box in PCA coordinates
    hi: np.ndarray
    grid: int

    def place(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 2) uint16 grid coordinates; points outside the corpus's box sit on its edge."""
        xy = (np.atleast_2d(np.asarray(vectors, np.float64)) - self.mean) @ self.axes.T
        scaled = (np.clip(xy, self.lo, self.hi) - self.lo) / np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        return np.rint(scaled * self.grid).astype(np.uint16)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "axes": self.axes, "lo": self.lo, "hi": self.hi, "grid": np.int64(self.grid)}


def fit(vectors: np.ndarray, cfg: ProjectionConfig | None = None) -> Transform | None:
    """The transform of `project`; None below 3 vectors (no plane to fit)."""
    cfg = cfg or ProjectionConfig()
    if len(vectors) < 3:
        return None
    # One BLAS thread: a 384 x 384 problem gains nothing from more, and on a busy server
    # (web workers, encoder) spinning BLAS threads made it 100x slower in our measurements.
    with threadpool_limits(limits=1, user_api="blas"):
        mean, axes = principal_axes(vectors)
        xy = (np.asarray(vectors, np.float64) - mean) @ axes.T
    lo = np.quantile(xy, cfg.clip_quantile, axis=0)
    hi = np.quantile(xy, 1 - cfg.clip_quantile, axis=0)
    return Transform(mean, axes, lo, hi, cfg.grid)


def project(vectors: np.ndarray, cfg: ProjectionConfig | None = None) -> np.ndarray:
    """(n, 2) uint16 grid coordinates in [0, cfg.grid]; y grows upwards (plot convention)."""
    return _project(vectors, cfg)[0]


def _project(vectors: np.ndarray, cfg: ProjectionConfig | None) -> tuple[np.ndarray, Transform | None]:
    cfg = cfg or ProjectionConfig()
    transform = fit(vectors, cfg)
    if transform is None:
        return np.full((len(vectors), 2), cfg.grid // 2, np.uint16), None
    with threadpool_limits(limits=1, user_api="blas"):
        return transform.place(vectors), transform


def cache_file(cache_dir: Path | str, version: int, space: str) -> Path:
    return Path(cache_dir) / f"v{version:06d}-{space}-f{FORMAT}.npz"


def _save_atomic(path: Path, ids: np.ndarray, xy: np.ndarray, transform: Transform | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(f, ids=ids, xy=xy, **(transform.arrays() if transform else {}))
    os.replace(tmp, path)


def cached_projection(cache_dir: Path | str, version: int, space: str,
                      load_vectors: Callable[[], tuple[np.ndarray, np.ndarray]],
                      cfg: ProjectionConfig | None = None, expect_count: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64, xy uint16 (n, 2)) for the index version, computed once and then read from disk.
    `load_vectors` returns (ids, vectors) and is only called on a cache miss. `expect_count`
    guards against an index folder deleted and rebuilt, whose versions start again at 1."""
    path = cache_file(cache_dir, version, space)
    try:
        with np.load(path) as data:
            ids, xy = data["ids"], data["xy"]
        if expect_count is None or len(ids) == expect_count:
            return ids, xy
    except (FileNotFoundError, OSError, KeyError, ValueError):
        pass  # missing or torn by a crash: recompute
    ids, vectors = load_vectors()
    ids = np.asarray(ids, np.int64)
    xy, transform = _project(vectors, cfg)
    _save_atomic(path, ids, xy, transform)
    prune(cache_dir, space, (cfg or ProjectionConfig()).keep_versions)
    return ids, xy


def cached_transform(cache_dir: Path | str, version: int, space: str) -> Transform | None:
    """The transform saved by cached_projection for that version (call that first), or None
    when the map has fewer than 3 papers or is not cached."""
    try:
        with np.load(cache_file(cache_dir, version, space)) as data:
            if "axes" not in data.files:
                return None
            return Transform(data["mean"], data["axes"], data["lo"], data["hi"], int(data["grid"]))
    except (FileNotFoundError, OSError, KeyError, ValueError):
        return None


def prune(cache_dir: Path | str, space: str, keep: int) -> None:
    """Remove all but the newest `keep` cached versions of one space."""
    files = sorted(Path(cache_dir).glob(f"v*-{space}-f{FORMAT}.npz"))
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def to_payload(ids: np.ndarray, xy: np.ndarray, version: int, space: str) -> dict:
    """Compact JSON-ready columns: three flat int lists instead of 49k small objects."""
    return {"version": version, "space": space, "ids": ids.tolist(),
            "x": xy[:, 0].tolist(), "y": xy[:, 1].tolist()}
