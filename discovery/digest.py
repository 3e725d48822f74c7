"""Digests: the new papers that matter to one reader, ranked per aspect against their library.

After arxiv-sanity-lite (Karpathy): every tag (here a collection) gets a linear classifier of its
papers against the rest of the corpus, refit at each digest, and new papers are ranked by its
decision value. Here it is fitted in each space of the ideation space (Navigating Ideation Space:
problem, method, findings), so a pick can say *why*: "same problem as your collection X". The
classifier is the class-balanced ridge (least-squares) classifier, Fisher's discriminant up to
scale, because it has a closed form: the negatives, a random sample of the corpus shared by every
reader, are factored once per space, and each collection only adds a rank-m update (Woodbury),
so 3,000 classifiers cost a few 50 x 385 products instead of 3,000 solves. A collection of fewer
than `nn_below` papers is too small to fit; it ranks by its nearest saved paper instead.

Saved ideas rank new papers two ways: a new method for the idea's problem, by the inspiration
signals of discovery.inspiration (MIR: whole-text and problem similarity, and the learned
problem -> method transition), and findings that bear on the idea's expected findings.

Every list is gated by an absolute bar, the corpus's own nearest-neighbour similarity at
`floor_quantile` (discovery.novelty's calibration): a pick is at least as close to what it is
"like" as a typical corpus paper is to its nearest neighbour. The lists are then merged round
robin, each paper once, so every collection and idea gets its say.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from discovery import ASPECTS
from discovery.inspiration import InspirationConfig, relevance, signals

COLLECTION_REASONS = {"problem": "same problem", "method": "same kind of method", "findings": "related findings"}
IDEA_ASPECTS = ("method", "findings")  # a new method for the idea's problem; findings bearing on it


@dataclass
class DigestConfig:
    max_items: int = 20  # picks per digest
    negatives: int = 2000  # random corpus papers standing for "the rest" (arxiv-sanity samples all)
    ridge: float = 0.05  # L2 weight of the classifier, on the class-balanced scale of A
    nn_below: int = 5  # collections with fewer papers rank by nearest neighbour, not a classifier
    shortlist: int = 40  # classifier's best papers per list whose nearest saved paper is looked up
    floor_quantile: float = 0.5  # the gate: median corpus nearest-neighbour similarity per space
    seed: int = 0


@dataclass
class Collection:
    key: object  # the caller's id of the collection
    name: str
    ids: np.ndarray  # its papers' corpus ids (those in the index)
    vectors: dict[str, np.ndarray]  # aspect -> (m, d) unit vectors of those papers


@dataclass
class IdeaSource:
    key: object
    name: str
    vectors: dict[str, np.ndarray]  # space -> (d,) unit vector (discovery.novelty.idea_vectors)
    has_findings: bool = True


@dataclass
class NewPapers:
    """The window's new papers: ids and (n, d) unit vectors per space."""
    ids: np.ndarray
    vectors: dict[str, np.ndarray]


@dataclass
class Pick:
    paper_id: int
    source: str  # "collection" or "idea"
    key: object
    name: str
    aspect: str
    score: float  # the list's ranking score (classifier decision value, cosine or relevance)
    similarity: float  # cosine with what it is close to (nearest saved paper, or the idea)
    nearest_id: int | None = None  # the saved paper it is closest to (collections)


@dataclass
class Negatives:
    """The shared negatives, factored once per space: M = A0^-1 (float32: A0's condition number
    is at most (1 + ridge) / ridge), r0, and M r0 (module doc)."""
    inverse: dict[str, np.ndarray]
    rhs: dict[str, np.ndarray]
    base: dict[str, np.ndarray]  # M r0: the weights of a collection with no papers

    @classmethod
    def fit(cls, vectors: dict[str, np.ndarray], cfg: DigestConfig) -> Negatives:
        inverse, rhs, base = {}, {}, {}
        for space, x in vectors.items():
            xa = _augment(x).astype(np.float64)
            a0 = xa.T @ xa / len(xa) + cfg.ridge * np.eye(xa.shape[1])
            m = np.linalg.inv(a0)
            rhs[space] = -xa.mean(axis=0)  # negatives' target -1, weight 1/N each
            inverse[space], base[space] = m.astype(np.float32), m @ rhs[space]
        return cls(inverse, rhs, base)


