"""Aspect vectors of papers and queries, and the aspect-conditioned score.

Navigating Ideation Space (problem / method / findings sub-spaces of one paper space) built the
cheap way: every sentence of an abstract is encoded once (discovery.encoder); the segmenter
labels the sentences from those same vectors; an aspect's vector is the L2-normalised mean of
its sentences' vectors. A paper with no sentence of some aspect stands in that aspect by its
whole-paper vector, so it is neither lost nor favoured there. The whole-paper vector encodes
"title abstract" in the same encoder call: pooling the sentence vectors instead would save that
pass but loses ~3 MAP points on CSFCube dev (see the README, "CSFCube dev").

Ranking for an aspect follows the lesson of CSFCube (Mysore et al. 2021) and Aspire (Mysore et
al. 2022, "Multi-Vector Models with Textual Guidance for Fine-Grained Scientific Document
Similarity"): whole-paper similarity is a strong base that aspect-to-aspect matching alone does
not beat, so the aspect enters as a weighted term, score = cos(paper) + w[aspect] * cos(aspect).
Ranking a given pool adds BM25 over that pool (lexical_term): cos(paper) + w'[aspect] *
cos(aspect) + l * BM25 on the cosines' scale, the usual dense + lexical fusion.

API for the indexer and search:
    embed_papers([(title, abstract), ...]) -> Embedded(sentences, labels, vectors{space: (n, 384)})
    query_vectors(title, abstract) -> {space: (384,)}
    apply_heads({space: vectors}) -> the same in the indexed spaces: an aspect vector pooled
        elsewhere (an idea's fields) must pass through it to be comparable with the index
    score(whole_sim, aspect_sim, facet[, lexical]) and space_score(sims, view) (search.ScoreFn)
    Ranker().rank(query, candidates, facet) -> ids, best first (the `rank` command and eval),
        scored with the candidates' BM25 over the pool (pool_score)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discovery import ASPECTS, SPACES, encoder
from discovery.lexical import pool_scores
from discovery.sentences import split_sentences

HEADS_WEIGHTS = Path(__file__).resolve().parent / "weights" / "aspects.safetensors"  # python -m discovery.train.aspects


@dataclass
class AspectConfig:
    # weight of the aspect cosine added to the whole-paper cosine, tuned on CSFCube dev
    # (python -m discovery.bench.csfcube --sweep, grid 0-2); 0 would be whole-paper retrieval.
    # One shared value, so one tuned knob: 0.25 with the product's segmenter (0.5-0.75 with
    # CSFCube's own sentence labels: the noisier the labels, the less the aspect term helps).
    # This is the dense-only score (the search's FAISS stage, where BM25 enters later by RRF).
    weights: dict[str, float] = field(default_factory=lambda: {
        "problem": 0.25, "method": 0.25, "findings": 0.25})
    # the score when the candidates' BM25 is at hand (ranking a given pool: `discovery rank`):
    # BM25 carries the exact terms (method names, datasets) that mean-pooled vectors blur, and
    # with it in, a larger aspect weight pays. Tuned together on CSFCube dev (grid 0-0.5 by
    # 0-0.75): 0.5 and 0.3 lift every facet over whole-abstract MiniLM by 2.1-3.8 MAP; weights
    # chosen per facet lost under leave-one-query-out (42.0 against 43.4 MAP), so they are shared
    fused_weights: dict[str, float] = field(default_factory=lambda: {
        "problem": 0.5, "method": 0.5, "findings": 0.5})
    lexical: float = 0.3
    # aspects mapped by the contrastive heads of discovery/train/aspects.py: kept only where they beat the
    # untrained space on CSFCube dev with the product's segmenter (findings +0.9 MAP; problem
    # and method lost 1.0 and 0.3)
    heads: tuple[str, ...] = ("findings",)
    whole_text: str = "abstract"  # paper vector: "title abstract" encoded whole; "sentences" =
    # mean of the sentence vectors (half the encoder work, but 3 MAP points lower on CSFCube dev)


CONFIG = AspectConfig()


@dataclass
class Segmentation:
    sentences: list[str]
    labels: list[str]  # problem | method | findings | other, one per sentence

    def text(self, aspect: str) -> str:
        return " ".join(s for s, a in zip(self.sentences, self.labels) if a == aspect)


@dataclass
class Embedded:
    sentences: list[list[str]]
    labels: list[list[str]]
    vectors: dict[str, np.ndarray]  # space -> (n, DIM), L2-normalised rows

    def segmentations(self) -> list[list[dict[str, str]]]:
        """Per paper, [{"text", "aspect"}] per sentence: the form the site and the index store."""
        return [[{"text": s, "aspect": a} for s, a in zip(sents, labels)]
                for sents, labels in zip(self.sentences, self.labels)]


def pooled(vectors: np.ndarray) -> np.ndarray:
    """L2-normalised mean: the vector of a group of sentences."""
    mean = vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)


def _sentences(title: str, abstract: str) -> list[str]:
    # an abstract-less record is indexed by its title, as one sentence
    return split_sentences(abstract) or [title.strip() or abstract.strip()]


def _segmenter():
    """segmenter.default_segmenter(), imported when first needed (it loads torch)."""
    from discovery.segmenter import default_segmenter

    return default_segmenter()


def _encode(items: list[tuple[str, str]], with_whole: bool):
    """Sentences of each paper, their vectors and, if asked, the whole-text vectors: one
    encoder call, so that length sorting batches all texts together."""
    sentences = [_sentences(t, a) for t, a in items]
    wholes = [f"{t} {a}".strip() for t, a in items] if with_whole else []
    flat = encoder.encode(wholes + [s for group in sentences for s in group])
    bounds = np.cumsum([len(wholes)] + [len(g) for g in sentences])
    sent_vecs = [flat[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])]
    return sentences, sent_vecs, flat[:len(wholes)]


def segment(items: list[tuple[str, str]], segmenter=None) -> list[Segmentation]:
    """(title, abstract) -> sentences and their aspect labels."""
    sentences, sent_vecs, _ = _encode(items, with_whole=False)
    labels = (segmenter or _segmenter()).label_many(sentences, sent_vecs)
    return [Segmentation(s, lab) for s, lab in zip(sentences, labels)]


def aspect_vectors(sent_vecs: np.ndarray, labels: list[str], paper: np.ndarray) -> dict[str, np.ndarray]:
    """Pooled sentences per aspect; the paper vector where the paper has none of an aspect."""
    return {a: pooled(sent_vecs[[i for i, lab in enumerate(labels) if lab == a]])
            if a in labels else paper for a in ASPECTS}


def load_heads(path: Path = HEADS_WEIGHTS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """aspect -> (weight (d, d), bias (d,)) as float32 numpy: applying a head is one matmul."""
    from safetensors.numpy import load_file

    t = load_file(str(path))
    return {a: (t[f"{a}.weight"].astype(np.float32), t[f"{a}.bias"].astype(np.float32))
            for a in ASPECTS if f"{a}.weight" in t}


@functools.lru_cache(maxsize=1)
def _trained_heads() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return load_heads(HEADS_WEIGHTS) if HEADS_WEIGHTS.exists() else {}


def apply_heads(vectors: dict[str, np.ndarray], cfg: AspectConfig = CONFIG) -> dict[str, np.ndarray]:
    """Map each aspect's vectors (n, DIM) into its trained space, where cfg asks for it."""
    heads = _trained_heads()
    out = dict(vectors)
    for a in cfg.heads:
        if a in heads and a in out:
            weight, bias = heads[a]
            mapped = np.atleast_2d(out[a]) @ weight.T + bias
            mapped /= np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-9)
            out[a] = mapped.reshape(out[a].shape).astype(np.float32)
    return out


