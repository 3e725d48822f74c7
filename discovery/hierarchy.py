"""A hierarchy of clusters of one vector space (the whole paper, or its problem, method or
findings aspect): recursive spherical k-means, in the spirit of Science Hierarchography (Gao et
al. 2025, "Science Hierarchography: Hierarchical Organization of Science Literature"), which
organises a field as a tree of clusters a person can read top-down.

Level 1 splits the corpus into at most `branching[0]` clusters, each cluster of level l into at
most `branching[l]` children, never below `min_size` papers per cluster on average. A cluster
too small to split is carried to the next level as its only child, so that every level is a
partition of the whole corpus (the gap map crosses two partitions of the same level).

k-means is FAISS's (Johnson et al. 2017) with centroids on the unit sphere, like the vectors:
at 49k x 384 one level-1 clustering takes well under a second on two cores. Deterministic for a
given seed and thread count.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import faiss
import numpy as np


@dataclass
class HierarchyConfig:
    branching: tuple[int, ...] = (12, 8)  # 12 top families fit on one map; 8 children fit a panel
    min_size: int = 10  # papers per cluster, on average, below which a cluster is not split
    niter: int = 25  # k-means iterations; assignments stop changing well before at these sizes
    redo: int = 3  # level-1 k-means runs from different seeds, the tightest kept (one run can
    # merge two close families and split a wide one); deeper levels run once
    seed: int = 1234
    sample_per_centroid: int = 256  # k-means trains on a sample of this many points per centroid
    # (FAISS's default; then every point is assigned): a level-1 split of 49k costs what 3k would
    representatives: int = 5  # papers nearest the centroid shown for a cluster


@dataclass
class Cluster:
    id: str  # the path from the root: "3", "3.2"
    level: int  # 1 = top
    parent: str | None
    rows: np.ndarray  # rows of the corpus's arrays (not paper ids)
    centroid: np.ndarray  # unit vector
    representatives: list[int] = field(default_factory=list)  # rows, nearest the centroid first
    label: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows)


@dataclass
class Hierarchy:
    """Clusters by level; `assignment[l][row]` is the index into `levels[l]` of a paper's cluster."""
    levels: list[list[Cluster]]
    assignment: list[np.ndarray]

    def cluster(self, cluster_id: str) -> Cluster:
        level = cluster_id.count(".")
        for c in self.levels[level] if level < len(self.levels) else []:
            if c.id == cluster_id:
                return c
        raise KeyError(cluster_id)

    def children(self, cluster_id: str) -> list[Cluster]:
        level = cluster_id.count(".") + 1
        return [c for c in self.levels[level] if c.parent == cluster_id] if level < len(self.levels) else []


def normalised(vectors: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def kmeans(vectors: np.ndarray, k: int, cfg: HierarchyConfig, redo: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(centroids (k, d) unit, assignment (n,)) of spherical k-means; empty clusters dropped."""
    km = faiss.Kmeans(vectors.shape[1], k, niter=cfg.niter, nredo=redo, seed=cfg.seed, spherical=True,
                      max_points_per_centroid=cfg.sample_per_centroid, min_points_per_centroid=1, verbose=False)
    km.train(vectors)
    _, nearest = km.index.search(vectors, 1)
    assignment = nearest[:, 0]
    used = np.unique(assignment)
    remap = np.full(k, -1, np.int64)
    remap[used] = np.arange(len(used))
    return km.centroids[used], remap[assignment]


def _centroid(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def _representatives(vectors: np.ndarray, rows: np.ndarray, centroid: np.ndarray, k: int) -> list[int]:
    sims = vectors[rows] @ centroid
    return rows[np.argsort(-sims, kind="stable")[:k]].tolist()


def split(vectors: np.ndarray, parent: Cluster, branching: int, cfg: HierarchyConfig) -> list[Cluster]:
    """The children of one cluster (itself, carried down, when too small to split)."""
    k = min(branching, parent.size // cfg.min_size)
    level = parent.level + 1
    if k < 2:
        return [Cluster(f"{parent.id}.1", level, parent.id, parent.rows, parent.centroid)]
    centroids, assignment = kmeans(vectors[parent.rows], k, cfg, cfg.redo if level == 1 else 1)
    order = np.argsort(-np.bincount(assignment), kind="stable")  # biggest child first: ids read by size
    return [Cluster(f"{parent.id}.{i + 1}", level, parent.id, parent.rows[assignment == c], centroids[c])
            for i, c in enumerate(order)]


def build(vectors: np.ndarray, cfg: HierarchyConfig | None = None) -> Hierarchy:
    """The hierarchy of one space's vectors (rows of the corpus), labels still empty."""
    cfg = cfg or HierarchyConfig()
    x = normalised(vectors)
    n = len(x)
    if n == 0:
        return Hierarchy([[] for _ in cfg.branching], [np.zeros(0, np.int64) for _ in cfg.branching])
    root = Cluster("", 0, None, np.arange(n), _centroid(x))
    levels, parents = [], [root]
    for branching in cfg.branching:
        children = [c for p in parents for c in split(x, p, branching, cfg)]
        for c in children:
            if c.parent == "":
                c.id, c.parent = c.id.lstrip("."), None
            c.representatives = _representatives(x, c.rows, c.centroid, cfg.representatives)
        levels.append(children)
        parents = children
    assignment = []
    for clusters in levels:
        a = np.empty(n, np.int64)
        for i, c in enumerate(clusters):
            a[c.rows] = i
        assignment.append(a)
    return Hierarchy(levels, assignment)


def nearest_cluster(hierarchy: Hierarchy, level: int, vector: np.ndarray) -> Cluster | None:
    """The cluster of a level (1-based) whose centroid is nearest a new point (an idea)."""
    clusters = hierarchy.levels[level - 1] if level <= len(hierarchy.levels) else []
    if not clusters:
        return None
    centroids = np.stack([c.centroid for c in clusters])
    return clusters[int(np.argmax(centroids @ normalised(np.atleast_2d(vector))[0]))]