@dataclass
class Gate:
    floors: dict[str, float] = field(default_factory=dict)  # space -> least similarity

    @classmethod
    def from_calibration(cls, nn: dict[str, np.ndarray], cfg: DigestConfig) -> Gate:
        return cls({s: float(np.quantile(v, cfg.floor_quantile)) for s, v in nn.items() if len(v)})

    def floor(self, space: str) -> float:
        return self.floors.get(space, -1.0)


def _augment(x: np.ndarray) -> np.ndarray:
    """A constant feature: the classifier's bias."""
    return np.hstack([x, np.ones((len(x), 1), x.dtype)]).astype(np.float32)


def classifier_weights(positives: np.ndarray, negatives: Negatives, space: str,
                       pm: np.ndarray | None = None) -> np.ndarray:
    """w of the class-balanced ridge classifier, positives P (target +1, weight 1/m each) against
    the shared negatives: w = (A0 + U U^T)^-1 (r0 + mean(P)), U = P^T / sqrt(m), by Woodbury:
    with Z = P M / sqrt(m), w = M r0 + Z^T 1 / sqrt(m) - Z^T (I + Z U)^-1 Z r. `pm` is P M when
    the caller computed it in one product for many collections (collection_weights)."""
    p = _augment(positives)
    root = np.sqrt(len(p))
    z = ((p @ negatives.inverse[space]) if pm is None else pm).astype(np.float64) / root
    r = negatives.rhs[space] + p.mean(axis=0)
    small = np.eye(len(p)) + z @ (p.T / root)
    return negatives.base[space] + z.sum(axis=0) / root - z.T @ np.linalg.solve(small, z @ r)


def collection_weights(collections: list[Collection], negatives: Negatives,
                       cfg: DigestConfig) -> dict[tuple, np.ndarray]:
    """Every classifier of many readers' collections, (key, aspect) -> w: P M of all of them in
    one matrix product per space (a 50,000 x 385 product runs near the BLAS peak; 2,000 small ones
    did not), then each collection's small Woodbury solve."""
    fitted = [c for c in collections if len(c.ids) >= cfg.nn_below]
    weights = {}
    for aspect in ASPECTS:
        if not fitted:
            break
        pm = _augment(np.vstack([c.vectors[aspect] for c in fitted])) @ negatives.inverse[aspect]
        start = 0
        for c in fitted:
            m = len(c.vectors[aspect])
            weights[(c.key, aspect)] = classifier_weights(c.vectors[aspect], negatives, aspect, pm[start:start + m])
            start += m
    return weights


def sample_negatives(ids: np.ndarray, cfg: DigestConfig) -> np.ndarray:
    rng = np.random.default_rng(cfg.seed)
    return np.sort(rng.choice(ids, min(cfg.negatives, len(ids)), replace=False)) if len(ids) else ids


def _collection_list(c: Collection, aspect: str, new: NewPapers, allowed: np.ndarray, negatives: Negatives,
                     gate: Gate, cfg: DigestConfig, w: np.ndarray | None = None) -> list[Pick]:
    """One collection's ranked picks in one aspect space: the classifier's shortlist (or every
    allowed paper for a small collection), kept when its nearest saved paper is past the gate."""
    saved, x = c.vectors[aspect], new.vectors[aspect]
    if len(saved) >= cfg.nn_below:
        w = classifier_weights(saved, negatives, aspect) if w is None else w
        score = x @ w[:-1].astype(x.dtype) + w[-1]
        score = np.where(allowed, score, -np.inf)
        rows = np.argsort(-score, kind="stable")[:cfg.shortlist]
        rows = rows[score[rows] > 0]  # the classifier's own boundary: more like the collection
    else:
        rows = np.flatnonzero(allowed)
        score = None
    if not len(rows):
        return []
    sims = x[rows] @ saved.T  # (r, m)
    best = sims.argmax(axis=1)
    nearest_sim = sims[np.arange(len(rows)), best]
    if score is None:
        score = np.full(len(x), -np.inf)
        score[rows] = nearest_sim
    keep = (nearest_sim >= gate.floor(aspect)) & ~np.isin(new.ids[rows], c.ids)
    picks = [Pick(int(new.ids[r]), "collection", c.key, c.name, aspect, float(score[r]), float(s), int(c.ids[b]))
             for r, s, b, k in zip(rows, nearest_sim, best, keep) if k]
    return sorted(picks, key=lambda p: -p.score)