def embed_papers(items: list[tuple[str, str]], segmenter=None, cfg: AspectConfig = CONFIG) -> Embedded:
    """(title, abstract) pairs -> sentences, labels and one vector per space and paper."""
    e = embed_untrained(items, segmenter, cfg)
    return Embedded(e.sentences, e.labels, apply_heads(e.vectors, cfg))


def embed_untrained(items: list[tuple[str, str]], segmenter=None, cfg: AspectConfig = CONFIG) -> Embedded:
    """embed_papers() before the aspect heads: pooled vectors in the encoder's own space."""
    if not items:
        return Embedded([], [], {s: np.zeros((0, encoder.DIM), np.float32) for s in SPACES})
    sentences, sent_vecs, wholes = _encode(items, with_whole=cfg.whole_text == "abstract")
    labels = (segmenter or _segmenter()).label_many(sentences, sent_vecs)
    paper = wholes if len(wholes) else np.stack([pooled(v) for v in sent_vecs])
    per_paper = [aspect_vectors(v, lab, p) for v, lab, p in zip(sent_vecs, labels, paper)]
    vectors = {"paper": paper} | {a: np.stack([d[a] for d in per_paper]) for a in ASPECTS}
    return Embedded(sentences, labels, vectors)


def query_vectors(title: str, abstract: str, segmenter=None) -> dict[str, np.ndarray]:
    """A query paper (or an idea written as an abstract) embedded like a corpus paper."""
    e = embed_papers([(title, abstract)], segmenter)
    return {s: v[0] for s, v in e.vectors.items()}


