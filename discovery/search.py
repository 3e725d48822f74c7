"""Search over the ideation space (Navigating Ideation Space): lexical (BM25) and dense retrieval,
fused with reciprocal-rank fusion (Cormack, Clarke & Buettcher 2009, "Reciprocal Rank Fusion
outperforms Condorcet and individual Rank Learning Methods").

Aspect-conditioned search is hierarchical sub-space retrieval: a broad candidate set from the
whole-paper space, re-ranked exactly in the chosen aspect's sub-space. `strategy="direct"`
searches the aspect's own index instead; `discovery.bench.search` compares both with exhaustive scoring.

Why RRF and not a linear mix: BM25 scores are unbounded and their scale changes with every query
(number and rarity of its terms), while cosines sit in a narrow band; a linear mix needs a per-query
normalisation that one outlier distorts. RRF uses ranks only, needs no calibration, and the
similarities themselves are still returned for display.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from discovery import ASPECTS, SPACES
from discovery.index import IndexSet

VIEWS = ("all",) + ASPECTS

# (similarities of the candidates in every space, chosen view) -> dense score per candidate.
# aspects.py can pass its tuned combination of whole-paper and aspect similarity here.
ScoreFn = Callable[[dict[str, np.ndarray], str], np.ndarray]


def aspect_score(sims: dict[str, np.ndarray], view: str) -> np.ndarray:
    """Default dense score: the chosen aspect's cosine; "all" is the whole-paper cosine."""
    return sims["paper" if view == "all" else view]


@dataclass
class SearchConfig:
    broad_k: int = 1000  # candidates scored exactly (2% of 49k); recall printed by discovery.bench.search
    dense_k: int = 200  # dense candidates that enter fusion
    lexical_k: int = 200  # BM25 candidates that enter fusion
    rrf_k: int = 60  # RRF's constant, the value Cormack et al. found robust
    lexical_weight: float = 1.0  # weight of the BM25 rank in RRF (dense rank weighs 1)
    strategy: str = "hierarchical"  # broad set from the whole-paper space; "direct": from the aspect's
    score_fn: ScoreFn = aspect_score


@dataclass
class Hit:
    id: int
    score: float  # fused RRF score (dense only: the dense score)
    sims: dict[str, float]  # cosine with the query in every space: paper, problem, method, findings
    lexical: float  # BM25 score, 0 when no query term matches
    matched: str  # the aspect that matched best (the chosen one when searching an aspect)


@dataclass
class SearchResult:
    hits: list[Hit]
    total_candidates: int  # distinct papers that entered the final ranking
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage


def filter_mask(index_set: IndexSet, *, year_min: int | None = None, year_max: int | None = None,
                venue: str | list[str] | None = None) -> np.ndarray | None:
    """Bool mask aligned with `index_set.ids`, or None when nothing is filtered."""
    meta = index_set.meta
    mask = None
    if year_min is not None:
        mask = meta.year >= year_min
    if year_max is not None:
        upper = meta.year <= year_max
        mask = upper if mask is None else mask & upper
    if venue is not None:
        names = [venue] if isinstance(venue, str) else list(venue)
        codes = [i for i, v in enumerate(meta.venues) if v in names]
        in_venue = np.isin(meta.venue, codes)
        mask = in_venue if mask is None else mask & in_venue
    return mask


class SpaceSims(dict):
    """Exact cosine of each candidate with the query, per space (vectors are L2-normalised),
    computed on first access: a score function that reads one aspect pays for one."""

    def __init__(self, index_set: IndexSet, ids: np.ndarray, query_vectors: dict[str, np.ndarray]):
        super().__init__()
        self.index_set, self.ids, self.query_vectors = index_set, ids, query_vectors

    def __missing__(self, space: str) -> np.ndarray:
        # einsum, not BLAS: a multi-threaded sgemv on a busy machine took 5 ms for 3000 rows
        self[space] = np.einsum("ij,j->i", self.index_set.reconstruct(space, self.ids), self.query_vectors[space])
        return self[space]

    def all(self) -> dict[str, np.ndarray]:
        return {s: self[s] for s in SPACES}


