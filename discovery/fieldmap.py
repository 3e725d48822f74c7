"""A map of the field from one index version: a labelled hierarchy of clusters per space (the
whole paper, problem, method, findings; discovery.hierarchy, discovery.labels) and the problem x
method gap map at every level (discovery.gaps).

    build(ids, vectors, years, texts) -> FieldMap
    FieldMap.to_json() -> clusters (id, label, size, parent, representative ids, year counts,
                          trend, position on the 2-D map) and gap levels; what pages and API read
    FieldMap.arrays()  -> per-paper assignments and centroids (numpy), to place new points

Labels come from each space's own text: the whole paper's title and abstract, or the sentences
the segmenter gave that aspect. A cluster's position is the median of its papers' positions on
the ideation map's PCA projection (discovery.projection), so labels sit on their points there.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np

from discovery import SPACES, gaps, hierarchy, labels, projection
from discovery.hierarchy import Hierarchy, HierarchyConfig

FORMAT = 1  # bump when to_json / arrays change shape


@dataclass
class FieldMapConfig:
    hierarchy: HierarchyConfig = field(default_factory=HierarchyConfig)
    labels: labels.LabelConfig = field(default_factory=labels.LabelConfig)
    gaps: gaps.GapConfig = field(default_factory=gaps.GapConfig)
    recent_years: int = 3  # "growing": a larger share of the cluster than of the corpus in these
    trend_ratio: float = 1.25  # recent share this many times the corpus's (or its inverse) = growing (fading)


@dataclass
class FieldMap:
    ids: np.ndarray  # int64 paper ids, the rows of every array
    years: np.ndarray  # 0 = unknown
    hierarchies: dict[str, Hierarchy]
    positions: dict[str, np.ndarray]  # (n, 2) grid coordinates per space
    gap_levels: list[dict]  # per level, see _gap_level
    timings: dict[str, float]
    cfg: FieldMapConfig

    def to_json(self) -> dict:
        return {"format": FORMAT, "papers": int(len(self.ids)), "timings": self.timings,
                "spaces": {s: self._space_json(s) for s in self.hierarchies}, "gaps": self.gap_levels}

    def _space_json(self, space: str) -> dict:
        h, xy = self.hierarchies[space], self.positions[space]
        recent = _recent_share(self.years, self.cfg.recent_years)
        return {"levels": len(h.levels), "clusters": [
            _cluster_json(c, self.ids, self.years, xy, recent, self.cfg) for level in h.levels for c in level]}

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"ids": self.ids}
        for s, h in self.hierarchies.items():
            for level, (clusters, assignment) in enumerate(zip(h.levels, h.assignment), start=1):
                out[f"{s}.assign{level}"] = assignment.astype(np.int32)
                out[f"{s}.centroids{level}"] = np.stack([c.centroid for c in clusters]).astype(np.float16) \
                    if clusters else np.zeros((0, 0), np.float16)
        return out

    def arrays_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.arrays())
        return buffer.getvalue()


def load_arrays(data: bytes) -> dict[str, np.ndarray]:
    if not data:
        return {}
    with np.load(io.BytesIO(data)) as z:
        return {k: z[k] for k in z.files}


def _recent_share(years: np.ndarray, recent_years: int) -> tuple[int, float]:
    """(first recent year, share of the corpus's dated papers from then on)."""
    known = years[years > 0]
    if not len(known):
        return 0, 0.0
    since = int(known.max()) - recent_years + 1
    return since, float((known >= since).mean())


def _trend(years: np.ndarray, recent: tuple[int, float], cfg: FieldMapConfig) -> str:
    since, corpus_share = recent
    known = years[years > 0]
    if len(known) < 5 or corpus_share in (0.0, 1.0):
        return "steady"
    ratio = float((known >= since).mean()) / corpus_share
    return "growing" if ratio >= cfg.trend_ratio else "fading" if ratio <= 1 / cfg.trend_ratio else "steady"


def _cluster_json(c: hierarchy.Cluster, ids, years, xy, recent, cfg: FieldMapConfig) -> dict:
    ys = years[c.rows]
    found, counts = np.unique(ys[ys > 0], return_counts=True)
    x, y = (np.median(xy[c.rows], axis=0) if c.size else (0, 0))
    return {"id": c.id, "level": c.level, "parent": c.parent, "label": c.label, "size": c.size,
            "representatives": ids[c.representatives].tolist(),
            "years": {str(int(a)): int(b) for a, b in zip(found, counts)}, "trend": _trend(ys, recent, cfg),
            "x": int(x), "y": int(y)}


def label_hierarchy(h: Hierarchy, texts: list[str], cfg: labels.LabelConfig) -> None:
    """c-TF-IDF labels level by level; a child avoids repeating its parent's terms."""
    terms = labels.term_matrix(texts, cfg)
    by_id: dict[str, hierarchy.Cluster] = {}
    for clusters, assignment in zip(h.levels, h.assignment):
        avoid = [set(by_id[c.parent].label) if c.parent in by_id else set() for c in clusters]
        for c, label in zip(clusters, labels.label_clusters(terms, assignment, len(clusters), avoid, cfg)):
            carried = c.parent in by_id and by_id[c.parent].size == c.size
            c.label = by_id[c.parent].label if carried else label
            by_id[c.id] = c


def _gap_level(level: int, h_problem: Hierarchy, h_method: Hierarchy, vectors: dict[str, np.ndarray],
               ids: np.ndarray, years: np.ndarray, cfg: gaps.GapConfig) -> dict:
    problems, methods = h_problem.levels[level - 1], h_method.levels[level - 1]
    p, m = h_problem.assignment[level - 1], h_method.assignment[level - 1]
    counts = gaps.cell_counts(p, m, len(problems), len(methods))
    edges = gaps.year_edges(years, cfg.year_bins)
    history = gaps.cell_history(p, m, years, edges, len(problems), len(methods))
    pc = np.stack([c.centroid for c in problems])
    mc = np.stack([c.centroid for c in methods])
    expected, found = gaps.gaps(counts, pc, mc, hierarchy.normalised(vectors["problem"]),
                                hierarchy.normalised(vectors["method"]), cfg)
    cells = [[int(i), int(j), int(counts[i, j]), round(float(expected[i, j]), 1), history[i, j].tolist()]
             for i, j in np.argwhere((counts > 0) | (expected >= cfg.min_expected))]
    return {"level": level, "problem": [c.id for c in problems], "method": [c.id for c in methods],
            "periods": _period_names(edges, years), "cells": cells,
            "under_explored": [{"problem": problems[g.problem].id, "method": methods[g.method].id,
                                "observed": g.observed, "expected": round(g.expected, 1), "score": round(g.score, 2),
                                "nearest": ids[g.nearest].tolist()} for g in found]}


def _period_names(edges: np.ndarray, years: np.ndarray) -> list[str]:
    known = years[years > 0]
    if not len(known):
        return ["all years"]
    bounds = [int(known.min())] + edges.tolist() + [int(known.max()) + 1]
    return [f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in zip(bounds, bounds[1:])]


def build(ids, vectors: dict[str, np.ndarray], years, texts: dict[str, list[str]],
          cfg: FieldMapConfig | None = None) -> FieldMap:
    """The whole field map. `vectors[space]` and `texts[space]` hold one row per id; the gap map
    needs the problem and method spaces."""
    cfg = cfg or FieldMapConfig()
    ids = np.asarray(ids, np.int64)
    years = np.asarray(years if years is not None else np.zeros(len(ids)), np.int64)
    timings, hierarchies, positions = {}, {}, {}
    for space in (s for s in SPACES if s in vectors):
        start = time.perf_counter()
        h = hierarchy.build(vectors[space], cfg.hierarchy)
        label_hierarchy(h, texts[space], cfg.labels)
        hierarchies[space], positions[space] = h, projection.project(vectors[space])
        timings[space] = round(time.perf_counter() - start, 3)
    start = time.perf_counter()
    levels = []
    if "problem" in hierarchies and "method" in hierarchies and len(ids):
        levels = [_gap_level(level, hierarchies["problem"], hierarchies["method"], vectors, ids, years, cfg.gaps)
                  for level in range(1, len(cfg.hierarchy.branching) + 1)]
    timings["gaps"] = round(time.perf_counter() - start, 3)
    return FieldMap(ids, years, hierarchies, positions, levels, timings, cfg)