def _idea_lists(idea: IdeaSource, new: NewPapers, allowed: np.ndarray, gate: Gate,
                transition) -> dict[str, list[Pick]]:
    """A new method for the idea's problem: papers whose problem is the idea's, or whose method
    is where the transition maps it, ranked by the inspiration relevance over the window's papers.
    Findings: papers whose findings are close to the idea's expected ones."""
    q = {"paper": idea.vectors["paper"], "problem": idea.vectors["problem"]}
    rows = np.flatnonzero(allowed)
    if not len(rows):
        return {}
    every = len(rows) == len(new.ids)  # the usual case: no copy of the window's vectors
    vec = {s: new.vectors[s] if every else new.vectors[s][rows] for s in ("paper", "problem", "method", "findings")}
    # BM25 is left out (zeros z-score to 0): the window's papers have no lexical index of their own
    sig = signals(q, vec, np.zeros(len(rows)), transition)
    rel = relevance(sig, InspirationConfig())
    method_ok = (sig["problem"] >= gate.floor("problem")) | (sig["transition"] >= gate.floor("method"))
    out = {"method": sorted((Pick(int(new.ids[r]), "idea", idea.key, idea.name, "method", float(rel[i]),
                                  float(sig["problem"][i])) for i, r in enumerate(rows) if method_ok[i]),
                            key=lambda p: -p.score)}
    if idea.has_findings:
        f = vec["findings"] @ idea.vectors["findings"]
        out["findings"] = sorted((Pick(int(new.ids[r]), "idea", idea.key, idea.name, "findings", float(f[i]),
                                       float(f[i])) for i, r in enumerate(rows) if f[i] >= gate.floor("findings")),
                                 key=lambda p: -p.score)
    return out


def merge(lists: list[list[Pick]], k: int) -> list[Pick]:
    """Round robin over the lists, best first within each, every paper once."""
    picked, seen = [], set()
    cursors = [0] * len(lists)
    while len(picked) < k:
        moved = False
        for i, lst in enumerate(lists):
            while cursors[i] < len(lst) and lst[cursors[i]].paper_id in seen:
                cursors[i] += 1
            if cursors[i] < len(lst) and len(picked) < k:
                pick = lst[cursors[i]]
                picked.append(pick)
                seen.add(pick.paper_id)
                cursors[i] += 1
                moved = True
        if not moved:
            break
    return picked


def rank(new: NewPapers, *, collections: list[Collection], ideas: list[IdeaSource], negatives: Negatives,
         gate: Gate, transition, allowed: np.ndarray | None = None, weights: dict | None = None,
         cfg: DigestConfig | None = None) -> list[Pick]:
    """One reader's digest: ideas' lists first (the most specific), then each collection's per
    aspect. `allowed` masks the papers of this reader's window; `weights` are the collections'
    classifiers from collection_weights (else fitted here)."""
    cfg = cfg or DigestConfig()
    allowed = np.ones(len(new.ids), bool) if allowed is None else allowed
    lists: list[list[Pick]] = []
    for idea in ideas:
        found = _idea_lists(idea, new, allowed, gate, transition)
        lists += [found[a] for a in IDEA_ASPECTS if a in found]
    for aspect in ASPECTS:
        lists += [_collection_list(c, aspect, new, allowed, negatives, gate, cfg, (weights or {}).get((c.key, aspect)))
                  for c in collections if len(c.ids)]
    return merge(lists, cfg.max_items)