def space_sims(index_set: IndexSet, ids: np.ndarray, query_vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cosine of each candidate with the query in every space."""
    return SpaceSims(index_set, ids, query_vectors).all()


def _valid(ids: np.ndarray) -> np.ndarray:
    return ids[ids >= 0]


def dense_candidates(index_set: IndexSet, query_vectors: dict[str, np.ndarray], view: str,
                     k: int, mask: np.ndarray | None, cfg: SearchConfig) -> np.ndarray:
    """Ids of the k best dense candidates for the view by `cfg.score_fn`, best first: `broad_k`
    candidates from the whole-paper space (hierarchical) or from the aspect's own space (direct),
    scored exactly."""
    space = view if cfg.strategy == "direct" and view != "all" else "paper"
    _, broad = index_set.search(space, query_vectors[space], max(cfg.broad_k, k), allowed_ids_mask=mask)
    broad = _valid(broad[0])
    scores = cfg.score_fn(SpaceSims(index_set, broad, query_vectors), view)
    return broad[np.argsort(-scores, kind="stable")[:k]]


def rrf(ranks: list[np.ndarray], weights: list[float], k: int) -> np.ndarray:
    """Sum of w / (k + rank) over rankings; rank is 1-based, 0 means absent from that ranking."""
    total = np.zeros(len(ranks[0]))
    for r, w in zip(ranks, weights):
        total += np.where(r > 0, w / (k + r), 0.0)
    return total


def rank_of(scores: np.ndarray, present: np.ndarray) -> np.ndarray:
    """1-based rank by descending score among present items, 0 for absent ones."""
    order = np.argsort(-np.where(present, scores, -np.inf), kind="stable")
    ranks = np.empty(len(scores), np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return np.where(present, ranks, 0)


def _query_vectors(query_vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every space gets a vector: an aspect the caller left out uses the whole-query vector."""
    q = {s: np.asarray(v, np.float32).ravel() for s, v in query_vectors.items()}
    return {s: q.get(s, q["paper"]) for s in SPACES}


def search(index_set: IndexSet, *, query_text: str | None = None,
           query_vectors: dict[str, np.ndarray], aspect: str = "all", k: int = 20, offset: int = 0,
           year_min: int | None = None, year_max: int | None = None, venue: str | list[str] | None = None,
           exclude_ids=(), cfg: SearchConfig | None = None) -> SearchResult:
    """Fused lexical + dense search. `query_vectors` maps spaces to the query's vectors (at least
    "paper"); without `query_text` the search is dense only."""
    if aspect not in VIEWS:
        raise ValueError(f"aspect must be one of {VIEWS}, not {aspect!r}")
    cfg = cfg or SearchConfig()
    t0 = time.perf_counter()
    index_set.maybe_reload()
    q = _query_vectors(query_vectors)
    want = k + offset + len(exclude_ids)
    mask = filter_mask(index_set, year_min=year_min, year_max=year_max, venue=venue)
    t1 = time.perf_counter()
    dense = dense_candidates(index_set, q, aspect, max(cfg.dense_k, want), mask, cfg)
    t2 = time.perf_counter()
    lex_ids, lex_all = np.zeros(0, np.int64), None
    if query_text:
        lex_mask = _lexical_mask(index_set, mask)
        lex_all = index_set.lexical.scores(query_text)
        _, lex_ids = index_set.lexical.top(query_text, max(cfg.lexical_k, want), lex_mask, scores=lex_all)
    t3 = time.perf_counter()
    ids = np.union1d(dense, lex_ids)
    ids = ids[~np.isin(ids, np.asarray(exclude_ids, np.int64))]
    sims = SpaceSims(index_set, ids, q)
    dense_score = cfg.score_fn(sims, aspect)
    lex = _lookup(index_set, lex_all, ids)
    if query_text:
        ranks = [rank_of(dense_score, np.ones(len(ids), bool)), rank_of(lex, lex > 0)]
        fused = rrf(ranks, [1.0, cfg.lexical_weight], cfg.rrf_k)
    else:
        fused = dense_score
    order = np.argsort(-fused, kind="stable")[offset:offset + k]
    shown = space_sims(index_set, ids[order], q)  # every space's cosine, for the hits alone
    hits = [_hit(ids[i], fused[i], shown, j, lex[i], aspect) for j, i in enumerate(order)]
    t4 = time.perf_counter()
    ms = lambda a, b: round((b - a) * 1000, 3)  # noqa: E731
    timings = {"filter": ms(t0, t1), "dense": ms(t1, t2), "lexical": ms(t2, t3), "fuse": ms(t3, t4),
               "total": ms(t0, t4)}
    return SearchResult(hits=hits, total_candidates=len(ids), timings=timings)


def _lexical_mask(index_set: IndexSet, mask: np.ndarray | None) -> np.ndarray | None:
    """The filter mask re-aligned to the BM25 rows (the same sorted ids unless a paper has
    vectors but no text)."""
    if mask is None:
        return None
    lexical, meta = index_set.lexical, index_set.meta
    if np.array_equal(lexical.ids, meta.ids):
        return mask
    rows = meta.rows(lexical.ids)
    return np.where(rows >= 0, mask[rows.clip(0)], False)


def _lookup(index_set: IndexSet, lex_all: np.ndarray | None, ids: np.ndarray) -> np.ndarray:
    if lex_all is None:
        return np.zeros(len(ids), np.float32)
    rows = index_set.lexical.rows(ids)
    return np.where(rows >= 0, lex_all[rows.clip(0)], 0.0)


def _hit(pid, score, sims, i, lexical, view) -> Hit:
    per_space = {s: float(v[i]) for s, v in sims.items()}
    matched = view if view != "all" else max(ASPECTS, key=per_space.__getitem__)
    return Hit(id=int(pid), score=float(score), sims=per_space, lexical=float(lexical), matched=matched)


def more_like(index_set: IndexSet, *, paper_id: int | None = None,
              query_vectors: dict[str, np.ndarray] | None = None, aspect: str = "all", k: int = 20,
              **filters) -> SearchResult:
    """"More like this, by aspect": neighbours of a corpus paper (its stored vectors, itself
    left out) or of user text (its vectors from aspects.py), dense only."""
    if (paper_id is None) == (query_vectors is None):
        raise ValueError("give exactly one of paper_id or query_vectors")
    exclude = ()
    if paper_id is not None:
        ids = np.asarray([paper_id], np.int64)
        if index_set.meta.rows(ids)[0] < 0:
            raise KeyError(f"paper {paper_id} is not in the index")
        query_vectors = {s: index_set.reconstruct(s, ids)[0] for s in SPACES}
        exclude = (paper_id,)
    return search(index_set, query_vectors=query_vectors, aspect=aspect, k=k, exclude_ids=exclude, **filters)