def score(whole_sim: np.ndarray, aspect_sim: np.ndarray | None, facet: str,
          cfg: AspectConfig = CONFIG, lexical: np.ndarray | None = None) -> np.ndarray:
    """Aspect-conditioned score from cosines in the paper space and in the facet's space, and,
    when the candidates' BM25 scores are given, the lexical term on top."""
    if lexical is None:
        return whole_sim if facet == "all" or aspect_sim is None else whole_sim + cfg.weights[facet] * aspect_sim
    fused = whole_sim + cfg.lexical * lexical_term(whole_sim, lexical)
    return fused if facet == "all" or aspect_sim is None else fused + cfg.fused_weights[facet] * aspect_sim


def lexical_term(whole_sim: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """BM25 z-scored within the pool, then put on the spread of the pool's whole-paper cosines:
    raw BM25 grows with the query's length, so only its order within the pool is comparable,
    and on the cosines' scale the weight means the same for a pool of 5 papers or of 500."""
    lexical = np.asarray(lexical, np.float64)
    spread = float(lexical.std())
    if len(lexical) < 2 or spread == 0.0:
        return np.zeros(len(lexical))
    return float(np.std(whole_sim)) * (lexical - lexical.mean()) / spread


def space_score(sims: dict[str, np.ndarray], view: str, cfg: AspectConfig = CONFIG) -> np.ndarray:
    """score() in search.ScoreFn form: sims holds the candidates' cosine in every space."""
    return score(sims["paper"], None if view == "all" else sims[view], view, cfg)


class Ranker:
    """Ranks candidate papers against a query paper for one facet; keeps every embedded
    paper by id (untrained vectors, heads applied per call, so configs can be compared), so a
    candidate that comes back in a later request is not encoded again."""

    def __init__(self, segmenter=None, cfg: AspectConfig = CONFIG):
        self.segmenter, self.cfg = segmenter, cfg
        self.cache: dict[object, dict[str, np.ndarray]] = {}

    def _embed(self, papers: dict[object, tuple[str, str]]) -> None:
        todo = [k for k in papers if k not in self.cache]
        if todo:
            e = embed_untrained([papers[k] for k in todo], self.segmenter, self.cfg)
            for i, k in enumerate(todo):
                self.cache[k] = {s: e.vectors[s][i] for s in SPACES}

    def similarities(self, query: tuple[str, str], candidates: dict[object, tuple[str, str]],
                     cfg: AspectConfig | None = None) -> dict[str, np.ndarray]:
        """Cosine of each candidate to the query in every space, in candidate order."""
        cfg = cfg or self.cfg
        q = apply_heads(embed_untrained([query], self.segmenter, cfg).vectors, cfg)
        self._embed(candidates)
        c = apply_heads({s: np.stack([self.cache[k][s] for k in candidates]) for s in SPACES}, cfg)
        return {s: c[s] @ q[s][0] for s in SPACES}

    def similarities_and_lexical(self, query: tuple[str, str], candidates: dict[object, tuple[str, str]],
                                 cfg: AspectConfig | None = None) -> dict[str, np.ndarray]:
        """similarities() plus "lexical": BM25 of the query's text over the candidates alone."""
        lexical = pool_scores(" ".join(query), [" ".join(candidates[k]) for k in candidates])
        return self.similarities(query, candidates, cfg) | {"lexical": lexical}

    def rank(self, query: tuple[str, str], candidates: dict[object, tuple[str, str]], facet: str) -> list:
        ids = list(candidates)
        scores = pool_score(self.similarities_and_lexical(query, candidates), facet, self.cfg)
        return [ids[i] for i in np.argsort(-scores, kind="stable")]


def pool_score(sims: dict[str, np.ndarray], facet: str, cfg: AspectConfig = CONFIG) -> np.ndarray:
    """score() of a given pool: sims from Ranker.similarities_and_lexical."""
    return score(sims["paper"], None if facet == "all" else sims[facet], facet, cfg, lexical=sims["lexical"])
