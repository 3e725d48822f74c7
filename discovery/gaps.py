"""The gap map: which problem families have been attacked with which method families, and which
well-populated combinations nobody has tried.

Cell (i, j) counts the papers whose problem vector falls in problem cluster i and whose method
vector falls in method cluster j (one level of each hierarchy, discovery.hierarchy). An empty
cell alone means little: most methods never meet most problems. A cell is *under-explored*
when the method transfers to related problems, the product's problem -> method transitions
(discovery.transitions) at the level of families:

    expected(i, j) = size(i) * share of method j among the papers of problem i's nearest
                     problem families (by centroid cosine, weighted by that cosine)
    score(i, j)    = (expected - observed) / sqrt(expected)   (a Pearson residual, deficit side)

kept when both families are well populated, the expectation is at least `min_expected` papers,
and the cell holds at most `max_observed_ratio` of it. The papers nearest a combination are those
whose problem vector is near i's centroid and whose method vector is near j's (the sum of both
cosines): what exists closest to the missing cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GapConfig:
    neighbours: int = 3  # related problem families a method must be used on to "transfer"
    min_family: int = 10  # papers a problem or method family needs to be called well populated
    min_expected: float = 3.0  # a cell expected to hold fewer papers is no evidence of a gap
    max_observed_ratio: float = 0.1  # "few or none": at most a tenth of the expectation observed (at
    # 0.25 the 49k level-1 list opened with 200 papers against 1,098 expected)
    top: int = 20  # under-explored cells kept, best first
    nearest: int = 5  # papers listed per under-explored cell
    year_bins: int = 5  # periods of the cell histories


@dataclass
class Gap:
    problem: int  # index into the problem level's clusters
    method: int
    observed: int
    expected: float
    score: float
    nearest: list[int]  # rows of the corpus, nearest the combination first


def cell_counts(problem: np.ndarray, method: np.ndarray, n_problem: int, n_method: int) -> np.ndarray:
    """(n_problem, n_method) papers per combination, from each paper's cluster in both."""
    counts = np.zeros((n_problem, n_method), np.int64)
    np.add.at(counts, (problem, method), 1)
    return counts


def year_edges(years: np.ndarray, bins: int) -> np.ndarray:
    """Period boundaries over the known years (0 = unknown): equal-count periods, so that a
    corpus that grows every year does not put most papers in the last period."""
    known = years[years > 0]
    if not len(known):
        return np.zeros(0, np.int64)
    edges = np.unique(np.quantile(known, np.linspace(0, 1, bins + 1), method="lower").astype(np.int64))
    return edges[1:-1] if len(edges) > 2 else np.zeros(0, np.int64)


def cell_history(problem: np.ndarray, method: np.ndarray, years: np.ndarray, edges: np.ndarray,
                 n_problem: int, n_method: int) -> np.ndarray:
    """(n_problem, n_method, periods) papers per combination and period; unknown years skipped.
    Period p holds the years y with edges[p-1] <= y < edges[p]."""
    periods = len(edges) + 1
    history = np.zeros((n_problem, n_method, periods), np.int64)
    known = years > 0
    np.add.at(history, (problem[known], method[known], np.searchsorted(edges, years[known], side="right")), 1)
    return history


def transfer_expectation(counts: np.ndarray, problem_centroids: np.ndarray, neighbours: int) -> np.ndarray:
    """expected(i, j): what problem family i would hold of method j if it used methods the way
    its most similar problem families do (see the module doc)."""
    n = len(counts)
    if n < 2:
        return np.zeros_like(counts, dtype=np.float64)
    sims = problem_centroids @ problem_centroids.T
    np.fill_diagonal(sims, -np.inf)
    k = min(neighbours, n - 1)
    near = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    weights = np.clip(np.take_along_axis(sims, near, axis=1), 0.0, None)  # unrelated families weigh 0
    sizes = counts.sum(axis=1).astype(np.float64)
    pooled = np.einsum("ik,ikj->ij", weights, counts[near].astype(np.float64))
    pooled_size = (weights * sizes[near]).sum(axis=1)
    share = pooled / np.maximum(pooled_size, 1e-9)[:, None]
    return sizes[:, None] * share


def nearest_papers(problem_vectors: np.ndarray, method_vectors: np.ndarray, problem_centroid: np.ndarray,
                   method_centroid: np.ndarray, k: int) -> list[int]:
    """Rows of the papers nearest the combination: the sum of their cosines with both centroids."""
    score = problem_vectors @ problem_centroid + method_vectors @ method_centroid
    k = min(k, len(score))
    top = np.argpartition(-score, k - 1)[:k] if k else np.zeros(0, np.int64)
    return top[np.argsort(-score[top], kind="stable")].tolist()


def under_explored(counts: np.ndarray, expected: np.ndarray, cfg: GapConfig) -> list[tuple[int, int, float]]:
    """(problem, method, score) of the cells that qualify, best first."""
    rows, cols = counts.sum(axis=1), counts.sum(axis=0)
    score = (expected - counts) / np.sqrt(np.maximum(expected, 1e-9))
    ok = ((rows[:, None] >= cfg.min_family) & (cols[None, :] >= cfg.min_family)
          & (expected >= cfg.min_expected) & (counts <= cfg.max_observed_ratio * expected))
    cells = np.argwhere(ok)
    order = np.argsort(-score[ok], kind="stable")[: cfg.top]
    return [(int(cells[o][0]), int(cells[o][1]), float(score[ok][o])) for o in order]


def gaps(counts: np.ndarray, problem_centroids: np.ndarray, method_centroids: np.ndarray,
         problem_vectors: np.ndarray, method_vectors: np.ndarray, cfg: GapConfig | None = None
         ) -> tuple[np.ndarray, list[Gap]]:
    """(expected counts, the ranked under-explored cells with their nearest papers)."""
    cfg = cfg or GapConfig()
    expected = transfer_expectation(counts, problem_centroids, cfg.neighbours)
    found = []
    for i, j, score in under_explored(counts, expected, cfg):
        near = nearest_papers(problem_vectors, method_vectors, problem_centroids[i], method_centroids[j], cfg.nearest)
        found.append(Gap(i, j, int(counts[i, j]), float(expected[i, j]), score, near))
    return expected, found
